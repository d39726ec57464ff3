import { CodedError, appError, statusForCode } from '../http/errors.js'

/** Seconds a throttled caller is told to wait when AWS does not say. */
export const THROTTLE_RETRY_AFTER_SECONDS = 1

/** Socket errors that mean AWS could not be reached (the KMS adapter reads them too). */
export const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH'])

/** An error AWS answered with: `code` is AWS's own (`NoSuchDistribution`), `statusCode` the service's answer. */
export class AwsServiceError extends CodedError {
  readonly statusCode: number

  constructor(code: string, statusCode: number, message: string, details: Record<string, unknown>) {
    super(code, message, details)
    this.name = 'AwsServiceError'
    this.statusCode = statusCode
  }
}

/**
 * The HTTP status the service answers for an AWS error code: the code's own in the error table
 * (http/errors.ts), else by what AWS answered: 504 stays, other 4xx pass through, the rest is 502.
 */
export function statusForAwsCode(code: string, upstreamStatus: number | undefined): number {
  const status = statusForCode(code)
  if (status !== undefined) return status
  if (upstreamStatus === 504) return 504
  if (upstreamStatus !== undefined && upstreamStatus >= 400 && upstreamStatus < 500) return upstreamStatus
  return 502
}

/** What the AWS SDK throws, as far as the adapters read it. */
export interface SdkError {
  name?: string
  message?: string
  code?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number; requestId?: string }
  $response?: { headers?: Record<string, string | undefined> }
}

/**
 * Turns anything the SDK throws into a coded error, at the adapter's boundary: routes never see AWS
 * types. Only the code, AWS's own message for client errors and the request ID are kept: never the
 * request, its signature or the credentials.
 */
export function translateAwsError(err: unknown, operation: string): CodedError {
  if (err instanceof CodedError) return err
  const e = (err ?? {}) as SdkError
  const upstreamStatus = e.$metadata?.httpStatusCode
  const details = { operation, awsRequestId: e.$metadata?.requestId, upstreamStatus }
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') {
    return appError('UPSTREAM_TIMEOUT', `AWS did not answer ${operation} in time`, details)
  }
  if (e.name === 'CredentialsProviderError' || e.name === 'ProviderError') {
    return appError('AWS_CREDENTIALS_UNAVAILABLE', 'no AWS credentials could be loaded for this account', details)
  }
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) {
    return appError('UPSTREAM_UNAVAILABLE', `AWS could not be reached for ${operation}`, details)
  }
  if (e.$fault !== undefined && typeof e.name === 'string' && /^[A-Za-z][A-Za-z0-9.]*$/.test(e.name)) {
    const statusCode = statusForAwsCode(e.name, upstreamStatus)
    const message = statusCode >= 500 ? `AWS failed ${operation} (${upstreamStatus ?? 'no status'})` : (e.message ?? e.name)
    const retryAfterSeconds = statusCode === 429 ? retryAfterFrom(e) : undefined
    return new AwsServiceError(e.name, statusCode, message, { ...details, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) })
  }
  return appError('UPSTREAM_ERROR', `AWS failed ${operation}`, details)
}

function retryAfterFrom(e: SdkError): number {
  const header = Number(e.$response?.headers?.['retry-after'])
  return Number.isInteger(header) && header > 0 && header <= 3600 ? header : THROTTLE_RETRY_AFTER_SECONDS
}

/** Whether an error is worth another poll during a long wait (throttling, upstream hiccups). */
export function isTransient(err: unknown): boolean {
  const status = (err as { statusCode?: number }).statusCode
  const code = (err as { code?: string }).code
  return status === 429 || code === 'UPSTREAM_TIMEOUT' || code === 'UPSTREAM_UNAVAILABLE' || (status !== undefined && status >= 502 && status <= 504)
}

/** The code of a coded error (for matching AWS codes in the adapter), or undefined. */
export function codeOf(err: unknown): string | undefined {
  return err instanceof CodedError ? err.code : undefined
}
