import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { redactUrl } from '../http/logging.js'

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
  // The line is written by one logger made here, not by the request's own child logger: a child's
  // first line costs several microseconds more (a fresh logger object each request). It is made of
  // named fields whose values are never credentials (redactUrl replaces the URL's secret query values
  // and any token or signature elsewhere in it; routes put only names, IDs, counts and times in their
  // facts), so it skips pino's path redaction, which costs as much again; every other line keeps it.
  const requestLines = (app.log as Logger).child({}, { redact: { paths: [] } })
  app.addHook('onResponse', (request, reply, done) => {
    if (requestLines.isLevelEnabled('info')) {
      const summary = request.logSummary
      requestLines.info(
        {
          reqId: request.id,
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
    }
    done()
  })
}

export default fp(requestLogPlugin, { name: 'request-log' })
