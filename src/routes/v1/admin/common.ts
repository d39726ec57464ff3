// What every admin route shares: the account a request acts on, scopes, ETags, idempotency keys,
// paging and the audit line.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify'
import { Type, type TSchema } from '@sinclair/typebox'
import type { AwsAccount } from '../../../aws/accounts.js'
import { callerReferenceFor, type WaitOptions } from '../../../aws/cloudfront.js'
import { appError, CodedError } from '../../../errors.js'

const AccountField = {
  account: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'A configured AWS account (default: aws.defaultAccount)' })),
}

export const AccountQuerySchema = Type.Object(AccountField, { additionalProperties: false })

export const ListQuerySchema = Type.Object(
  {
    ...AccountField,
    marker: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'The nextMarker of the previous page' })),
    maxItems: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size (CloudFront default 100)' })),
  },
  { additionalProperties: false },
)

/** A CloudFront resource ID: distributions and OAIs `E…`, public keys `K…`, key groups UUIDs. */
export const ResourceId = Type.String({ pattern: '^[A-Za-z0-9-]{1,128}$' })
export const IdParamsSchema = Type.Object({ id: ResourceId }, { additionalProperties: false })

export const CreateHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ pattern: '^[\\x21-\\x7E]{1,128}$', description: 'Becomes the CloudFront CallerReference: a retry with the same key never creates a second resource' }),
  ),
})

export const IfMatchHeadersSchema = Type.Object({
  'if-match': Type.Optional(Type.String({ minLength: 1, maxLength: 130, description: 'The ETag the change is based on (default: the current one)' })),
})

export function pageSchema<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextMarker: Type.Optional(Type.String({ description: 'Present when there are more items' })) })
}

/** Route options every admin route shares: the scope, the admin rate-limit budget, bearer auth. */
export function adminRoute<S extends FastifySchema>(app: FastifyInstance, scope: 'admin:read' | 'admin:write', schema: S & { summary: string; tags: string[] }) {
  return {
    onRequest: app.authenticate([scope]),
    config: { rateLimitGroup: 'admin' as const },
    schema: { security: [{ bearerAuth: [] }], ...schema },
  }
}

/** The AWS account named by `?account=` (or the default): 503 with no AWS configured, 400 for an unknown name. */
export function accountOf(app: FastifyInstance, request: FastifyRequest): AwsAccount {
  return app.aws.resolve((request.query as { account?: string } | undefined)?.account)
}

export function callerReferenceOf(request: FastifyRequest): string {
  return callerReferenceFor(request.headers['idempotency-key'] as string | undefined)
}

export function hasIdempotencyKey(request: FastifyRequest): boolean {
  return request.headers['idempotency-key'] !== undefined
}

/** The caller's If-Match as CloudFront wants it: the bare token (quotes and a weak `W/` dropped). */
export function ifMatchOf(request: FastifyRequest): string | undefined {
  const header = request.headers['if-match']
  return typeof header === 'string' ? header.replace(/^W\//, '').replace(/^"(.*)"$/, '$1') : undefined
}

/** The ETag header (quoted, as HTTP has it); the body carries the bare token CloudFront uses. */
export function setEtag(reply: FastifyReply, etag: string | undefined): void {
  if (etag !== undefined && etag !== '') reply.header('etag', `"${etag}"`)
}

/** 201 for a new resource (with its Location when it has a GET route), 200 for an idempotent replay of one. */
export function setCreated(reply: FastifyReply, created: boolean, location?: string): void {
  reply.status(created ? 201 : 200)
  if (created && location !== undefined) reply.header('location', location)
}

/** Wait options from the request and the configuration; more than the configured maximum is a 400. */
export function waitOptionsFor(app: FastifyInstance, timeoutSeconds: number | undefined, signal: AbortSignal): WaitOptions {
  // Only reached once accountOf() found an account, so the aws section is there.
  const wait = app.config.aws!.wait
  if (timeoutSeconds !== undefined && timeoutSeconds > wait.maxTimeoutSeconds) {
    throw appError('VALIDATION_ERROR', `body.timeoutSeconds must be <= ${wait.maxTimeoutSeconds} (aws.wait.maxTimeoutSeconds)`)
  }
  return { timeoutMs: (timeoutSeconds ?? wait.defaultTimeoutSeconds) * 1000, firstDelayMs: wait.firstPollDelayMs, maxDelayMs: wait.maxPollDelayMs, signal }
}

/** Aborts when the caller goes away before the answer is sent (a long wait stops polling). */
export function abortOnDisconnect(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort()
  })
  return controller.signal
}

/**
 * Runs one change and writes its audit line, whatever the outcome:
 * `{audit: true, sub, action, resourceId, account, outcome}` (and the error code on failure).
 */
export async function audited<T>(
  request: FastifyRequest,
  entry: { action: string; account: AwsAccount; resourceId?: string },
  change: () => Promise<T>,
  resourceIdOf?: (result: T) => string | undefined,
): Promise<T> {
  const line = { audit: true, sub: request.caller.sub, action: entry.action, account: entry.account.name }
  try {
    const result = await change()
    request.log.info({ ...line, resourceId: resourceIdOf?.(result) ?? entry.resourceId, outcome: 'success' }, 'audit')
    return result
  } catch (err) {
    const code = err instanceof CodedError ? err.code : 'INTERNAL_ERROR'
    request.log.info({ ...line, resourceId: entry.resourceId, outcome: 'failure', code }, 'audit')
    throw err
  }
}

/**
 * Creates a resource with its audit line and answers it: 201 (with its Location when it has a GET
 * route) or 200 for an idempotent replay, with its ETag header.
 */
export async function sendCreated<R extends { id: string; etag?: string }>(
  request: FastifyRequest,
  reply: FastifyReply,
  entry: { action: string; account: AwsAccount; location?: (id: string) => string },
  create: () => Promise<{ resource: R; created: boolean }>,
): Promise<R> {
  const { resource, created } = await audited(request, entry, create, (result) => result.resource.id)
  setCreated(reply, created, entry.location?.(resource.id))
  setEtag(reply, resource.etag)
  return resource
}
