import { CodedError, type SigningErrorCode } from '../signing/errors.js'

export { CodedError }

/**
 * Every machine-readable error code the service answers with, and its HTTP status. A shipped code
 * is never renamed. CloudFront's own error codes pass through the AWS adapter unchanged.
 */
export const ERROR_STATUS = {
  // 400: the request cannot be served as written
  VALIDATION_ERROR: 400,
  BAD_REQUEST: 400,
  MALFORMED_JSON: 400,
  INVALID_PATH: 400,
  INVALID_URL: 400,
  INVALID_IP_ADDRESS: 400,
  IPV6_NOT_SUPPORTED: 400,
  INVALID_EXPIRY: 400,
  INVALID_NOT_BEFORE: 400,
  INVALID_RESOURCE: 400,
  RESOURCE_NOT_COVERING: 400,
  RESOURCE_TOO_LONG: 400,
  TOO_MANY_WILDCARDS: 400,
  WILDCARD_HOST: 400,
  URL_TOO_LONG: 400,
  INVALID_FILENAME: 400,
  INVALID_STREAM: 400,
  NO_RTMP_DOMAIN: 400,
  NO_COOKIE_DOMAIN: 400,
  RESERVED_QUERY_PARAMETER: 400,
  UNKNOWN_DISTRIBUTION: 400,
  UNKNOWN_KEY: 400,
  TOKEN_IN_QUERY_NOT_ALLOWED: 400,
  UNKNOWN_ACCOUNT: 400,
  KMS_REQUIRES_SHA256: 400,
  KMS_KEY_NOT_FOUND: 400,
  KMS_KEY_UNSUPPORTED: 400,
  // the edge layer (src/edge): viewer rules and edge tokens on a signing request
  EDGE_NOT_ENABLED: 400,
  EDGE_NOT_APPLICABLE: 400,
  EDGE_RESOURCE_NOT_COVERING: 400,
  EDGE_TOKEN_INVALID_PAYLOAD: 400,
  EDGE_TOKEN_INVALID_KEY: 400,
  EDGE_TOKEN_TOO_LONG: 400,
  INVALID_VIEWER_RULES: 400,
  // 401: who is calling is not established
  UNAUTHORIZED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_NO_EXPIRY: 401,
  TOKEN_LIFETIME_TOO_LONG: 401,
  // 403: the caller may not have this
  FORBIDDEN_SCOPE: 403,
  FORBIDDEN_DISTRIBUTION: 403,
  FORBIDDEN_PATH: 403,
  FORBIDDEN_HOST: 403,
  FORBIDDEN_TTL: 403,
  FORBIDDEN_ORIGIN: 403,
  FORBIDDEN_VIEWER_RULES: 403,
  EDGE_REQUIRED: 403,
  // transport
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  NOT_READY: 503,
  SHUTTING_DOWN: 503,
  AUTH_UNAVAILABLE: 503,
  RATE_LIMIT_UNAVAILABLE: 503,
  // keys in AWS KMS: KMS refused (access, disabled key), or cannot sign now (throttled, down, circuit open)
  KMS_REQUEST_FAILED: 502,
  KMS_UNAVAILABLE: 503,
  // admin API: the AWS side (CloudFront's own codes pass through with their own status)
  UPSTREAM_ERROR: 502,
  UPSTREAM_UNAVAILABLE: 502,
  AWS_CREDENTIALS_UNAVAILABLE: 502,
  ADMIN_NOT_CONFIGURED: 503,
  // the edge layer's deploy and revocations: not configured for it, or not deployed yet
  EDGE_NOT_CONFIGURED: 409,
  EDGE_NOT_DEPLOYED: 409,
  EDGE_FUNCTION_CONFLICT: 409,
  EDGE_NO_SIGNED_BEHAVIORS: 409,
  UPSTREAM_TIMEOUT: 504,
  WAIT_TIMEOUT: 504,
  // CloudFront's and S3's own codes, passed through by the AWS adapter (their families: AWS_CODE_FAMILIES)
  EntityNotFound: 404,
  NotFound: 404,
  PreconditionFailed: 412,
  OperationAborted: 409,
  AccessDenied: 403,
  BatchTooLarge: 413,
  Throttling: 429,
  ThrottlingException: 429,
  TooManyRequestsException: 429,
  RequestLimitExceeded: 429,
  SlowDown: 429,
  InconsistentQuantities: 400,
  TrustedSignerDoesNotExist: 400,
  TrustedKeyGroupDoesNotExist: 400,
  CannotChangeImmutablePublicKeyFields: 400,
  AccessControlListNotSupported: 400,
  // the KeyValueStore data plane's codes
  ConflictException: 409,
  ResourceNotFoundException: 404,
  ValidationException: 400,
  ServiceQuotaExceededException: 409,
  FunctionSizeLimitExceeded: 413,
} as const satisfies Record<string, number>

/** AWS codes named by family rather than one by one; an AWS code in neither answers by its upstream status. */
const AWS_CODE_FAMILIES: ReadonlyArray<readonly [RegExp, number]> = [
  [/^NoSuch/, 404],
  [/(NotDisabled|AlreadyExists|InUse)$/, 409],
  [/^(Invalid|TooMany|Illegal|Malformed|Missing)/, 400],
]

export type ErrorCode = keyof typeof ERROR_STATUS

// Every code the signing code throws has its status here: a new one without is a compile error.
void (ERROR_STATUS satisfies Record<SigningErrorCode, number>)

/** Throws a coded error from anywhere in the app: `throw appError('FORBIDDEN_PATH', '...')`. */
export function appError(code: ErrorCode, message: string, details?: Record<string, unknown>): CodedError<ErrorCode> {
  return new CodedError(code, message, details)
}

export function statusForCode(code: string): number | undefined {
  const status = (ERROR_STATUS as Record<string, number>)[code]
  if (status !== undefined) return status
  for (const [family, familyStatus] of AWS_CODE_FAMILIES) if (family.test(code)) return familyStatus
  return undefined
}
