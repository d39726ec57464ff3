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
 * off: one line is the largest cost the service adds to a request). It carries the request id, method, redacted URL,
 * route pattern, status, response time in ms, the caller's sub once authenticated, and what the
 * route put in `request.logSummary` (its message replaces 'request completed').
 */
async function requestLogPlugin(app: FastifyInstance) {
  app.decorateRequest('logSummary', null)
  // One logger made here, not the request's child (a fresh logger a request); without path redaction,
  // as its fields are never credentials: redactUrl hides the URL's, and route facts are names, IDs,
  // counts and times. Every other line keeps the redaction (README, Performance).
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
