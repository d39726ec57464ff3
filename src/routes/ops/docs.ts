import type { FastifyInstance } from 'fastify'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { appError } from '../../http/errors.js'

// Swagger UI runs only its own scripts and fetches the document; it injects styles at run time, and
// inline styles cannot run code, so styles alone are allowed inline.
const DOCS_CSP = {
  'default-src': "'none'",
  'base-uri': "'none'",
  'connect-src': "'self'",
  'font-src': "'self' data:",
  'form-action': "'none'",
  'frame-ancestors': "'none'",
  'img-src': "'self' data:",
  'script-src': "'self'",
  'style-src': "'self' 'unsafe-inline'",
}

/**
 * `/openapi.json` and interactive docs at `/docs`, without a token. They stay registered when
 * `docs.enabled` is false (answering 404 like any unknown path), so the route set never depends on
 * the configuration.
 */
export async function docsRoutes(app: FastifyInstance) {
  const { enabled } = app.config.docs
  app.addHook('onRequest', async (request) => {
    if (!enabled) throw appError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)
  })

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP })
}
