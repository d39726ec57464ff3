import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { withErrors } from '../../../http/error-response.js'
import { signingRoute } from '../signing-route.js'
import { PlaybackQuerySchema, PlaybackRedirectSchema } from './schemas.js'

/** Player redirects to a freshly signed URL; the URL and the query token are never logged. */
export async function playbackRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get(
    '/playback',
    signingRoute(
      app,
      // Players that cannot send headers pass the token as access_token, on this route only.
      { summary: 'Redirect a player to a freshly signed URL', tag: 'playback', allowQueryToken: true },
      { querystring: PlaybackQuerySchema, response: withErrors({ 302: PlaybackRedirectSchema }) },
    ),
    async (request, reply) => {
      const { url, signed, distribution } = await app.issuer.issuePlayback(request.query, request)
      request.logSummary = { message: 'playback redirect', facts: { distribution: distribution.name, keyId: signed.keyId, policy: signed.policy.type, expires: signed.policy.conditions.expires } }
      // Also set for every answer by the http-security plugin; the redirect's contract says so on its own.
      return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(url, 302)
    },
  )
}
