// A Redis that hangs must not hang the service. The Redis here is a real TCP server on 127.0.0.1 (the
// network edge, nothing else is faked): one accepts connections and never answers, the other speaks
// enough RESP to count requests and can be told to hold every command until resumed, like a
// redis-server under SIGSTOP (rate-limit-redis.test.ts pauses a real one).
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { loadConfig } from '../../src/config/load.js'
import { build, captureLogs, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'

interface FakeRedis {
  url: string
  /** EVALs received (each is one request the limiter sent to Redis). */
  evals: () => number
  /** Holds every later command unanswered, as a stopped Redis does. */
  stall: () => void
  /** Answers every held command, in order, and every later one at once. */
  resume: () => void
}

/** One RESP command (an array of bulk strings) from the front of `buffer`, if it is all there. */
function parseCommand(buffer: Buffer): { args: string[]; length: number } | undefined {
  const text = buffer.toString('latin1')
  let end = text.indexOf('\r\n')
  if (!text.startsWith('*') || end < 0) return undefined
  const count = Number(text.slice(1, end))
  let pos = end + 2
  const args: string[] = []
  for (let i = 0; i < count; i++) {
    end = text.indexOf('\r\n', pos)
    if (end < 0) return undefined
    const start = end + 2
    const length = Number(text.slice(pos + 1, end))
    if (text.length < start + length + 2) return undefined
    args.push(text.slice(start, start + length))
    pos = start + length + 2
  }
  return { args, length: pos }
}

const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`

/**
 * A Redis on 127.0.0.1. `silent`: accepts connections and never sends a byte. `answering`: answers the
 * handshake (HELLO refused as by a RESP2 server, CLIENT, INFO) and counts EVALs, except between
 * stall() and resume().
 */
async function startFakeRedis(t: TestContext, mode: 'silent' | 'answering'): Promise<FakeRedis> {
  let stalled = false
  let evals = 0
  const counts = new Map<string, number>()
  const sockets = new Set<Socket>()
  const held = new Map<Socket, string[][]>()

  const answer = (args: string[]): string => {
    const name = args[0].toUpperCase()
    if (name === 'HELLO') return "-ERR unknown command 'HELLO'\r\n"
    if (name === 'INFO') return bulk('# Server\r\nredis_version:7.0.0\r\nloading:0\r\n')
    if (name === 'EVAL') {
      const current = (counts.get(args[3]) ?? 0) + 1
      counts.set(args[3], current)
      return `*2\r\n:${current}\r\n:${args[4]}\r\n`
    }
    return '+OK\r\n'
  }

  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    if (mode === 'silent') return
    held.set(socket, [])
    let buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (let command = parseCommand(buffer); command !== undefined; command = parseCommand(buffer)) {
        buffer = buffer.subarray(command.length)
        if (command.args[0].toUpperCase() === 'EVAL') evals += 1
        const queue = held.get(socket)!
        // Replies keep their order: behind a held command, everything waits.
        if (stalled || queue.length > 0) queue.push(command.args)
        else socket.write(answer(command.args))
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    for (const socket of sockets) socket.destroy()
    server.close()
    await once(server, 'close')
  })
  const { port } = server.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${port}`,
    evals: () => evals,
    stall: () => {
      stalled = true
    },
    resume: () => {
      stalled = false
      for (const [socket, queue] of held) socket.write(queue.splice(0).map(answer).join(''))
    },
  }
}

const SIGN = { method: 'POST' as const, url: '/v1/signed-urls', payload: { distribution: 'demo', path: '/videos/a.mp4' } }
const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))

async function timed(app: FastifyInstance) {
  const started = performance.now()
  const res = await app.inject({ ...SIGN, headers: alice })
  return { res, ms: performance.now() - started }
}

async function scrape(app: FastifyInstance): Promise<string> {
  return (await app.inject({ url: '/metrics' })).body
}

/** The value of one sample, e.g. `name{label="x"}`; 0 when absent (a counter never incremented). */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? 0 : Number(line.slice(name.length + 1))
}

function logLines(text: string): { level: number; msg: string; [field: string]: unknown }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
}

// A timeout long enough that a request that waited on Redis is told apart from one that did not,
// on a busy machine: waited >= 0.8 x timeout, did not wait < 0.5 x timeout.
const TIMEOUT_MS = 500

