import { appError } from '../http/errors.js'

export interface TokenTimeRules {
  clockToleranceSeconds: number
  requireExpiry: boolean
  maxTokenLifetimeSeconds?: number
}

/**
 * The token's times on the app's clock (fast-jwt's own exp and nbf checks are off: they read the
 * wall clock). A token without `exp` is refused unless the operator opted out, and never when a
 * maximum lifetime is set; the lifetime counts from `iat`, or from now when there is no `iat` or it
 * lies in the future, so a far-off `iat` cannot stretch it.
 */
export function checkTokenTimes(claims: Readonly<Record<string, unknown>>, nowMs: number, rules: TokenTimeRules): void {
  const { exp, nbf, iat } = claims
  for (const [name, value] of [['exp', exp], ['nbf', nbf], ['iat', iat]] as const) {
    if (value !== undefined && typeof value !== 'number') throw appError('TOKEN_INVALID', `the token's ${name} claim must be a number of seconds`)
  }
  const toleranceMs = rules.clockToleranceSeconds * 1000
  if (typeof nbf === 'number' && nowMs < nbf * 1000 - toleranceMs) throw appError('TOKEN_NOT_YET_VALID', 'the token is not valid yet (nbf)')
  if (typeof exp !== 'number') {
    if (rules.requireExpiry || rules.maxTokenLifetimeSeconds !== undefined) throw appError('TOKEN_NO_EXPIRY', 'the token has no exp claim; tokens must expire')
    return
  }
  if (nowMs > exp * 1000 + toleranceMs) throw appError('TOKEN_EXPIRED', 'the token has expired')
  const max = rules.maxTokenLifetimeSeconds
  if (max !== undefined) {
    const from = typeof iat === 'number' ? Math.min(iat, (nowMs + toleranceMs) / 1000) : nowMs / 1000
    if (exp - from > max) throw appError('TOKEN_LIFETIME_TOO_LONG', `the token lives longer than the ${max} seconds allowed (auth.jwt.maxTokenLifetimeSeconds)`)
  }
}
