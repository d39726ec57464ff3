import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCors from '@fastify/cors'
import fastifyHelmet from '@fastify/helmet'

/** Response headers a browser frontend may read besides the safelisted ones. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

/**
 * Security headers for a JSON API (nothing may be framed, embedded or cached, scripts never run),
 * and CORS for the configured browser origins only (off when `cors.origins` is empty). /docs sets
 * its own, looser CSP (src/routes/ops/docs.ts).
 */
async function httpSecurityPlugin(app: FastifyInstance) {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  })
  // Answers carry bearer credentials (signed URLs, cookies): no browser or proxy may keep them.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
  })

  const { origins, credentials, maxAgeSeconds } = app.config.cors
  if (origins.length > 0) {
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
