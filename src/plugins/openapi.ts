import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

/**
 * Collects every route's schemas into an OpenAPI 3 document (`app.swagger()`). Registered before the
 * routes; nothing in it depends on the configuration, so every instance serves the same document.
 */
async function openapiPlugin(app: FastifyInstance) {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'cf-signer',
        version,
        description: 'Issues Amazon CloudFront signed URLs, signed cookies and RTMP signed stream names to JWT-authenticated callers, and proxies the CloudFront admin API.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // Shared schemas keep their $id as their name: components.schemas.ErrorResponse, not def-0.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  })
}

export default fp(openapiPlugin, { name: 'openapi' })
