import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { withErrors } from '../../../http/error-response.js'
import { KeyListSchema } from './schemas.js'

/** The loaded signing keys' public halves: what to register in CloudFront. */
export async function keysRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get(
    '/keys',
    {
      onRequest: app.authenticate(['sign', 'admin:read']),
      schema: { operationId: 'listKeys', summary: 'List the loaded signing keys (public parts only)', tags: ['keys'], security: [{ bearerAuth: [] }], response: withErrors({ 200: KeyListSchema }) },
    },
    async () => {
      const activeKeyId = app.keyStore.active().id
      return {
        activeKeyId,
        keys: app.keyStore.list().map((key) => ({
          keyId: key.id,
          algorithm: key.algorithm,
          publicKeyPem: key.publicKeyPem,
          fingerprintSha256: key.fingerprint,
          active: key.id === activeKeyId,
        })),
      }
    },
  )
}
