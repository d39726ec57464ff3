import type { FastifyInstance } from 'fastify'
import type { Scope } from '../../auth/caller.js'

/**
 * The options every signing route shares: the caller's token and scope checked before the body is
 * read, the `sign` rate-limit budget, and the OpenAPI summary, tag and bearer security; `schema`
 * adds the route's own body or query and responses.
 */
export function signingRoute<S extends object>(
  app: FastifyInstance,
  route: { summary: string; tag: 'signing' | 'playback'; scopes?: readonly Scope[]; allowQueryToken?: boolean },
  schema: S,
) {
  return {
    onRequest: app.authenticate(route.scopes ?? ['sign'], { allowQueryToken: route.allowQueryToken }),
    config: { rateLimitGroup: 'sign' as const },
    schema: { summary: route.summary, tags: [route.tag], security: [{ bearerAuth: [] }], ...schema },
  }
}
