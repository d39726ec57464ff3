import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { planSignedUrl } from '../../../grants/url.js'
import { buildSignedUrl } from '../../../signing/sign.js'
import { appError } from '../../../errors.js'
import { toErrorResponse, withErrors } from '../../../plugins/errors.js'
import { grantContext, grantFields, signPlan } from '../grant-context.js'
import {
  SignedUrlBatchBodySchema,
  SignedUrlBatchSchema,
  SignedUrlBodySchema,
  SignedUrlSchema,
  type SignedUrl,
  type SignedUrlBody,
} from './schemas.js'

const checkItem = TypeCompiler.Compile(SignedUrlBodySchema)

/** What a batch signed, for its request's log line: the facts a single request logs, gathered, and the items' error codes. */
function summariseBatch(results: Array<{ signed: SignedUrl; distribution: string } | { error: { code: string } }>) {
  const distributions = new Set<string>()
  const keyIds = new Set<string>()
  const policies = new Set<string>()
  const errors: Record<string, number> = {}
  let signed = 0
  let min = Infinity
  let max = -Infinity
  for (const result of results) {
    if ('error' in result) {
      errors[result.error.code] = (errors[result.error.code] ?? 0) + 1
      continue
    }
    signed++
    distributions.add(result.distribution)
    keyIds.add(result.signed.keyId)
    policies.add(result.signed.policy)
    min = Math.min(min, result.signed.expires)
    max = Math.max(max, result.signed.expires)
  }
  return {
    signed,
    failed: results.length - signed,
    errors,
    distributions: [...distributions],
    keyIds: [...keyIds],
    policies: [...policies],
    expires: signed === 0 ? undefined : { min, max },
  }
}

export async function signingRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  /** Plans and signs one URL; the route's log line says what was signed (never the signed URL itself: it is a bearer credential). */
  async function signUrl(request: FastifyRequest, body: SignedUrlBody): Promise<{ signed: SignedUrl; distribution: string }> {
    const plan = planSignedUrl(body, grantContext(app, request))
    const grant = await signPlan(app, plan, body)
    return { signed: { url: buildSignedUrl(plan.url, grant), ...grantFields(grant) }, distribution: plan.distribution.name }
  }

  app.post(
    '/signed-urls',
    {
      onRequest: app.authenticate(['sign']),
      config: { rateLimitGroup: 'sign' },
      schema: {
        summary: 'Sign one URL',
        tags: ['signing'],
        security: [{ bearerAuth: [] }],
        body: SignedUrlBodySchema,
        response: withErrors({ 200: SignedUrlSchema }),
      },
    },
    async (request) => {
      const { signed, distribution } = await signUrl(request, request.body)
      request.logSummary = { message: 'signed url', facts: { distribution, keyId: signed.keyId, policy: signed.policy, expires: signed.expires } }
      return signed
    },
  )

  app.post(
    '/signed-urls/batch',
    {
      onRequest: app.authenticate(['sign']),
      config: { rateLimitGroup: 'sign' },
      schema: {
        summary: 'Sign up to 1000 URLs; each item succeeds or fails on its own',
        tags: ['signing'],
        security: [{ bearerAuth: [] }],
        body: SignedUrlBatchBodySchema,
        response: withErrors({ 200: SignedUrlBatchSchema }),
      },
    },
    async (request) => {
      const results = await Promise.all(
        request.body.items.map(async (raw, index) => {
          try {
            // Typed strictly, as a single request's body is ("60" is no integer), so an item signs alike.
            if (!checkItem.Check(raw)) {
              const first = checkItem.Errors(raw).First()
              throw appError('VALIDATION_ERROR', `items/${index}${first?.path ?? ''} ${first?.message ?? 'is invalid'}`)
            }
            return await signUrl(request, raw)
          } catch (err) {
            const { statusCode, code, message } = toErrorResponse(err)
            return { error: { statusCode, code, message } }
          }
        }),
      )
      // One summary per batch, not a line per item: a log line costs more than planning a URL (bench/).
      request.logSummary = { message: 'signed url batch', facts: summariseBatch(results) }
      return { items: results.map((result) => ('signed' in result ? result.signed : result)) }
    },
  )
}
