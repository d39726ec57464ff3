import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { withErrors } from '../../../http/error-response.js'
import { answerFacts, signingRoute } from '../signing-route.js'
import { SignedQueryBodySchema, SignedQuerySchema } from './schemas.js'

/** Signing parameters for a folder of media, appended by the player to each request; never logged. */
export async function signedQueryRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/signed-queries',
    signingRoute(
      app,
      { summary: 'Sign a query string for a folder of media (HLS/DASH) that players append to every request', tag: 'playback' },
      { operationId: 'createSignedQuery', body: SignedQueryBodySchema, response: withErrors({ 200: SignedQuerySchema }) },
    ),
    async (request) => {
      const issued = await app.issuer.issueQuery(request.body, request)
      request.logSummary = { message: 'signed query', facts: answerFacts(issued) }
      return issued.answer
    },
  )
}