describe('rate limits when Redis hangs (rateLimit.redisTimeoutMs, circuit breaker)', () => {
  it('a Redis that stops answering: each request waits at most the timeout, then none once the circuit opens, until a probe finds it back', async (t) => {
    const redis = await startFakeRedis(t, 'answering')
    const logs = captureLogs()
    let nowMs = TEST_NOW_MS
    const app = await build(t, {
      configInput: { rateLimit: { sign: { max: 1, timeWindowSeconds: 60 }, redisUrl: redis.url, redisTimeoutMs: TIMEOUT_MS, redisFailureThreshold: 3, redisCoolDownSeconds: 30 } },
      now: () => nowMs,
      logLevel: 'info',
      logStream: logs.stream,
    })
    // A first request while Redis answers (it also warms the signer up, which takes a while).
    assert.equal((await app.inject({ ...SIGN, headers: alice })).headers['x-ratelimit-remaining'], '0')
    redis.stall()

    // Until the circuit opens: the request waits on Redis, for the timeout and no longer, and passes (fail open).
    for (let i = 0; i < 3; i++) {
      const { res, ms } = await timed(app)
      assert.equal(res.statusCode, 200)
      assert.ok(ms >= TIMEOUT_MS * 0.8 && ms < 1500, `request ${i} took ${Math.round(ms)} ms`)
    }
    assert.equal(redis.evals(), 4)
    const opened = logLines(logs.text()).filter((line) => /rate-limit store circuit open/.test(line.msg))
    assert.equal(opened.length, 1)
    assert.equal(opened[0].level, 40)
    assert.equal(opened[0].reason, 'Command timed out')

    // Open: Redis is not asked at all, so nothing waits; a budget of 1 is not enforced.
    for (let i = 0; i < 5; i++) {
      const { res, ms } = await timed(app)
      assert.equal(res.statusCode, 200)
      assert.ok(ms < TIMEOUT_MS * 0.5, `request ${i} after the trip took ${Math.round(ms)} ms`)
    }
    // Concurrent requests neither queue behind Redis nor behind each other.
    const started = performance.now()
    const burst = await Promise.all(Array.from({ length: 20 }, () => app.inject({ ...SIGN, headers: alice })))
    assert.ok(burst.every((res) => res.statusCode === 200), 'burst.every((res) => res.statusCode === 200)')
    assert.ok(performance.now() - started < 1500, `20 concurrent requests took ${Math.round(performance.now() - started)} ms`)
    assert.equal(redis.evals(), 4)

    let metrics = await scrape(app)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_circuit_open'), 1)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_circuit_trips_total'), 1)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_unavailable_total{reason="timeout"}'), 3)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_unavailable_total{reason="circuit_open"}'), 25)

    // Redis is back, the cool-down ends: one probe, it succeeds, the circuit closes and limits apply again.
    redis.resume()
    nowMs += 30_000
    const probe = await app.inject({ ...SIGN, headers: bearer(makeToken({ sub: 'bob', scope: 'sign' })) })
    assert.equal(probe.statusCode, 200)
    assert.equal(probe.headers['x-ratelimit-remaining'], '0')
    assert.equal((await app.inject({ ...SIGN, headers: bearer(makeToken({ sub: 'bob', scope: 'sign' })) })).statusCode, 429)
    const closed = logLines(logs.text()).filter((line) => /rate-limit store circuit closed/.test(line.msg))
    assert.equal(closed.length, 1)
    assert.equal(closed[0].level, 30)
    metrics = await scrape(app)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_circuit_open'), 0)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_circuit_trips_total'), 1)
  })

  it('a Redis that accepts connections and never answers: the start and every request stay fast', async (t) => {
    const redis = await startFakeRedis(t, 'silent')
    const logs = captureLogs()
    const started = performance.now()
    const app = await build(t, {
      configInput: { rateLimit: { sign: { max: 1, timeWindowSeconds: 60 }, redisUrl: redis.url, redisTimeoutMs: TIMEOUT_MS, redisFailureThreshold: 3 } },
      logLevel: 'warn',
      logStream: logs.stream,
    })
    assert.ok(performance.now() - started < 5000, `the start took ${Math.round(performance.now() - started)} ms`)
    // The first request also warms the signer up (slow under the test loader): not timed.
    assert.equal((await app.inject({ ...SIGN, headers: alice })).statusCode, 200)
    for (let i = 0; i < 5; i++) {
      const { res, ms } = await timed(app)
      assert.equal(res.statusCode, 200)
      assert.ok(ms < TIMEOUT_MS * 0.5, `request ${i} took ${Math.round(ms)} ms`)
    }
    assert.match(logs.text(), /rate-limit store circuit open/)
    const metrics = await scrape(app)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_circuit_open'), 1)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_circuit_trips_total'), 1)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_unavailable_total{reason="error"}'), 3)
    assert.equal(sample(metrics, 'cf_signer_rate_limit_store_unavailable_total{reason="circuit_open"}'), 3)
  })
})

