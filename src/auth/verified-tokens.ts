import { LRUCache } from 'lru-cache'
import type { Caller } from './caller.js'

export interface VerifiedToken {
  claims: Readonly<Record<string, unknown>>
  caller: Caller
}

export const VERIFIED_TOKEN_ENTRIES = 10_000
export const VERIFIED_TOKEN_TTL_MS = 60_000

/** Where a token came from: a `Bearer` Authorization header, or `access_token` in a playback query. */
export type CredentialKind = 'bearer' | 'query'

/**
 * A caller sends the same token on every request: it is verified once (by @fastify/jwt) and then
 * known by where it came from and its exact text for at most a minute, never past its `exp` (plus
 * the clock tolerance), so an expired token is refused even if it was accepted while valid; its
 * `nbf` had already passed when it was accepted. Only accepted tokens are kept: a refused one is
 * verified again each time, and made-up tokens cannot fill the memory. A hit costs a map lookup
 * instead of decoding the token, hashing it and running @fastify/jwt's callback chain.
 */
export function createVerifiedTokens(clockToleranceMs: number, now: () => number) {
  // The same clock bounds each entry and ages it (ttlResolution 0: read the clock on each lookup, no timer).
  const tokens = new LRUCache<string, VerifiedToken>({ max: VERIFIED_TOKEN_ENTRIES, perf: { now }, ttlResolution: 0 })
  // The kind is part of the key: a token remembered from a query never answers for a header, and back.
  const keyOf = (kind: CredentialKind, token: string) => `${kind} ${token}`
  return {
    get(kind: CredentialKind, token: string): VerifiedToken | undefined {
      return tokens.get(keyOf(kind, token))
    },
    remember(kind: CredentialKind, token: string, verified: VerifiedToken): void {
      const { exp } = verified.claims
      const validForMs = typeof exp === 'number' ? exp * 1000 + clockToleranceMs - now() : Infinity
      const ttl = Math.floor(Math.min(VERIFIED_TOKEN_TTL_MS, validForMs))
      if (ttl >= 1) tokens.set(keyOf(kind, token), verified, { ttl })
    },
    clear: () => tokens.clear(),
  }
}
