import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { metricsRoutes } from './metrics.js'

const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
  reasons: Type.Array(Type.String()),
  keys: Type.Object({
    activeKeyId: Type.String(),
    loaded: Type.Integer({ description: 'keys in the set in use' }),
    retired: Type.Integer({ description: 'keys that left the directory and still verify (the inspector)' }),
    loadedAt: Type.String({ format: 'date-time', description: 'when the set in use was loaded (start or last reload)' }),
    lastReloadError: Type.Union([
      Type.Object({ code: Type.String(), message: Type.String(), at: Type.String({ format: 'date-time' }) }),
      Type.Null(),
    ], { description: 'the last reload that skipped a file or kept the previous set; null after a clean reload. Readiness stays 200.' }),
  }),
})

/** Liveness, readiness and metrics: unauthenticated, for the platform's probes and scrapers. */
export async function opsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/healthz',
    { schema: { operationId: 'checkLiveness', summary: 'Liveness: the process answers', tags: ['ops'], security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    { schema: { operationId: 'checkReadiness', security: [], summary: 'Readiness: a usable active key and a valid configuration are loaded', tags: ['ops'], response: { 200: ReadinessSchema, 503: ReadinessSchema } } },
    async (_request, reply) => {
      const reasons: string[] = []
      if (app.draining) reasons.push('shutting down')
      // Tokens cannot be verified before the first set arrives; after that the last good set serves.
      const jwks = app.jwks?.status()
      if (jwks !== undefined && !jwks.fetched) reasons.push(`JWKS not fetched yet${jwks.lastFailure !== undefined ? ` (${jwks.lastFailure.reason})` : ''}`)
      // An active key in KMS signs only while its KMS answers.
      const kms = await app.signer.unreadyReason(app.keyStore.active())
      if (kms !== undefined) reasons.push(kms)
      // A failed key reload is no reason: the last good set still signs, and every replica
      // failing readiness on the same bad secret at once would be an outage.
      const { loadedAtMs, lastReloadError, ...keys } = app.keyStore.status()
      const body = {
        status: reasons.length === 0 ? ('ready' as const) : ('not-ready' as const),
        reasons,
        keys: {
          ...keys,
          loadedAt: new Date(loadedAtMs).toISOString(),
          lastReloadError: lastReloadError && { code: lastReloadError.code, message: lastReloadError.message, at: new Date(lastReloadError.atMs).toISOString() },
        },
      }
      return reply.status(reasons.length === 0 ? 200 : 503).send(body)
    },
  )

  await app.register(metricsRoutes)
}
