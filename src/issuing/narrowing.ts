import type { Config, DistributionConfig } from '../config/schema.js'
import { appError, CodedError } from '../errors.js'
import { toIpv4Cidr, type PolicyConditions } from '../signing/policy.js'
import { checkPatternLimits, matchesPathPattern, pathPatternCovers } from '../signing/resource.js'
import { hasAnyScope, type Caller } from './caller.js'

/** What every signing request shares: who asks, when, from where. */
export interface GrantContext {
  config: Config
  caller: Caller
  /** Epoch seconds. */
  now: number
  /** The caller's address as Fastify resolved it (trustProxy applies). */
  clientIp: string
}

export interface ConditionsInput {
  expiresIn?: number
  expiresAt?: string | number
  notBefore?: string | number
  ipAddress?: string
}

export interface Distribution extends DistributionConfig {
  name: string
}

export function resolveDistribution(ctx: GrantContext, name: string): Distribution {
  const dist = Object.hasOwn(ctx.config.distributions, name) ? ctx.config.distributions[name] : undefined
  if (dist === undefined) throw appError('UNKNOWN_DISTRIBUTION', `no distribution named "${name}" is configured`)
  checkDistributionClaim(ctx.caller, name)
  return named(dist, name)
}

// The configuration never changes while it is in use: each distribution is named once, not copied per request.
const namedDistributions = new WeakMap<DistributionConfig, Distribution>()

function named(dist: DistributionConfig, name: string): Distribution {
  let distribution = namedDistributions.get(dist)
  if (distribution === undefined || distribution.name !== name) {
    distribution = Object.freeze({ ...dist, name })
    namedDistributions.set(dist, distribution)
  }
  return distribution
}

/** Finds the distribution a host belongs to (its CloudFront domain or an alias). */
export function resolveDistributionByHost(ctx: GrantContext, host: string): Distribution {
  const wanted = host.toLowerCase()
  for (const [name, dist] of Object.entries(ctx.config.distributions)) {
    if (dist.domain.toLowerCase() === wanted || dist.aliases.some((alias) => alias.toLowerCase() === wanted)) {
      checkDistributionClaim(ctx.caller, name)
      return named(dist, name)
    }
  }
  throw appError('FORBIDDEN_HOST', `${host} is not the domain or an alias of a configured distribution`)
}

function checkDistributionClaim(caller: Caller, name: string): void {
  if (caller.distributions !== undefined && !caller.distributions.includes(name)) {
    throw appError('FORBIDDEN_DISTRIBUTION', `the token does not allow distribution "${name}"`)
  }
}

/** Checks an exact raw path against the distribution's allowedPaths and the caller's `paths` claim. */
export function checkPathAllowed(dist: Distribution, caller: Caller, rawPath: string): void {
  if (!dist.allowedPaths.some((pattern) => matchesPathPattern(pattern, rawPath))) {
    throw appError('FORBIDDEN_PATH', `path ${rawPath} is outside the allowed paths of distribution "${dist.name}"`)
  }
  if (caller.paths !== undefined && !caller.paths.some((pattern) => matchesPathPattern(pattern, rawPath))) {
    throw appError('FORBIDDEN_PATH', `path ${rawPath} is outside the paths the token allows`)
  }
}

/**
 * Checks a wildcard resource before anything is matched against it: the caller needs `sign:wildcard`,
 * the resource (as signed) must be within the pattern limits, and everything its decoded path
 * pattern can match must be allowed.
 */
export function checkPatternAllowed(dist: Distribution, caller: Caller, resource: string, pathPattern: string): void {
  if (!hasAnyScope(caller, ['sign:wildcard'])) {
    throw appError('FORBIDDEN_SCOPE', 'a wildcard resource needs the sign:wildcard scope')
  }
  checkPatternLimits(resource)
  if (!dist.allowedPaths.some((pattern) => pathPatternCovers(pattern, pathPattern))) {
    throw appError('FORBIDDEN_PATH', `resource ${pathPattern} reaches outside the allowed paths of distribution "${dist.name}"`)
  }
  if (caller.paths !== undefined && !caller.paths.some((pattern) => pathPatternCovers(pattern, pathPattern))) {
    throw appError('FORBIDDEN_PATH', `resource ${pathPattern} reaches outside the paths the token allows`)
  }
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
export function resolveConditions(input: ConditionsInput, dist: Distribution, ctx: GrantContext): PolicyConditions {
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

/** The key that signs: the one asked for (any loaded key, legacy IDs included) or the active one. */
export function selectKey<K>(keys: { active(): K; get(id: string): K | undefined }, keyId: string | undefined): K {
  if (keyId === undefined) return keys.active()
  const key = keys.get(keyId)
  if (key === undefined) throw appError('UNKNOWN_KEY', `no signing key with ID ${keyId} is loaded`)
  return key
}
