/** The codes signing code throws; each has its HTTP status in the one table (src/http/errors.ts). */
export type SigningErrorCode =
  | 'INVALID_PATH'
  | 'INVALID_URL'
  | 'INVALID_RESOURCE'
  | 'INVALID_IP_ADDRESS'
  | 'IPV6_NOT_SUPPORTED'
  | 'VALIDATION_ERROR'
  | 'RESERVED_QUERY_PARAMETER'
  | 'RESOURCE_TOO_LONG'
  | 'TOO_MANY_WILDCARDS'
  | 'WILDCARD_HOST'
  | 'URL_TOO_LONG'
  | 'INVALID_FILENAME'

/** An error with a stable machine-readable code; the HTTP layer maps codes to statuses in one table. */
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code
  readonly details?: Record<string, unknown>

  constructor(code: Code, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'CodedError'
    this.code = code
    this.details = details
  }
}

/** Throws a coded signing error: `throw signingError('INVALID_PATH', '...')`. */
export function signingError(code: SigningErrorCode, message: string): CodedError<SigningErrorCode> {
  return new CodedError(code, message)
}
