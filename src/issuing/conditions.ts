import { appError, CodedError } from '../http/errors.js'
import { toIpv4Cidr, type PolicyConditions } from '../signing/policy.js'
import type { IssueContext } from './context.js'
import type { Distribution } from './distributions.js'

export interface ConditionsInput {
  expiresIn?: number
  expiresAt?: string | number
  notBefore?: string | number
  ipAddress?: string
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/

/** Epoch seconds from epoch seconds (number or digits) or an ISO 8601 timestamp with a zone. */
export function parseTime(value: string | number, field: string): number {
  if (typeof value === 'number' || /^\d+$/.test(value)) {
    const seconds = Number(value)
    if (Number.isSafeInteger(seconds) && seconds >= 0) return seconds
  } else if (ISO_8601.test(value)) {
    const ms = Date.parse(value)
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000)
  }
  throw new CodedError(field === 'notBefore' ? 'INVALID_NOT_BEFORE' : 'INVALID_EXPIRY', `${field} must be epoch seconds or an ISO 8601 timestamp with a time zone`)
}

/**
 * The policy conditions for a request: the expiry (default TTL of the distribution, never beyond its
 * maxTtlSeconds nor the token's), rounded up to the distribution's expiry granularity (capped at that
 * maximum) so repeated requests share one signature; the optional not-before and IP range.
 */
export function resolveConditions(input: ConditionsInput, dist: Distribution, ctx: IssueContext): PolicyConditions {
  if (input.expiresIn !== undefined && input.expiresAt !== undefined) {
    throw appError('INVALID_EXPIRY', 'give expiresIn or expiresAt, not both')
  }
  const requested =
    input.expiresAt !== undefined ? parseTime(input.expiresAt, 'expiresAt') : ctx.now + (input.expiresIn ?? dist.defaultTtlSeconds)
  if (requested <= ctx.now) throw appError('INVALID_EXPIRY', 'the expiry must lie in the future')
  const maxTtl = Math.min(dist.maxTtlSeconds, ctx.caller.maxTtlSeconds ?? Infinity)
  if (requested - ctx.now > maxTtl) {
    throw appError('FORBIDDEN_TTL', `a lifetime of ${requested - ctx.now} s exceeds the maximum of ${maxTtl} s`)
  }
  // Rounded up (never shorter than asked) but capped at the maximum lifetime, which is never exceeded.
  const granularity = dist.expiryGranularitySeconds
  const expires = Math.min(Math.ceil(requested / granularity) * granularity, ctx.now + maxTtl)

  let notBefore: number | undefined
  if (input.notBefore !== undefined) {
    notBefore = parseTime(input.notBefore, 'notBefore')
    if (notBefore >= expires) throw appError('INVALID_NOT_BEFORE', 'notBefore must be earlier than the expiry')
  }
  let ipCidr: string | undefined
  if (input.ipAddress !== undefined) ipCidr = toIpv4Cidr(input.ipAddress === 'client' ? ctx.clientIp : input.ipAddress)
  return { expires, notBefore, ipCidr }
}
