import type { TestContext } from 'node:test'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../../src/app.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { makeKeyDir, vectorKeyFiles, RSA_KEY_ID } from './keys.js'
import { TEST_JWT_SECRET } from './tokens.js'

import { TEST_NOW_MS } from './clock.js'

export { TEST_NOW_MS }

export const TEST_DISTRIBUTIONS = {
  demo: {
    domain: 'd111111abcdef8.cloudfront.net',
    aliases: ['media.example.com'],
    allowedPaths: ['/videos/*', '/hls/*', '/images/*', '/docs/*', '/files/*', '/archive/*', '/'],
    defaultTtlSeconds: 300,
    maxTtlSeconds: 86_400,
    rtmpDomain: 's5c39gqb8ow64r.cloudfront.net',
    cookies: { domain: 'example.com', sameSite: 'None' },
  },
  private: { domain: 'd222222abcdef8.cloudfront.net', allowedPaths: ['/*'], defaultTtlSeconds: 60, maxTtlSeconds: 600 },
}

/**
 * A validated production-style configuration: the published test keys in a temporary directory and
 * HS256 with the test secret. `input` is merged over the defaults (shallowly per top-level section).
 */
export function testConfig(t: TestContext, input: Record<string, any> = {}): Config {
  const keys = makeKeyDir(vectorKeyFiles())
  t.after(keys.cleanup)
  return loadConfig({
    production: true,
    input: {
      auth: { jwt: { secret: TEST_JWT_SECRET, ...input.auth?.jwt } },
      keys: { dir: keys.dir, activeKeyId: RSA_KEY_ID, ...input.keys },
      distributions: input.distributions ?? TEST_DISTRIBUTIONS,
      ...(input.server && { server: input.server }),
      ...Object.fromEntries(Object.entries(input).filter(([k]) => !['auth', 'keys', 'distributions', 'server'].includes(k))),
    },
  })
}

/**
 * Builds the app for one test and closes it afterwards. `beforeReady` may add test-only routes or
 * hooks (a Fastify app takes none once ready).
 */
export async function build(
  t: TestContext,
  options: Partial<AppOptions> & { configInput?: Record<string, any>; beforeReady?: (app: FastifyInstance) => void } = {},
): Promise<FastifyInstance> {
  const { configInput, beforeReady, ...rest } = options
  const app = await buildApp({ config: options.config ?? testConfig(t, configInput), now: () => TEST_NOW_MS, signer: { backend: 'event-loop' }, ...rest })
  t.after(() => app.close())
  beforeReady?.(app)
  await app.ready()
  return app
}

/** A writable that keeps every log line, to assert what the logs never contain. */
export function captureLogs(): { stream: Writable; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(chunk.toString())
      callback()
    },
  })
  return { stream, text: () => chunks.join('') }
}

/** The admin audit lines among captured logs (see routes/v1/admin/common.ts). */
export function auditLines(logs: ReturnType<typeof captureLogs>): Array<Record<string, unknown>> {
  return logs
    .text()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.audit === true)
}
