/** What an authenticated caller may do, read from its token's claims. */
export interface Caller {
  sub: string
  scopes: ReadonlySet<string>
  /** Distribution names (config keys) the token is limited to. */
  distributions?: readonly string[]
  /** Path patterns (`*` wildcard) the token is limited to. */
  paths?: readonly string[]
  maxTtlSeconds?: number
}

export const SCOPES = ['sign', 'sign:wildcard', 'admin:read', 'admin:write'] as const
export type Scope = (typeof SCOPES)[number]

/** Builds a Caller from verified JWT claims: scopes from `scope` (space separated) or `scp` (array). */
export function callerFromClaims(claims: Record<string, unknown>): Caller {
  const scopes = new Set<string>()
  if (typeof claims.scope === 'string') claims.scope.split(' ').filter(Boolean).forEach((s) => scopes.add(s))
  if (Array.isArray(claims.scp)) claims.scp.filter((s): s is string => typeof s === 'string').forEach((s) => scopes.add(s))
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined)
  return {
    sub: typeof claims.sub === 'string' ? claims.sub : 'anonymous',
    scopes,
    distributions: strings(claims.distributions),
    paths: strings(claims.paths),
    maxTtlSeconds: typeof claims.maxTtlSeconds === 'number' && claims.maxTtlSeconds > 0 ? claims.maxTtlSeconds : undefined,
  }
}

/** Whether the caller holds any of the scopes; `admin:write` also reads. */
export function hasAnyScope(caller: Caller, scopes: readonly Scope[]): boolean {
  return scopes.some((scope) => caller.scopes.has(scope) || (scope === 'admin:read' && caller.scopes.has('admin:write')))
}
