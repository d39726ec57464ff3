import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { appError } from '../../http/errors.js'
import { withErrors } from '../../http/error-response.js'

/**
 * Prometheus scrape endpoint, without a token (keep it off the public ingress). Registered even
 * when `metrics.enabled` is false, answering 404, so the OpenAPI document is the same everywhere.
 */
export async function metricsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { registry } = app.metrics
  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        security: [],
        summary: 'Prometheus metrics (text exposition format); 404 NOT_FOUND when metrics.enabled is false',
        tags: ['ops'],
        response: withErrors({
          200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Type.String({ maxLength: 16 * 1024 * 1024 }) } } },
        }),
      },
    },
    async (_request, reply) => {
      if (!app.config.metrics.enabled) throw appError('NOT_FOUND', 'metrics are disabled (metrics.enabled: false)')
      return reply.type(registry.contentType).send(await registry.metrics())
    },
  )
}
