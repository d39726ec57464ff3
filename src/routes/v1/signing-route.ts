import type { FastifyInstance } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import type { Scope } from '../../auth/caller.js'
import type { AnswerFields, Issued } from '../../issuing/issuer.js'

/**
 * The options every signing route shares: the caller's token and scope checked before the body is
 * read, the `sign` rate-limit budget, and the OpenAPI summary, tag and bearer security; `schema`
 * adds the route's operationId (what a generated client calls it), its body or query and responses.
 * `documentedBody` is what the OpenAPI document shows instead of the validated body, when the two differ.
 */
export function signingRoute<S extends { operationId: string }>(
  app: FastifyInstance,
  route: { summary: string; tag: 'signing' | 'playback'; scopes?: readonly Scope[]; allowQueryToken?: boolean; documentedBody?: TSchema },
  schema: S,
) {
  const { documentedBody } = route
  return {
    onRequest: app.authenticate(route.scopes ?? ['sign'], { allowQueryToken: route.allowQueryToken }),
    config: {
      rateLimitGroup: 'sign' as const,
      ...(documentedBody !== undefined && {
        swaggerTransform: ({ schema, url }: { schema: object; url: string }) => ({ schema: { ...schema, body: documentedBody }, url }),
      }),
    },
    schema: { summary: route.summary, tags: [route.tag], security: [{ bearerAuth: [] }], ...schema },
  }
}

/** What a signing route logs of its answer: names, IDs (the grant's, to revoke it) and times, never the credential itself. */
export function answerFacts({ answer, distribution }: Issued<AnswerFields>) {
  return { distribution: distribution.name, grantId: answer.grantId, keyId: answer.keyId, policy: answer.policy, expires: answer.expires }
}
