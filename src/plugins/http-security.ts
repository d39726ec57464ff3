import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCors from '@fastify/cors'
import { appError } from '../http/errors.js'
import { API_SECURITY_HEADERS } from '../http/security-headers.js'

/** Response headers a browser frontend may read besides the safelisted ones. */
const EXPOSED_HEADERS = ['x-request-id', 'grant-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

/**
 * Security headers for a JSON API (nothing may be framed, embedded or cached, scripts never run),
 * and CORS for the configured browser origins only (off when `cors.origins` is empty). /docs sets
 * its own, looser CSP (src/routes/ops/docs.ts). Answers written outside the routes (a request Node
 * cannot parse, a timeout, an undecodable URL) set the same headers in src/http/error-response.ts.
 */
async function httpSecurityPlugin(app: FastifyInstance) {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(API_SECURITY_HEADERS)
    done()
  })

  const { origins, credentials, maxAgeSeconds } = app.config.cors
  if (origins.length > 0) {
    // Before @fastify/cors, whose own refusal is a text/plain 400 and which answers an unlisted
    // origin's preflight 204: both are refused here with a coded error instead.
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.method !== 'OPTIONS') return done()
      const { origin } = request.headers
      if (origin === undefined || request.headers['access-control-request-method'] === undefined) {
        return done(appError('BAD_REQUEST', 'a CORS preflight needs Origin and Access-Control-Request-Method headers'))
      }
      if (!origins.includes(origin)) return done(appError('FORBIDDEN_ORIGIN', 'this origin may not call the API (cors.origins)'))
      done()
    })
    await app.register(fastifyCors, {
      origin: [...origins],
      credentials,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: maxAgeSeconds,
    })
  }
}

export default fp(httpSecurityPlugin, { name: 'http-security', dependencies: ['config'] })
