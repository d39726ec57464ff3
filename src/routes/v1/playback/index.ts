import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { withErrors } from '../../../http/error-response.js'
import { PLAYBACK_REDIRECT_HEADERS } from '../../../http/security-headers.js'
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
      { operationId: 'redirectToPlayback', querystring: PlaybackQuerySchema, response: withErrors({ 302: PlaybackRedirectSchema }) },
    ),
    async (request, reply) => {
      const { url, grantId, signed, distribution } = await app.issuer.issuePlayback(request.query, request)
      request.logSummary = { message: 'playback redirect', facts: { distribution: distribution.name, grantId, keyId: signed.keyId, policy: signed.policy.type, expires: signed.policy.conditions.expires } }
      // The redirect's contract says no-store and no-referrer on its own, and embeds cross-origin (CORP) on this route only.
      // The grant's ID for a player that reports it (to revoke it); the URL itself goes in Location only.
      return reply.headers(PLAYBACK_REDIRECT_HEADERS).header('grant-id', grantId).redirect(url, 302)
    },
  )
}
