import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { appError } from '../http/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by server.ts when shutdown begins: /readyz answers 503 and every answer closes its connection. */
    draining: boolean
  }
}

/**
 * Shutdown as the clients see it (server.ts sets `draining`, waits, then closes the app):
 * - while draining, every answer carries `Connection: close`, so each keep-alive connection that is
 *   still used ends cleanly after a full answer instead of being cut while a request is on its way;
 * - once the app closes, Node stops accepting and closes the idle connections; a request that still
 *   arrives on an open one gets `503 SHUTTING_DOWN` in the usual shape (Fastify's own 503 is off:
 *   `return503OnClosing: false` in app.ts), and requests in flight finish.
 */
async function drainPlugin(app: FastifyInstance) {
  // On the root instance (fastify-plugin): a decorator of an encapsulated scope would be a copy.
  app.decorate('draining', false)
  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  app.addHook('onRequest', (_request, _reply, done) => {
    if (closing) return done(appError('SHUTTING_DOWN', 'the service is shutting down: send the request again'))
    done()
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (app.draining) reply.header('connection', 'close')
    done(null, payload)
  })
}

export default fp(drainPlugin, { name: 'drain' })
