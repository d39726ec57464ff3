import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

declare module 'fastify' {
  interface FastifyInstance {
    /** Set when shutdown begins: /readyz answers 503 so load balancers stop sending traffic. */
    draining: boolean
  }
}

const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
  reasons: Type.Array(Type.String()),
  keys: Type.Object({ activeKeyId: Type.Union([Type.String(), Type.Null()]), loaded: Type.Integer() }),
})

/** Liveness and readiness: unauthenticated, for the platform's probes. */
export async function opsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.decorate('draining', false)

  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process answers', tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: a usable active key and a valid configuration are loaded', tags: ['ops'], response: { 200: ReadinessSchema, 503: ReadinessSchema } } },
    async (_request, reply) => {
      const reasons: string[] = []
      if (app.draining) reasons.push('shutting down')
      const active = app.keyStore.active()
      const body = {
        status: reasons.length === 0 ? ('ready' as const) : ('not-ready' as const),
        reasons,
        keys: { activeKeyId: active?.id ?? null, loaded: app.keyStore.list().length },
      }
      return reply.status(reasons.length === 0 ? 200 : 503).send(body)
    },
  )
}
