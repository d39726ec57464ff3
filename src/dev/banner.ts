import type { Config } from '../config/schema.js'

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
