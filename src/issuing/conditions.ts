import { parseAddress } from '../edge/token.js'
import type { ViewerRules } from '../edge/viewer-rules.js'
import { appError, CodedError } from '../http/errors.js'
import { toIpv4Cidr, type PolicyConditions } from '../signing/policy.js'
import type { IssueContext } from './context.js'
import type { Distribution } from './distributions.js'
import { resolveViewerRules, type ViewerRuleInput } from './edge-grant.js'

export interface ConditionsInput extends ViewerRuleInput {
  expiresIn?: number
  expiresAt?: string | number
  notBefore?: string | number
  ipAddress?: string
}

/** What a grant's viewer must meet. */
export interface GrantConditions {
  /** What CloudFront checks: the signed policy's conditions. */
  policy: PolicyConditions
  /** What the edge function checks, for a grant with an edge token; undefined for one without. */
  viewerRules?: ViewerRules
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
 * The conditions for a request: the expiry (default TTL of the distribution, never beyond its
 * maxTtlSeconds nor the token's), rounded up to the distribution's expiry granularity (capped at that
 * maximum) so repeated requests share one signature; the optional not-before and IPv4 range; and for a
 * grant with an edge token (`edge`, the distribution's edge layer by default) its viewer rules, an IPv6
 * `ipAddress` among them, since CloudFront's policy takes IPv4 only.
 */
export function resolveConditions(input: ConditionsInput, dist: Distribution, ctx: IssueContext, edge = dist.edge): GrantConditions {
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
  let ipv6Range: string | undefined
  if (input.ipAddress !== undefined) {
    const address = (input.ipAddress === 'client' ? ctx.clientIp : input.ipAddress).trim()
    if (edge && isIpv6(address)) ipv6Range = toIpv6Cidr(address)
    else ipCidr = toIpv4Cidr(address)
  }
  return { policy: { expires, notBefore, ipCidr }, viewerRules: resolveViewerRules(input, ipv6Range, dist, ctx.caller, edge) }
}

// An IPv4-mapped IPv6 address is the IPv4 address it maps (toIpv4Cidr): CloudFront's policy takes it.
const IPV4_MAPPED = /^::ffff:\d+\.\d+\.\d+\.\d+$/i

function isIpv6(address: string): boolean {
  return address.includes(':') && !IPV4_MAPPED.test(address)
}

/** An IPv6 address or CIDR as a CIDR (`/128` for one address), for the edge token's ipRanges. */
function toIpv6Cidr(value: string): string {
  const [address, prefix = '128', ...rest] = value.split('/')
  if (rest.length > 0 || parseAddress(address)?.length !== 16 || !/^(12[0-8]|1[01]\d|[1-9]?\d)$/.test(prefix)) {
    throw appError('INVALID_IP_ADDRESS', `"${value}" is not an IPv6 address or CIDR (an address, or an address and a prefix length of 0 to 128)`)
  }
  return `${address.toLowerCase()}/${prefix}`
}
