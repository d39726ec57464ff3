import { parseViewerRuleClaims, type ViewerRules } from '../edge/viewer-rules.js'
import { appError } from '../http/errors.js'

/** What an authenticated caller may do, read from its token's claims. */
export interface Caller {
  sub: string
  scopes: ReadonlySet<string>
  /** Distribution names (config keys) the token is limited to. */
  distributions?: readonly string[]
  /** Path patterns (`*` wildcard) the token is limited to. */
  paths?: readonly string[]
  maxTtlSeconds?: number
  /** Viewer rules (referrers, countries, ipRanges) every grant must keep: only the edge layer enforces them. */
  viewerRules?: ViewerRules
}

export const SCOPES = ['sign', 'sign:wildcard', 'admin:read', 'admin:write'] as const
export type Scope = (typeof SCOPES)[number]

/**
 * Builds a Caller from verified JWT claims: scopes from `scope` (space separated) or `scp` (array).
 * A narrowing claim that is present but malformed refuses the token: ignoring it would widen the caller.
 */
export function callerFromClaims(claims: Record<string, unknown>): Caller {
  const scopes = new Set<string>()
  if (typeof claims.scope === 'string') claims.scope.split(' ').filter(Boolean).forEach((s) => scopes.add(s))
  if (Array.isArray(claims.scp)) claims.scp.filter((s): s is string => typeof s === 'string').forEach((s) => scopes.add(s))
  const { maxTtlSeconds } = claims
  if (maxTtlSeconds !== undefined && !(Number.isSafeInteger(maxTtlSeconds) && (maxTtlSeconds as number) > 0)) {
    throw appError('TOKEN_INVALID', 'the token\'s maxTtlSeconds claim must be a positive whole number of seconds')
  }
  return {
    sub: typeof claims.sub === 'string' ? claims.sub : 'anonymous',
    scopes,
    distributions: stringList(claims, 'distributions'),
    paths: stringList(claims, 'paths'),
    maxTtlSeconds: maxTtlSeconds as number | undefined,
    viewerRules: parseViewerRuleClaims(claims),
  }
}

function stringList(claims: Record<string, unknown>, name: string): string[] | undefined {
  const value = claims[name]
  if (value === undefined) return undefined
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw appError('TOKEN_INVALID', `the token's ${name} claim must be an array of strings`)
  }
  return value
}

/** Whether the caller holds any of the scopes; `admin:write` also reads. */
export function hasAnyScope(caller: Caller, scopes: readonly Scope[]): boolean {
  return scopes.some((scope) => caller.scopes.has(scope) || (scope === 'admin:read' && caller.scopes.has('admin:write')))
}
