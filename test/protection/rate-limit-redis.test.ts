// Two app instances share one budget through a real redis-server (the Debian package) that the test
// starts on 127.0.0.1. Without redis-server the test fails: CI installs it (.ci/run).
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { build, captureLogs } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Starts redis-server without persistence on a free port; stopped after the test. */
async function startRedis(t: TestContext): Promise<string> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${err.message}`)))
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)))
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) resolve()
    })
  })
  return `redis://127.0.0.1:${port}`
}

const SIGN = { method: 'POST' as const, url: '/v1/signed-urls', payload: { distribution: 'demo', path: '/videos/a.mp4' } }

describe('rate limits shared through Redis (rateLimit.redisUrl)', () => {
  it('makes two instances spend one budget per caller', async (t) => {
    const redisUrl = await startRedis(t)
    const configInput = { rateLimit: { sign: { max: 3, timeWindowSeconds: 60 }, redisUrl } }
    const first = await build(t, { configInput })
    const second = await build(t, { configInput })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))

    assert.equal((await first.inject({ ...SIGN, headers: alice })).statusCode, 200)
    assert.equal((await second.inject({ ...SIGN, headers: alice })).statusCode, 200)
    const third = await first.inject({ ...SIGN, headers: alice })
    assert.equal(third.statusCode, 200)
    assert.equal(third.headers['x-ratelimit-remaining'], '0')

    const refused = await second.inject({ ...SIGN, headers: alice })
    assert.equal(refused.statusCode, 429)
    assert.equal(refused.json().code, 'RATE_LIMITED')
    assert.ok(Number(refused.headers['retry-after']) >= 1)
    // Another caller's budget is untouched on either instance.
    assert.equal((await second.inject({ ...SIGN, headers: bearer(makeToken({ sub: 'bob', scope: 'sign' })) })).statusCode, 200)

    // The budget lives in Redis under the service's prefix, keyed by group and sub, with the window as its TTL.
    const redis = new Redis(redisUrl)
    t.after(() => redis.disconnect())
    assert.deepEqual((await redis.keys('cf-signer:rate-limit:*')).sort(), ['cf-signer:rate-limit:sign:sub:alice', 'cf-signer:rate-limit:sign:sub:bob'])
    const aliceKey = 'cf-signer:rate-limit:sign:sub:alice'
    assert.equal(await redis.get(aliceKey), '4')
    const ttlMs = await redis.pttl(aliceKey)
    assert.ok(ttlMs > 0 && ttlMs <= 60_000, `ttl ${ttlMs}`)
  })

  it('lets requests through unlimited, and logs it, while Redis is unreachable', async (t) => {
    const logs = captureLogs()
    const closedPort = await freePort()
    const app = await build(t, {
      configInput: { rateLimit: { sign: { max: 1, timeWindowSeconds: 60 }, redisUrl: `redis://:redis-password-never-logged@127.0.0.1:${closedPort}` } },
      logLevel: 'warn',
      logStream: logs.stream,
    })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ ...SIGN, headers: alice })).statusCode, 200)
    assert.match(logs.text(), /rate-limit store unreachable/)
    assert.doesNotMatch(logs.text(), /redis-password-never-logged/)
  })
})