describe('rate limits when Redis fails, with rateLimit.onStoreFailure: closed', () => {
  it('answers 503 RATE_LIMIT_UNAVAILABLE with Retry-After: 1 s for a timeout, the cool-down once the circuit is open', async (t) => {
    const redis = await startFakeRedis(t, 'answering')
    const app = await build(t, {
      configInput: {
        rateLimit: { sign: { max: 100, timeWindowSeconds: 60 }, redisUrl: redis.url, redisTimeoutMs: 200, redisFailureThreshold: 2, redisCoolDownSeconds: 20, onStoreFailure: 'closed' },
      },
    })
    redis.stall()
    // The first timeout: retry in a second; the second opens the circuit: retry when the cool-down ends.
    for (const retryAfter of ['1', '20', '20', '20']) {
      const { res, ms } = await timed(app)
      assert.equal(res.statusCode, 503)
      const body = res.json()
      assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
      assert.equal(body.code, 'RATE_LIMIT_UNAVAILABLE')
      assert.equal(res.headers['retry-after'], retryAfter)
      assert.ok(res.headers['x-request-id'], "res.headers['x-request-id']")
      assert.ok(ms < 1500, `took ${Math.round(ms)} ms`)
    }
    assert.equal(redis.evals(), 2)
    const metrics = await scrape(app)
    assert.equal(sample(metrics, 'cf_signer_errors_total{code="RATE_LIMIT_UNAVAILABLE",status="503"}'), 4)
    // Routes outside the limited groups are not affected.
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
  })

  it('answers 503 RATE_LIMIT_UNAVAILABLE at once while Redis refuses connections', async (t) => {
    const server = createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as { port: number }
    server.close()
    await once(server, 'close')
    const app = await build(t, {
      configInput: { rateLimit: { sign: { max: 100, timeWindowSeconds: 60 }, redisUrl: `redis://127.0.0.1:${port}`, onStoreFailure: 'closed' } },
    })
    const { res } = await timed(app)
    assert.equal(res.statusCode, 503)
    assert.equal(res.json().code, 'RATE_LIMIT_UNAVAILABLE')
    assert.ok(Number(res.headers['retry-after']) >= 1, "Number(res.headers['retry-after']) >= 1")
  })
})

describe('config: rateLimit store failure keys', () => {
  const base = { auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: '/etc/cf-signer/keys', activeKeyId: 'K2JCJMDEHXQW5F' } }

  it('defaults to a 200 ms timeout, 3 failures, a 10 s cool-down and failing open', () => {
    const { rateLimit } = loadConfig({ production: true, input: { ...base, rateLimit: { redisUrl: 'redis://redis:6379' } } })
    assert.equal(rateLimit.redisTimeoutMs, 200)
    assert.equal(rateLimit.redisFailureThreshold, 3)
    assert.equal(rateLimit.redisCoolDownSeconds, 10)
    assert.equal(rateLimit.onStoreFailure, 'open')
  })

  it('refuses values out of range and an unknown failure mode, naming each field', () => {
    assert.throws(
      () => loadConfig({ production: true, input: { ...base, rateLimit: { redisTimeoutMs: 0, redisFailureThreshold: 0, redisCoolDownSeconds: 0, onStoreFailure: 'ignore' } } }),
      (err: { problems: string[] }) => {
        for (const field of ['redisTimeoutMs', 'redisFailureThreshold', 'redisCoolDownSeconds', 'onStoreFailure']) {
          assert.ok(
            err.problems.some((p) => p.startsWith(`rateLimit.${field}: `)),
            `${field}:\n${err.problems.join('\n')}`,
          )
        }
        return true
      },
    )
  })
})
