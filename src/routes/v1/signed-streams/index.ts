import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { withErrors } from '../../../http/error-response.js'
import { answerFacts, signingRoute } from '../signing-route.js'
import { SignedStreamBodySchema, SignedStreamSchema } from './schemas.js'

/** RTMP signed stream names; never logged. */
export async function signedStreamRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/signed-streams',
    signingRoute(app, { summary: 'Sign an RTMP stream name', tag: 'playback' }, { operationId: 'createSignedStream', body: SignedStreamBodySchema, response: withErrors({ 200: SignedStreamSchema }) }),
    async (request) => {
      const issued = await app.issuer.issueStream(request.body, request)
      request.logSummary = { message: 'signed stream', facts: answerFacts(issued) }
      return issued.answer
    },
  )
}
