import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { withErrors } from '../../../http/error-response.js'
import { answerFacts, signingRoute } from '../signing-route.js'
import { SignedCookiesBodySchema, SignedCookiesSchema } from './schemas.js'

/** Signed cookies for a folder of media; never logged. */
export async function signedCookieRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/signed-cookies',
    signingRoute(
      app,
      { summary: 'Sign cookies for a folder of media (HLS/DASH); optionally set them', tag: 'playback' },
      { operationId: 'createSignedCookies', body: SignedCookiesBodySchema, response: withErrors({ 200: SignedCookiesSchema }) },
    ),
    async (request, reply) => {
      const issued = await app.issuer.issueCookies(request.body, request)
      if (issued.setCookie !== undefined) reply.header('set-cookie', issued.setCookie)
      request.logSummary = { message: 'signed cookies', facts: { ...answerFacts(issued), setCookies: request.body.setCookies === true } }
      return issued.answer
    },
  )
}
