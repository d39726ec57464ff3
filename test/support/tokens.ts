import { createSigner } from 'fast-jwt'

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

/** Mints a test token; HS256 with the test secret unless told otherwise. */
export function makeToken(
  claims: TokenClaims = { sub: 'alice', scope: 'sign' },
  options: { key?: string | Buffer; algorithm?: string; expiresInSeconds?: number; notBeforeSeconds?: number; iss?: string; aud?: string } = {},
): string {
  const sign = createSigner({
    key: options.key ?? TEST_JWT_SECRET,
    algorithm: (options.algorithm ?? 'HS256') as never,
    expiresIn: (options.expiresInSeconds ?? 3600) * 1000,
    notBefore: options.notBeforeSeconds !== undefined ? options.notBeforeSeconds * 1000 : undefined,
    iss: options.iss,
    aud: options.aud,
  })
  return sign({ sub: 'alice', ...claims })
}

export function bearer(token: string = makeToken()): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
