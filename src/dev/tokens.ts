// Development and operations tokens: HS256 with the configured secret.
import { createSigner } from 'fast-jwt'
import type { Config } from '../config/schema.js'
import { SCOPES } from '../auth/caller.js'

export interface TokenOptions {
  sub: string
  scopes: readonly string[]
  ttlSeconds: number
  distributions?: string[]
  paths?: string[]
  maxTtlSeconds?: number
}

/** Signs an HS256 token with the configured secret (development and operations convenience). */
export function createToken(config: Config, options: TokenOptions): string {
  const secret = config.auth.jwt.secret
  if (secret === undefined) throw new Error('auth.jwt: tokens can only be minted with an HS256 secret (secret or secretFile)')
  // A typo here would mint a token that fails later with a 403 far from its cause.
  const unknown = options.scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope))
  if (unknown.length > 0) throw new Error(`unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`)
  for (const [name, value] of [['ttl', options.ttlSeconds], ['max-ttl', options.maxTtlSeconds]] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new Error(`--${name} must be a positive whole number of seconds`)
  }
  const sign = createSigner({
    key: secret,
    algorithm: 'HS256',
    expiresIn: options.ttlSeconds * 1000,
    iss: config.auth.jwt.issuer,
    aud: config.auth.jwt.audience,
  })
  return sign({
    sub: options.sub,
    scope: options.scopes.join(' '),
    ...(options.distributions && { distributions: options.distributions }),
    ...(options.paths && { paths: options.paths }),
    ...(options.maxTtlSeconds !== undefined && { maxTtlSeconds: options.maxTtlSeconds }),
  })
}

export function createDevToken(config: Config): string {
  return createToken(config, { sub: 'developer', scopes: SCOPES, ttlSeconds: 8 * 3600 })
}
