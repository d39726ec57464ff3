import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { planSignedCookies, setCookieHeaders } from '../../../grants/cookies.js'
import { resolveDistribution } from '../../../grants/resolve.js'
import { planSignedStream } from '../../../grants/stream.js'
import { planSignedUrl } from '../../../grants/url.js'
import { withErrors } from '../../../plugins/errors.js'
import { buildSignedCookies, buildSignedStream, buildSignedUrl } from '../../../signing/sign.js'
import { grantContext, grantFields, signPlan } from '../grant-context.js'
import {
  PlaybackQuerySchema,
  PlaybackRedirectSchema,
  SignedCookiesBodySchema,
  SignedCookiesSchema,
  SignedStreamBodySchema,
  SignedStreamSchema,
  type SignedCookies,
} from './schemas.js'

/** Signed cookies, RTMP signed stream names and player redirects. Credentials are never logged. */
export async function playbackRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/signed-cookies',
    {
      onRequest: app.authenticate(['sign']),
      config: { rateLimitGroup: 'sign' },
      schema: {
        summary: 'Sign cookies for a folder of media (HLS/DASH); optionally set them',
        tags: ['playback'],
        security: [{ bearerAuth: [] }],
        body: SignedCookiesBodySchema,
        response: withErrors({ 200: SignedCookiesSchema }),
      },
    },
    async (request, reply) => {
      const { body } = request
      const ctx = grantContext(app, request)
      const plan = planSignedCookies(body, ctx)
      const grant = await signPlan(app, plan, body)
      const cookies = buildSignedCookies(grant) as SignedCookies['cookies']
      const { expires } = plan.policy.conditions
      if (body.setCookies) reply.header('set-cookie', setCookieHeaders(cookies, plan.distribution.cookies!, expires - ctx.now))
      request.logSummary = { message: 'signed cookies', facts: { distribution: plan.distribution.name, keyId: grant.keyId, policy: plan.policy.type, expires, setCookies: body.setCookies === true } }
      return { cookies, ...grantFields(grant) }
    },
  )

  app.post(
    '/signed-streams',
    {
      onRequest: app.authenticate(['sign']),
      config: { rateLimitGroup: 'sign' },
      schema: {
        summary: 'Sign an RTMP stream name',
        tags: ['playback'],
        security: [{ bearerAuth: [] }],
        body: SignedStreamBodySchema,
        response: withErrors({ 200: SignedStreamSchema }),
      },
    },
    async (request) => {
      const { body } = request
      const plan = planSignedStream(body, grantContext(app, request))
      const grant = await signPlan(app, plan, body)
      request.logSummary = { message: 'signed stream', facts: { distribution: plan.distribution.name, keyId: grant.keyId, policy: plan.policy.type, expires: plan.policy.conditions.expires } }
      return { streamer: plan.streamer, ...buildSignedStream(plan.name, grant), ...grantFields(grant) }
    },
  )

  app.get(
    '/playback',
    {
      // Players that cannot send headers pass the token as access_token, on this route only.
      onRequest: app.authenticate(['sign'], { allowQueryToken: true }),
      config: { rateLimitGroup: 'sign' },
      schema: {
        summary: 'Redirect a player to a freshly signed URL',
        tags: ['playback'],
        security: [{ bearerAuth: [] }],
        querystring: PlaybackQuerySchema,
        response: withErrors({ 302: PlaybackRedirectSchema }),
      },
    },
    async (request, reply) => {
      const { distribution: name, path } = request.query
      const ctx = grantContext(app, request)
      // The distribution's default lifetime, shortened to the token's maxTtlSeconds: a player cannot choose one here.
      const { defaultTtlSeconds } = resolveDistribution(ctx, name)
      const expiresIn = Math.min(defaultTtlSeconds, request.caller.maxTtlSeconds ?? Infinity)
      const plan = planSignedUrl({ distribution: name, path, expiresIn }, ctx)
      const grant = await signPlan(app, plan, {})
      request.logSummary = { message: 'playback redirect', facts: { distribution: plan.distribution.name, keyId: grant.keyId, policy: plan.policy.type, expires: plan.policy.conditions.expires } }
      // Also set for every answer by the http-security plugin; the redirect's contract says so on its own.
      return reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .redirect(buildSignedUrl(plan.url, grant), 302)
    },
  )
}
