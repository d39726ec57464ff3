// What every admin route shares: the account a request acts on, scopes, ETags, idempotency keys,
// paging and the audit line.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, HookHandlerDoneFunction } from 'fastify'
import { Type, type TSchema } from '@sinclair/typebox'
import type { AwsAccount } from '../../../aws/accounts.js'
import { callerReferenceFor, type WaitOptions } from '../../../aws/cloudfront.js'
import { appError } from '../../../http/errors.js'
import { toErrorResponse } from '../../../http/error-response.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** What an admin change's audit line needs beyond the route: the resource it made, the code it failed with. */
    adminAudit: { resourceId?: string; code?: string; written?: boolean } | null
    /** The AWS account this admin request acts on, resolved once before validation. */
    adminAccount: AwsAccount | null
  }
}

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

type AdminSchema<S extends FastifySchema> = S & { operationId: string; summary: string; tags: string[] }

/**
 * Route options every admin route shares: the scope, the admin rate-limit budget, bearer auth. A
 * write route names its audit action: each request to it writes one audit line, refused ones too.
 */
export function adminRoute<S extends FastifySchema>(app: FastifyInstance, scope: 'admin:read', schema: AdminSchema<S>): ReturnType<typeof routeOptions<S>>
export function adminRoute<S extends FastifySchema>(app: FastifyInstance, scope: 'admin:write', schema: AdminSchema<S>, action: string): ReturnType<typeof routeOptions<S>>
export function adminRoute<S extends FastifySchema>(app: FastifyInstance, scope: 'admin:read' | 'admin:write', schema: AdminSchema<S>, action?: string) {
  const options = routeOptions(app, scope, schema)
  return action === undefined ? options : { ...options, onError: recordAuditCode, onSend: createAuditWriter(app, action) }
}

function routeOptions<S extends FastifySchema>(app: FastifyInstance, scope: 'admin:read' | 'admin:write', schema: AdminSchema<S>) {
  return {
    onRequest: app.authenticate([scope]),
    config: { rateLimitGroup: 'admin' as const },
    schema: { security: [{ bearerAuth: [] }], ...schema },
  }
}

/** The audit line names what was made: a created resource's ID (default: the `:id` acted on). */
export function auditResource(request: FastifyRequest, resourceId: string): void {
  request.adminAudit = { ...request.adminAudit, resourceId }
}

function recordAuditCode(request: FastifyRequest, _reply: FastifyReply, error: FastifyError, done: HookHandlerDoneFunction): void {
  request.adminAudit = { ...request.adminAudit, code: toErrorResponse(error).code }
  done()
}

/**
 * Writes the request's audit line as its answer is sent, whatever happened before (refused by
 * authentication, the schema, the account, CloudFront, or a success), and even when the caller has
 * gone (onResponse would not run then): `{audit: true, sub, action, account, resourceId, outcome,
 * statusCode}`, and `code` on failure.
 */
function createAuditWriter(app: FastifyInstance, action: string) {
  return function writeAuditLine(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void {
    const facts = request.adminAudit
    if (facts?.written !== true) {
      request.adminAudit = { ...facts, written: true }
      const failed = reply.statusCode >= 400
      request.log.info(
        {
          audit: true,
          sub: request.caller?.sub,
          action,
          account: auditAccountOf(app, request),
          resourceId: facts?.resourceId ?? (request.params as { id?: string } | undefined)?.id,
          outcome: failed ? 'failure' : 'success',
          statusCode: reply.statusCode,
          code: failed ? facts?.code : undefined,
        },
        'audit',
      )
    }
    done(null, payload)
  }
}

/** The account the request acted on, or the one it named when that is not configured. */
function auditAccountOf(app: FastifyInstance, request: FastifyRequest): string | undefined {
  if (request.adminAccount !== null) return request.adminAccount.name
  // Refused before the account was resolved (authentication): say which one it named.
  const named = (request.query as { account?: unknown } | undefined)?.account
  if (named !== undefined && typeof named !== 'string') return undefined
  try {
    return app.aws.resolve(named).name
  } catch {
    return named
  }
}

/** Resolves the AWS account named by `?account=` (or the default): 503 with no AWS configured, 400 for an unknown name. */
export function resolveAccount(app: FastifyInstance, request: FastifyRequest): void {
  request.adminAccount = app.aws.resolve((request.query as { account?: string } | undefined)?.account)
}

/** The account resolveAccount() found: every admin handler runs after it. */
export function accountOf(request: FastifyRequest): AwsAccount {
  return request.adminAccount!
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
  // Only reached once resolveAccount() found an account, so the aws section is there.
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
 * Answers a created resource: 201 (with its Location when it has a GET route) or 200 for an
 * idempotent replay, with its ETag header; the audit line names it.
 */
export function sendCreated<R extends { id: string; etag?: string }>(request: FastifyRequest, reply: FastifyReply, result: { resource: R; created: boolean }, location?: (id: string) => string): R {
  const { resource, created } = result
  auditResource(request, resource.id)
  setCreated(reply, created, location?.(resource.id))
  setEtag(reply, resource.etag)
  return resource
}
