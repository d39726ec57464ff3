import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type, type Static } from '@sinclair/typebox'
import { CodedError, statusForCode } from '../errors.js'

export const ErrorResponseSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable code (UPPER_SNAKE; CloudFront codes pass through unchanged).' }),
    error: Type.String(),
    message: Type.String(),
  },
  { $id: 'ErrorResponse', title: 'Error' },
)
export type ErrorResponse = Static<typeof ErrorResponseSchema>

/** Adds the shared error answers to a route's response schemas. */
export function withErrors<T extends Record<number | string, unknown>>(responses: T) {
  return { ...responses, '4xx': Type.Ref(ErrorResponseSchema), '5xx': Type.Ref(ErrorResponseSchema) }
}

// Fastify's own errors, translated at this one point.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_VALIDATION: 'VALIDATION_ERROR',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'BAD_REQUEST',
}

/** A schema failure as one sentence naming the field: `body.expiresIn must be integer`. */
export function describeSchemaError(error: { instancePath: string; message?: string; params: Record<string, unknown> }, dataVar: string): string {
  const field = `${dataVar}${error.instancePath.replaceAll('/', '.')}`
  if (error.params.additionalProperty !== undefined) return `${field} has an unknown field "${String(error.params.additionalProperty)}"`
  if (error.params.missingProperty !== undefined) return `${field}.${String(error.params.missingProperty)} is required`
  return `${field} ${error.message ?? 'is invalid'}`
}

/** Shapes any error into `{statusCode, code, error, message}`; 5xx messages stay generic. */
export function toErrorResponse(err: unknown): ErrorResponse {
  const error = err as FastifyError & { code?: string; statusCode?: number }
  let code: string
  let statusCode: number
  if (err instanceof CodedError) {
    code = err.code
    statusCode = (err as CodedError & { statusCode?: number }).statusCode ?? statusForCode(err.code) ?? 500
  } else if (error.validation !== undefined) {
    code = 'VALIDATION_ERROR'
    statusCode = 400
  } else if (error.code !== undefined && FASTIFY_CODES[error.code] !== undefined) {
    code = FASTIFY_CODES[error.code]
    statusCode = statusForCode(code) ?? 400
  } else if (error.statusCode === 400 && error instanceof SyntaxError) {
    code = 'MALFORMED_JSON'
    statusCode = 400
  } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    statusCode = error.statusCode
    code = statusCode === 404 ? 'NOT_FOUND' : statusCode === 405 ? 'METHOD_NOT_ALLOWED' : statusCode === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST'
  } else {
    statusCode = typeof error.statusCode === 'number' && error.statusCode >= 500 ? error.statusCode : 500
    code = 'INTERNAL_ERROR'
  }
  const message = statusCode >= 500 && code === 'INTERNAL_ERROR' ? 'internal error' : error.message
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

/** Fastify's router errors (an undecodable URL, an oversized parameter) skip hooks and handlers: shaped here too. */
export function sendFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const body = toErrorResponse(err)
  request.log.info({ code: body.code, statusCode: body.statusCode, sub: request.caller?.sub }, 'request refused')
  reply.header('x-request-id', request.id).status(body.statusCode).send(body)
}

async function errorsPlugin(app: FastifyInstance) {
  app.addSchema(ErrorResponseSchema)

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  app.setErrorHandler(async (err, request, reply) => {
    const body = toErrorResponse(err)
    if (body.statusCode >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: body.code, statusCode: body.statusCode, sub: request.caller?.sub }, 'request refused')
    const retryAfter = (err as CodedError).details?.retryAfterSeconds
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
    return reply.status(body.statusCode).send(body)
  })

  app.setNotFoundHandler(async (request, reply) => {
    return reply.status(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })
}

export default fp(errorsPlugin, { name: 'errors' })
