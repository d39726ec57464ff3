import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { toErrorResponse, withErrors } from '../../../http/error-response.js'
import { appError } from '../../../http/errors.js'
import type { Issued, UrlAnswer } from '../../../issuing/issuer.js'
import { answerFacts, signingRoute } from '../signing-route.js'
import {
  SignedUrlBatchBodySchema,
  SignedUrlBatchRequestSchema,
  SignedUrlBatchSchema,
  SignedUrlBodySchema,
  SignedUrlRequestSchema,
  SignedUrlSchema,
  type SignedUrlBody,
} from './schemas.js'

const checkItem = TypeCompiler.Compile(SignedUrlBodySchema)

/** A batch item as a request, typed strictly as a single request's body is ("60" is no integer), so an item signs alike. */
function parseItem(raw: unknown, index: number): SignedUrlBody {
  if (checkItem.Check(raw)) return raw
  const first = checkItem.Errors(raw).First()
  throw appError('VALIDATION_ERROR', `items/${index}${first?.path ?? ''} ${first?.message ?? 'is invalid'}`)
}

type ItemError = { error: { statusCode: number; code: string; message: string } }

/** A batch's log line names at most this many grant IDs (the first signed items'); the answer has them all. */
export const BATCH_LOGGED_GRANT_IDS = 100

/** What a batch signed, for its request's log line: the facts a single request logs, gathered (the first grant IDs), and the items' error codes. */
function summariseBatch(results: ReadonlyArray<Issued<UrlAnswer> | { failure: unknown }>, items: ReadonlyArray<UrlAnswer | ItemError>) {
  const distributions = new Set<string>()
  const keyIds = new Set<string>()
  const policies = new Set<string>()
  const grantIds: string[] = []
  const errors: Record<string, number> = {}
  let signed = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < results.length; i++) {
    const result = results[i]
    const item = items[i]
    if ('error' in item) {
      errors[item.error.code] = (errors[item.error.code] ?? 0) + 1
      continue
    }
    signed++
    distributions.add((result as Issued<UrlAnswer>).distribution.name)
    keyIds.add(item.keyId)
    policies.add(item.policy)
    if (grantIds.length < BATCH_LOGGED_GRANT_IDS) grantIds.push(item.grantId)
    min = Math.min(min, item.expires)
    max = Math.max(max, item.expires)
  }
  return {
    signed,
    failed: results.length - signed,
    errors,
    distributions: [...distributions],
    keyIds: [...keyIds],
    policies: [...policies],
    grantIds,
    expires: signed === 0 ? undefined : { min, max },
  }
}

/** Signed URLs, one or a batch; the log line says what was signed, never the signed URL (a bearer credential). */
export async function signedUrlRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post(
    '/signed-urls',
    signingRoute(app, { summary: 'Sign one URL', tag: 'signing', documentedBody: SignedUrlRequestSchema }, { operationId: 'createSignedUrl', body: SignedUrlBodySchema, response: withErrors({ 200: SignedUrlSchema }) }),
    async (request) => {
      const issued = await app.issuer.issueUrl(request.body, request)
      request.logSummary = { message: 'signed url', facts: answerFacts(issued) }
      return issued.answer
    },
  )

  app.post(
    '/signed-urls/batch',
    signingRoute(
      app,
      { summary: 'Sign up to 1000 URLs; each item succeeds or fails on its own', tag: 'signing', documentedBody: SignedUrlBatchRequestSchema },
      { operationId: 'createSignedUrlBatch', body: SignedUrlBatchBodySchema, response: withErrors({ 200: SignedUrlBatchSchema }) },
    ),
    async (request) => {
      const results = await app.issuer.issueUrls(request.body.items, request, parseItem)
      const items = results.map((result): UrlAnswer | ItemError => {
        if (!('failure' in result)) return result.answer
        const { statusCode, code, message } = toErrorResponse(result.failure)
        return { error: { statusCode, code, message } }
      })
      // One summary per batch, not a line per item: a log line costs more than planning a URL (README, Performance).
      request.logSummary = { message: 'signed url batch', facts: summariseBatch(results, items) }
      return { items }
    },
  )
}
