import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { redactUrl } from '../logging.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** What the route did, for the request's one log line (its message and facts); never a credential. */
    logSummary: { message: string; facts: Record<string, unknown> } | null
  }
}

/**
 * One log line per request, written when the answer has gone (Fastify's own two request lines are
 * off: a log line costs more than planning a URL). It carries the request id, method, redacted URL,
 * route pattern, status, response time in ms, the caller's sub once authenticated, and what the
 * route put in `request.logSummary` (its message replaces 'request completed').
 */
async function requestLogPlugin(app: FastifyInstance) {
  app.decorateRequest('logSummary', null)
  app.addHook('onResponse', (request, reply, done) => {
    const summary = request.logSummary
    request.log.info(
      {
        ...summary?.facts,
        method: request.method,
        url: redactUrl(request.url),
        route: request.routeOptions.url,
        remoteAddress: request.ip,
        sub: request.caller?.sub,
        statusCode: reply.statusCode,
        responseTime: reply.elapsedTime,
      },
      summary?.message ?? 'request completed',
    )
    done()
  })
}

export default fp(requestLogPlugin, { name: 'request-log' })
