// The viewer rules a signing request may ask for, narrowed by the caller's token claims: a request can only take
// rules away from its viewers, never give any back. Pure: no Fastify, no clock.
import { appError } from '../http/errors.js'
import {
  cidrContains,
  isCidr,
  isCountryCode,
  isReferrerPattern,
  MAX_COUNTRIES,
  MAX_IP_RANGES,
  MAX_REFERRER_PATTERNS,
} from './token.js'

/** The same shape for a request's fields and a caller's claims; an absent rule allows everything. */
export interface ViewerRules {
  /** Host patterns the Referer must match: `example.com` exactly, `*.example.com` for any subdomain of it. */
  referrers?: string[]
  /** With referrers: a request without a Referer passes too. */
  allowEmptyReferrer?: boolean
  /** ISO 3166-1 alpha-2 codes: a viewer outside `allow` or inside `deny` is refused. */
  countries?: { allow?: string[]; deny?: string[] }
  /** IPv4 or IPv6 CIDRs the viewer's address must fall in. */
  ipRanges?: string[]
}

type RuleErrorCode = 'INVALID_VIEWER_RULES' | 'TOKEN_INVALID'

// Longer than any valid entry, checked before any pattern so caller input costs little.
const MAX_PATTERN_LENGTH = 255
const MAX_CIDR_LENGTH = 49

/** Whether the rules refuse any viewer: allowEmptyReferrer alone restricts nothing. */
export function hasViewerRules(rules: ViewerRules | undefined): boolean {
  return (
    rules !== undefined &&
    (rules.referrers !== undefined || rules.countries?.allow !== undefined || rules.countries?.deny !== undefined || rules.ipRanges !== undefined)
  )
}

function list(
  code: RuleErrorCode,
  name: string,
  value: unknown,
  max: number,
  normalise: (item: string) => string | undefined,
): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0 || value.length > max) throw appError(code, `${name} is a list of 1 to ${max} entries`)
  const out = new Set<string>()
  for (const item of value as unknown[]) {
    const normal = typeof item === 'string' ? normalise(item) : undefined
    if (normal === undefined) throw appError(code, `${name} has an invalid entry: ${JSON.stringify(typeof item === 'string' ? item.slice(0, 64) : item)}`)
    out.add(normal)
  }
  return [...out]
}

const referrerPattern = (item: string) => {
  const lower = item.toLowerCase()
  return item.length <= MAX_PATTERN_LENGTH && isReferrerPattern(lower) ? lower : undefined
}
const countryCode = (item: string) => {
  const upper = item.toUpperCase()
  return item.length === 2 && isCountryCode(upper) ? upper : undefined
}
const cidr = (item: string) => (item.length <= MAX_CIDR_LENGTH && isCidr(item) ? item.toLowerCase() : undefined)

/** Checked and normalised (lower-case hosts and CIDRs, upper-case countries, no duplicates); `code` names the culprit. */
function normalise(rules: ViewerRules | undefined, code: RuleErrorCode, where: string): ViewerRules {
  if (rules === undefined) return {}
  if (typeof rules !== 'object' || rules === null) throw appError(code, `${where} viewer rules are an object`)
  const referrers = list(code, `${where} referrers`, rules.referrers, MAX_REFERRER_PATTERNS, referrerPattern)
  if (rules.allowEmptyReferrer !== undefined && typeof rules.allowEmptyReferrer !== 'boolean') {
    throw appError(code, `${where} allowEmptyReferrer is a boolean`)
  }
  const countries: unknown = rules.countries
  if (countries !== undefined && (typeof countries !== 'object' || countries === null || Array.isArray(countries))) {
    throw appError(code, `${where} countries is an object with allow and/or deny`)
  }
  const { allow: allowValue, deny: denyValue, ...extra } = (countries ?? {}) as Record<string, unknown>
  if (Object.keys(extra).length > 0) throw appError(code, `${where} countries has only allow and deny`)
  const allow = list(code, `${where} countries.allow`, allowValue, MAX_COUNTRIES, countryCode)
  const deny = list(code, `${where} countries.deny`, denyValue, MAX_COUNTRIES, countryCode)
  const ipRanges = list(code, `${where} ipRanges`, rules.ipRanges, MAX_IP_RANGES, cidr)
  return {
    ...(referrers !== undefined && { referrers }),
    ...(rules.allowEmptyReferrer !== undefined && { allowEmptyReferrer: rules.allowEmptyReferrer }),
    ...((allow !== undefined || deny !== undefined) && { countries: { ...(allow !== undefined && { allow }), ...(deny !== undefined && { deny }) } }),
    ...(ipRanges !== undefined && { ipRanges }),
  }
}

