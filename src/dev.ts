import { createSigner } from 'fast-jwt'
import { Value } from '@sinclair/typebox/value'
import { AwsSchema, type Config } from './config/schema.js'
import { SCOPES } from './auth/caller.js'

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

/** Dummy credentials for the local CloudFront emulator: development never sends real ones anywhere. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'AKIDLOCALEMULATOR', secretAccessKey: 'local-emulator-dummy-secret' }

/** The configuration with one AWS account, `local`, on the in-process emulator (development without an aws section). */
export function withLocalCloudFront(config: Config, endpoint: string): Config {
  return Object.freeze({ ...config, aws: Value.Default(AwsSchema, { accounts: { local: { region: 'us-east-1', endpoint } } }) }) as Config
}

/** What a newcomer needs after `npm start`: the key, a token, and one request that works. */
export function developmentBanner(config: Config, address: string, token: string, emulatorUrl?: string): string {
  const [name, dist] = Object.entries(config.distributions)[0] ?? ['demo', undefined]
  const body = JSON.stringify({ distribution: name, path: '/videos/intro.mp4', expiresIn: 300 })
  return [
    '',
    'cf-signer is running on development defaults (never use them in production):',
    `  signing key : ${config.keys.activeKeyId} (${config.keys.dir})`,
    `  distribution: ${name}${dist ? ` (${dist.domain})` : ''}`,
    `  token (all scopes, 8 h):`,
    `    export TOKEN=${token}`,
    '  sign a URL:',
    `    curl -s -X POST ${address}/v1/signed-urls -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '${body}'`,
    ...(emulatorUrl !== undefined
      ? [
          `  admin API  : ${address}/v1/admin/... on a local CloudFront emulator at ${emulatorUrl} (in memory; see README "Admin API")`,
          `    curl -s ${address}/v1/admin/distributions -H "authorization: Bearer $TOKEN"`,
        ]
      : []),
    '',
  ].join('\n')
}
