import { createSigner } from 'fast-jwt'
import { TEST_NOW_MS } from './clock.js'

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'

export interface TokenClaims {
  sub?: string
  scope?: string
  scp?: string[]
  distributions?: string[]
  paths?: string[]
  maxTtlSeconds?: number
  [claim: string]: unknown
}

export interface TokenOptions {
  key?: string | Buffer
  algorithm?: string
  kid?: string
  /** `exp` this long after `nowMs` (default an hour); null mints a token without `exp`. */
  expiresInSeconds?: number | null
  notBeforeSeconds?: number
  iss?: string
  aud?: string
  /** The clock the token is minted on (`iat`, `exp`, `nbf`): the app's, TEST_NOW_MS for build()'s apps. */
  nowMs?: number
}

/** Mints a test token; HS256 with the test secret unless told otherwise. */
export function makeToken(claims: TokenClaims = { sub: 'alice', scope: 'sign' }, options: TokenOptions = {}): string {
  const sign = createSigner({
    key: options.key ?? TEST_JWT_SECRET,
    algorithm: (options.algorithm ?? 'HS256') as never,
    kid: options.kid,
    clockTimestamp: options.nowMs ?? TEST_NOW_MS,
    expiresIn: options.expiresInSeconds === null ? undefined : (options.expiresInSeconds ?? 3600) * 1000,
    notBefore: options.notBeforeSeconds !== undefined ? options.notBeforeSeconds * 1000 : undefined,
    iss: options.iss,
    aud: options.aud,
  })
  return sign({ sub: 'alice', ...claims })
}

export function bearer(token: string = makeToken()): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
