// npm run token -- --sub alice --scope "sign" --ttl 3600 [--distributions demo,other] [--paths "/videos/*"] [--max-ttl 600]
// Prints a token signed with the configured HS256 secret (CONFIG_FILE, or the development defaults).
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config/load.js'
import { createToken } from '../src/dev/tokens.js'

const list = (text: string | undefined) => text?.split(',').map((s) => s.trim()).filter(Boolean)
try {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string', default: 'operator' },
      scope: { type: 'string', default: 'sign' },
      ttl: { type: 'string', default: '3600' },
      distributions: { type: 'string' },
      paths: { type: 'string' },
      'max-ttl': { type: 'string' },
    },
  })
  const config = loadConfig({ file: process.env.CONFIG_FILE, production: process.env.NODE_ENV === 'production' })
  const token = createToken(config, {
    sub: values.sub!,
    scopes: values.scope!.split(' ').filter(Boolean),
    ttlSeconds: Number(values.ttl),
    distributions: list(values.distributions),
    paths: list(values.paths),
    maxTtlSeconds: values['max-ttl'] !== undefined ? Number(values['max-ttl']) : undefined,
  })
  console.log(token)
} catch (err) {
  console.error(`token: ${(err as Error).message}`)
  process.exit(1)
}
