import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { CodedError, appError, statusForCode, type ErrorCode } from './errors.js'
import { API_SECURITY_HEADERS } from './security-headers.js'

export const ErrorResponseSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'Stable machine-readable code (UPPER_SNAKE; CloudFront codes pass through unchanged).' }),
    error: Type.String(),
    message: Type.String(),
    details: Type.Optional(
      Type.Object(
        {
          revokedIn: Type.Array(Type.String(), { description: 'Distributions whose store holds the revocation' }),
          failedIn: Type.Array(Type.String(), { description: 'Distributions whose store could not be written: send the same request again' }),
        },
        { description: 'Only on a revocation written to some distributions and not to others (POST /v1/revocations)' },
      ),
    ),
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

// Other 4xx statuses (a plugin's error without a code of ours); the rest are BAD_REQUEST.
const CLIENT_STATUS_CODES: Record<number, ErrorCode> = {
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'BODY_TOO_LARGE',
  431: 'HEADERS_TOO_LARGE',
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
    code = CLIENT_STATUS_CODES[statusCode] ?? 'BAD_REQUEST'
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
  reply.headers(API_SECURITY_HEADERS).header('x-request-id', request.id)
  if (request.server.draining) reply.header('connection', 'close')
  reply.status(body.statusCode).send(body)
}

/** Node's parser and timeout errors, by its error code (https://nodejs.org/api/http.html#event-clienterror). */
function clientErrorCode(nodeCode: string): ErrorCode {
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT'
  if (nodeCode === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE'
  if (nodeCode === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 'BODY_TOO_LARGE'
  return 'BAD_REQUEST'
}

const CLIENT_ERROR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  REQUEST_TIMEOUT: 'the request was not received in time (server.requestTimeoutSeconds, server.headersTimeoutSeconds)',
  HEADERS_TOO_LARGE: 'the request headers are too large',
  BODY_TOO_LARGE: 'the request body is too large',
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (a malformed request line or
 * header, headers over Node's limit, a request not received in time) never becomes a request, so no
 * hook runs. The connection gets the same answer as any error, `{statusCode, code, error, message}`
 * with the security headers and a request ID, then closes.
 */
export function handleClientError(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const code = clientErrorCode(err.code ?? '')
  const statusCode = statusForCode(code)!
  const requestId = randomUUID()
  const message = CLIENT_ERROR_MESSAGES[code] ?? `the request cannot be parsed (${err.code ?? 'unknown'})`
  // The error's rawPacket holds the request bytes, credentials included: only its code is logged.
  this.log.info({ reqId: requestId, code, statusCode, parserCode: err.code }, 'request refused')
  // Like Node's own handler: never write into an answer that has begun.
  const pending = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage
  if (socket.writable && !pending?.headersSent) {
    const body = JSON.stringify({ statusCode, code, error: STATUS_CODES[statusCode], message })
    const headers = { ...API_SECURITY_HEADERS, 'x-request-id': requestId, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    socket.end(`HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\n${head}\r\n${body}`)
  }
  socket.destroySoon()
}

