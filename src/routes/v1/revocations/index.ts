import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { hashSubject } from '../../../edge/token.js'
import type { EdgeTarget } from '../../../edge/revocations.js'
import { appError, type CodedError } from '../../../http/errors.js'
import { toErrorResponse, withErrors } from '../../../http/error-response.js'
import { adminRoute, auditResource } from '../admin/common.js'
import { CreatedRevocationSchema, RevocationBodySchema, RevocationListSchema, RevocationsQuerySchema } from './schemas.js'

export const PROPAGATION_NOTE =
  'Written to the KeyValueStore of each distribution listed; CloudFront carries a change to every edge location within seconds, typically, not at once: a request meanwhile may still pass.'

/**
 * `/v1/revocations`: take back edge-layer grants before they expire, by grant ID or by subject, through the admin
 * API's scopes, rate limit and audit line.
 */
export async function revocationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['admin: revocations']
  // adminRoute's audit writer keeps its facts here (as under /v1/admin).
  app.decorateRequest('adminAudit', null)
  app.decorateRequest('adminAccount', null)
  // After authentication, before the body is validated: no AWS is said first, as under /v1/admin.
  app.addHook('preValidation', async () => {
    if (!app.aws.configured) app.aws.resolve(undefined)
  })

  app.post(
    '/revocations',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'createRevocation',
        summary: 'Revoke a grant, or every grant of a subject, at the edge',
        description:
          "Writes `revoked:g:<grantId>` or `revoked:s:<hash of sub>` to the KeyValueStore of each edge distribution (the one named, else every one with edge: true); the viewer-request function then answers 403 (x-edge-deny: revoked-grant or revoked-sub). Revoking a sub again moves revokedAt forward; revoking a grant again keeps its revokedAt and extends removeAfter. With several distributions, every one is tried: a failure answers the first failure's code with details.revokedIn and details.failedIn, and sending the same request again is safe. The audit line names `grant:<id>` or `sub:<hash>`, never the raw sub.",
        tags,
        body: RevocationBodySchema,
        response: withErrors({ 201: CreatedRevocationSchema }),
      },
      'revocation.create',
    ),
    async (request, reply) => {
      const { grantId, sub, distribution, reason } = request.body
      if ((grantId === undefined) === (sub === undefined)) throw appError('VALIDATION_ERROR', 'body must have either grantId (one grant) or sub (every grant of a subject)')
      // The hash, not the sub: user IDs stay out of the store and the logs (the edge token carries the same hash).
      const subject = grantId !== undefined ? { kind: 'grant' as const, id: grantId } : { kind: 'sub' as const, id: hashSubject(sub!) }
      auditResource(request, `${subject.kind}:${subject.id}`)
      const targets = app.revocations.targets(distribution)
      request.adminAccount = singleAccountOf(targets) ?? null
      const { revocation, revokedIn, failures } = await app.revocations.revoke(targets, subject, reason)
      if (failures.length > 0) {
        const error = failures[0]!.error
        const body = toErrorResponse(error)
        request.adminAudit = { ...request.adminAudit, code: body.code }
        if (body.statusCode >= 500) request.log.error({ err: error, failedIn: failures.map((f) => f.name) }, 'revocation failed')
        else request.log.info({ code: body.code, statusCode: body.statusCode, sub: request.caller?.sub }, 'request refused')
        const retryAfter = (error as CodedError).details?.retryAfterSeconds
        if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
        const failedIn = failures.map((failure) => failure.name)
        const message = `${revokedIn.length > 0 ? `revoked in ${revokedIn.join(', ')}; ` : ''}not revoked in ${failures.map((f) => `${f.name} (${toErrorResponse(f.error).code})`).join(', ')}: ${body.message}`
        return reply.status(body.statusCode).send({ ...body, message, details: { revokedIn, failedIn } })
      }
      reply.status(201)
      return { ...revocation, propagation: PROPAGATION_NOTE }
    },
  )

  app.get(
    '/revocations',
    adminRoute(app, 'admin:read', {
      operationId: 'listRevocations',
      summary: 'List the active revocations of the edge distributions',
      description:
        'Every revocation whose removeAfter has not passed, merged across the distributions (earliest revokedAt, latest removeAfter), at most 10,000 (truncated says when there were more). Entries already due are deleted on the way. Distributions whose store is not deployed yet are named in notDeployed (with ?distribution=, that is a 409 EDGE_NOT_DEPLOYED).',
      tags,
      querystring: RevocationsQuerySchema,
      response: withErrors({ 200: RevocationListSchema }),
    }),
    async (request) => {
      const named = request.query.distribution
      // A distribution asked for by name must have its store; across all of them, a missing one is only named.
      return app.revocations.list(app.revocations.targets(named), { requireDeployed: named !== undefined })
    },
  )
}

/** The account the audit line names: the targets' one when they share it (else the default account is named). */
function singleAccountOf(targets: readonly EdgeTarget[]) {
  const names = new Set(targets.map((target) => target.account.name))
  return names.size === 1 ? targets[0]!.account : undefined
}
