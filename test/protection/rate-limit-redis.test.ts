// Two app instances share one budget through a real redis-server (the Debian package) that the test
// starts on 127.0.0.1. CI installs it (.ci/run); elsewhere, without it, the test is skipped.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { build, captureLogs, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { needs } from '../support/tools.js'
import { freePort } from '../support/process.js'

/** Starts redis-server without persistence on a free port; stopped after the test. */
async function startRedis(t: TestContext): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(async () => {
    if (child.exitCode === null) {
      // A stopped process would hold SIGTERM until it is continued.
      child.kill('SIGCONT')
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
  return { url: `redis://127.0.0.1:${port}`, process: child }
}

const SIGN = { method: 'POST' as const, url: '/v1/signed-urls', payload: { distribution: 'demo', path: '/videos/a.mp4' } }

describe('rate limits shared through Redis (rateLimit.redisUrl)', needs('redis-server'), () => {
  it('makes two instances spend one budget per caller', async (t) => {
    const { url: redisUrl } = await startRedis(t)
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
    assert.ok(Number(refused.headers['retry-after']) >= 1, "Number(refused.headers['retry-after']) >= 1")
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
    // Before redis-server stops (its after hook runs first), or this client logs its reconnect errors.
    redis.disconnect()
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
  it('a Redis paused with SIGSTOP costs a request at most the timeout, then nothing while the circuit is open; after SIGCONT a probe closes it', async (t) => {
    const redis = await startRedis(t)
    const logs = captureLogs()
    let nowMs = TEST_NOW_MS
    const timeoutMs = 500
    const app = await build(t, {
      configInput: { rateLimit: { sign: { max: 4, timeWindowSeconds: 60 }, redisUrl: redis.url, redisTimeoutMs: timeoutMs, redisFailureThreshold: 2, redisCoolDownSeconds: 10 } },
      now: () => nowMs,
      logLevel: 'info',
      logStream: logs.stream,
    })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    const timed = async () => {
      const started = performance.now()
      const res = await app.inject({ ...SIGN, headers: alice })
      return { res, ms: performance.now() - started }
    }
    assert.equal((await timed()).res.headers['x-ratelimit-remaining'], '3')

    redis.process.kill('SIGSTOP')
    for (let i = 0; i < 2; i++) {
      const { res, ms } = await timed()
      assert.equal(res.statusCode, 200)
      assert.ok(ms >= timeoutMs * 0.8 && ms < 1500, `request ${i} took ${Math.round(ms)} ms`)
    }
    assert.match(logs.text(), /rate-limit store circuit open/)
    for (let i = 0; i < 3; i++) {
      const { res, ms } = await timed()
      assert.equal(res.statusCode, 200)
      assert.ok(ms < timeoutMs * 0.5, `request ${i} after the trip took ${Math.round(ms)} ms`)
    }
    const open = (await app.inject({ url: '/metrics' })).body
    assert.match(open, /^cf_signer_rate_limit_store_circuit_open 1$/m)
    assert.match(open, /^cf_signer_rate_limit_store_circuit_trips_total 1$/m)

    // Redis resumes and runs the two commands that timed out (so they count); after the cool-down one probe closes the circuit.
    redis.process.kill('SIGCONT')
    nowMs += 10_000
    const probe = await timed()
    assert.equal(probe.res.statusCode, 200)
    assert.equal(probe.res.headers['x-ratelimit-remaining'], '0')
    assert.equal((await timed()).res.statusCode, 429)
    assert.match(logs.text(), /rate-limit store circuit closed/)
    assert.match((await app.inject({ url: '/metrics' })).body, /^cf_signer_rate_limit_store_circuit_open 0$/m)
  })
})