/** Whether every host `inner` matches is matched by `outer` (the function's exact or `*.` suffix match). */
export function referrerCovers(outer: string, inner: string): boolean {
  if (!outer.startsWith('*.')) return outer === inner
  const suffix = outer.slice(1)
  return inner.startsWith('*.') ? inner === outer || inner.endsWith(suffix) : inner.endsWith(suffix)
}

const forbidden = (message: string) => appError('FORBIDDEN_VIEWER_RULES', message)

const NO_RULES: ViewerRules = Object.freeze({})

function isEmpty(rules: ViewerRules | undefined): boolean {
  return rules === undefined || (rules.referrers === undefined && rules.allowEmptyReferrer === undefined && rules.countries === undefined && rules.ipRanges === undefined)
}

/**
 * The rules a grant carries: the request's, each inside the caller's claims, or the claims' where the request is
 * silent. Throws INVALID_VIEWER_RULES for a malformed request, FORBIDDEN_VIEWER_RULES for one that would widen them.
 */
export function narrowViewerRules(requested: ViewerRules | undefined, claimed: ViewerRules | undefined): ViewerRules {
  if (isEmpty(requested) && isEmpty(claimed)) return NO_RULES
  const ask = normalise(requested, 'INVALID_VIEWER_RULES', 'the request\'s')
  const claim = normalise(claimed, 'TOKEN_INVALID', 'the token\'s')

  let referrers = claim.referrers
  let allowEmptyReferrer = claim.allowEmptyReferrer === true
  if (ask.referrers !== undefined) {
    const claimed = claim.referrers
    const outside = claimed === undefined ? undefined : ask.referrers.find((pattern) => !claimed.some((outer) => referrerCovers(outer, pattern)))
    if (outside !== undefined) throw forbidden(`referrers: ${JSON.stringify(outside)} is not covered by the caller's allowed referrers`)
    referrers = ask.referrers
    allowEmptyReferrer = false
  }
  if (ask.allowEmptyReferrer !== undefined) {
    if (referrers === undefined && ask.allowEmptyReferrer) {
      throw appError('INVALID_VIEWER_RULES', 'allowEmptyReferrer needs referrers, in the request or the caller\'s claims')
    }
    if (ask.allowEmptyReferrer && claim.referrers !== undefined && claim.allowEmptyReferrer !== true) {
      throw forbidden('allowEmptyReferrer: the caller may not allow requests without a Referer')
    }
    allowEmptyReferrer = ask.allowEmptyReferrer
  }

  let allow = claim.countries?.allow
  const askAllow = ask.countries?.allow
  if (askAllow !== undefined) {
    const outside = allow === undefined ? undefined : askAllow.find((code) => !allow?.includes(code))
    if (outside !== undefined) throw forbidden(`countries.allow: ${outside} is not among the caller's allowed countries`)
    allow = askAllow
  }
  const denied = [...new Set([...(claim.countries?.deny ?? []), ...(ask.countries?.deny ?? [])])]
  if (denied.length > MAX_COUNTRIES) {
    throw appError('INVALID_VIEWER_RULES', `countries.deny with the caller's own holds ${denied.length} codes, over ${MAX_COUNTRIES}`)
  }
  const deny = denied.length > 0 ? denied : undefined

  let ipRanges = claim.ipRanges
  if (ask.ipRanges !== undefined) {
    const claimed = claim.ipRanges
    const outside = claimed === undefined ? undefined : ask.ipRanges.find((range) => !claimed.some((outer) => cidrContains(outer, range)))
    if (outside !== undefined) throw forbidden(`ipRanges: ${outside} is not inside the caller's allowed ranges`)
    ipRanges = ask.ipRanges
  }

  return {
    ...(referrers !== undefined && { referrers }),
    ...(referrers !== undefined && allowEmptyReferrer && { allowEmptyReferrer: true }),
    ...((allow !== undefined || deny !== undefined) && { countries: { ...(allow !== undefined && { allow }), ...(deny !== undefined && { deny }) } }),
    ...(ipRanges !== undefined && { ipRanges }),
  }
}

/**
 * The viewer rules in a caller's JWT claims (`referrers`, `allowEmptyReferrer`, `countries`, `ipRanges`), undefined
 * when it has none. A present but malformed claim is TOKEN_INVALID: ignoring it would widen the caller.
 */
export function parseViewerRuleClaims(claims: Record<string, unknown>): ViewerRules | undefined {
  const { referrers, allowEmptyReferrer, countries, ipRanges } = claims
  if (referrers === undefined && allowEmptyReferrer === undefined && countries === undefined && ipRanges === undefined) return undefined
  return normalise({ referrers, allowEmptyReferrer, countries, ipRanges } as ViewerRules, 'TOKEN_INVALID', 'the token\'s')
}
