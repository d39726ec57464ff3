// The JWKS client (auth.jwt.jwksUrl) against a real HTTP server on 127.0.0.1: time, size and key-count
// bounds, refetching for rotation, and the last good set serving while the issuer is down or broken.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { JWKS_MAX_BYTES, JWKS_MAX_KEYS } from '../../src/config/schema.js'
import { createJwksLookup, describeJwksFailure, JWKS_FIRST_FETCH_RETRY_MS, JWKS_REFETCH_INTERVAL_MS, JWKS_TTL_MS } from '../../src/auth/jwks.js'
import { build, captureLogs } from '../support/build.js'
import { waitFor } from '../support/wait.js'
import { testClock } from '../support/clock.js'
import { bearer, makeToken } from '../support/tokens.js'

/**
 * A JWKS server whose answer the test changes as it goes: the key set, or a raw body; sent with a
 * Content-Length, chunked, chunked without end, or a Content-Length it never fulfils. Counts fetches.
 */
async function jwksServer(t: TestContext) {
  const state = {
    keys: [] as unknown[],
    body: undefined as string | undefined,
    send: 'whole' as 'whole' | 'chunked' | 'endless' | 'declared-only',
    status: 200,
    hang: false,
    fetches: 0,
  }
  const server = createServer((_req, res) => {
    state.fetches++
    if (state.hang) return
    const body = state.body ?? JSON.stringify({ keys: state.keys })
    if (state.send === 'whole') return void res.writeHead(state.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
    if (state.send === 'declared-only') return void res.writeHead(state.status, { 'content-type': 'application/json', 'content-length': 50 * JWKS_MAX_BYTES }).write('{"keys":[')
    res.writeHead(state.status, { 'content-type': 'application/json' })
    if (state.send === 'chunked') {
      for (let at = 0; at < body.length; at += 65_536) res.write(body.slice(at, at + 65_536))
      return void res.end()
    }
    // Endless: as fast as the client reads, until it hangs up.
    const chunk = Buffer.alloc(65_536, 0x20)
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
    }
    res.on('drain', pump)
    res.write('{"keys":[],"padding":"')
    pump()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` }
}

const silent = () => ({ warn: () => {} }) as unknown as FastifyBaseLogger

/** A logger that keeps its warnings as text. */
function warningsLog() {
  const warnings: string[] = []
  const log = { warn: (fields: { err: Error }, message: string) => void warnings.push(`${message}: ${fields.err.message}`) } as unknown as FastifyBaseLogger
  return { log, last: () => warnings.at(-1) ?? '', count: () => warnings.length }
}

const jwkOf = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'jwk' }), kid, use: 'sig' })

describe('auth: the JWKS lookup', () => {
  it('a JWKS that never answers fails within the timeout: AUTH_UNAVAILABLE', async (t) => {
    const { state, url } = await jwksServer(t)
    state.hang = true
    const started = Date.now()
    await assert.rejects(createJwksLookup(url, { log: silent(), timeoutMs: 200 })('k1'), { code: 'AUTH_UNAVAILABLE' })
    assert.ok(Date.now() - started < 2000, 'Date.now() - started < 2000')
  })

  it('keeps serving known keys from the last good set while the issuer is down; unknown kids are AUTH_UNAVAILABLE', async (t) => {
    const { state, url } = await jwksServer(t)
    state.keys = [jwkOf('k1')]
    const clock = testClock(0)
    const lookup = createJwksLookup(url, { log: silent(), now: clock.now })
    const pem = await lookup('k1')
    assert.match(pem, /BEGIN PUBLIC KEY/)
    state.status = 500
    clock.advance(JWKS_TTL_MS + JWKS_REFETCH_INTERVAL_MS + 1)
    assert.equal(await lookup('k1'), pem, 'a stale known key still serves')
    // The stale key started a refresh in the background; an unknown kid waits for that same one.
    await assert.rejects(lookup('k2'), { code: 'AUTH_UNAVAILABLE' })
    assert.equal(state.fetches, 2, 'one refresh, shared')
    assert.equal(await lookup('k1'), pem)
  })

  it('refetches for an unknown kid (rotation), at most once per interval', async (t) => {
    const { state, url } = await jwksServer(t)
    state.keys = [jwkOf('k1')]
    const clock = testClock(0)
    const lookup = createJwksLookup(url, { log: silent(), now: clock.now })
    await lookup('k1')
    state.keys = [jwkOf('k1'), jwkOf('k2')]
    await assert.rejects(lookup('k2'), (err: Error & { code?: string }) => err.code === undefined, 'too soon: the kid is unknown')
    await assert.rejects(lookup('made-up'))
    assert.equal(state.fetches, 1)
    clock.advance(JWKS_REFETCH_INTERVAL_MS + 1)
    assert.match(await lookup('k2'), /BEGIN PUBLIC KEY/)
    assert.equal(state.fetches, 2)
    await assert.rejects(lookup(undefined))
  })
})

describe('auth: the JWKS lookup refuses a key set too large or malformed, and keeps the last good one', () => {
  const oneKey = jwkOf('k1')
  const padded = (bytes: number) => JSON.stringify({ keys: [oneKey], padding: 'x'.repeat(bytes) })

  it(`a set over ${JWKS_MAX_BYTES} bytes, with or without Content-Length: AUTH_UNAVAILABLE, the size in the log`, async (t) => {
    const { state, url } = await jwksServer(t)
    state.body = padded(JWKS_MAX_BYTES)
    for (const send of ['whole', 'chunked'] as const) {
      state.send = send
      const warnings = warningsLog()
      await assert.rejects(createJwksLookup(url, { log: warnings.log })('k1'), { code: 'AUTH_UNAVAILABLE' }, send)
      assert.match(warnings.last(), new RegExp(`larger than ${JWKS_MAX_BYTES} bytes`), send)
    }
    // The same set under the cap is read.
    state.body = padded(JWKS_MAX_BYTES - 1000)
    assert.match(await createJwksLookup(url, { log: silent() })('k1'), /BEGIN PUBLIC KEY/)
  })

  it('stops reading at the cap: an endless body, or a Content-Length past it, fails at once, not at the timeout', async (t) => {
    const { state, url } = await jwksServer(t)
    for (const send of ['endless', 'declared-only'] as const) {
      state.send = send
      const warnings = warningsLog()
      const started = Date.now()
      await assert.rejects(createJwksLookup(url, { log: warnings.log, timeoutMs: 30_000 })('k1'), { code: 'AUTH_UNAVAILABLE' }, send)
      assert.ok(Date.now() - started < 5_000, `${send}: took ${Date.now() - started} ms`)
      assert.match(warnings.last(), /larger than/, send)
    }
  })

  it(`a set of more than ${JWKS_MAX_KEYS} keys: AUTH_UNAVAILABLE, the count in the log; a smaller cap is an option`, async (t) => {
    const { state, url } = await jwksServer(t)
    state.keys = Array.from({ length: JWKS_MAX_KEYS + 1 }, (_, i) => ({ ...oneKey, kid: `k${i}` }))
    const warnings = warningsLog()
    await assert.rejects(createJwksLookup(url, { log: warnings.log })('k1'), { code: 'AUTH_UNAVAILABLE' })
    assert.match(warnings.last(), new RegExp(`${JWKS_MAX_KEYS + 1} keys, more than ${JWKS_MAX_KEYS}`))
    state.keys = state.keys.slice(0, JWKS_MAX_KEYS)
    assert.match(await createJwksLookup(url, { log: silent() })('k1'), /BEGIN PUBLIC KEY/)
    await assert.rejects(createJwksLookup(url, { log: silent(), maxKeys: 10 })('k1'), { code: 'AUTH_UNAVAILABLE' })
  })

  it('after a bad refresh (too large, too many keys, malformed) the last good set keeps serving', async (t) => {
    const { state, url } = await jwksServer(t)
    state.keys = [oneKey]
    const clock = testClock(0)
    const warnings = warningsLog()
    const lookup = createJwksLookup(url, { log: warnings.log, now: clock.now, maxBytes: 4096, maxKeys: 5 })
    const pem = await lookup('k1')
    const bad: Array<[string, () => void, RegExp]> = [
      ['too large', () => (state.body = padded(4096)), /larger than 4096 bytes/],
      ['too many keys', () => (state.body = JSON.stringify({ keys: Array.from({ length: 6 }, (_, i) => ({ ...oneKey, kid: `n${i}` })) })), /6 keys, more than 5/],
      ['not JSON', () => (state.body = '{"keys": [{"kid": "k2"'), /not JSON/],
      ['not an object', () => (state.body = 'null'), /no "keys" array/],
      ['keys not an array', () => (state.body = '{"keys": {"kid": "k2"}}'), /no "keys" array/],
    ]
    for (const [label, serve, cause] of bad) {
      serve()
      clock.advance(JWKS_TTL_MS + JWKS_REFETCH_INTERVAL_MS + 1)
      assert.equal(await lookup('k1'), pem, `${label}: the known key serves while the set is refreshed`)
      await assert.rejects(lookup('k2'), { code: 'AUTH_UNAVAILABLE' }, label)
      assert.match(warnings.last(), cause, label)
      assert.equal(await lookup('k1'), pem, `${label}: the last good set is still in use`)
    }
    assert.equal(warnings.count(), bad.length)
  })

  it('through the app: auth.jwt.jwksMaxBytes and jwksMaxKeys; 503 AUTH_UNAVAILABLE with the cause in the log, not the body', async (t) => {
    const { state, url } = await jwksServer(t)
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }
    state.keys = [jwk]
    const clock = testClock()
    const logs = captureLogs()
    const app = await build(t, {
      now: clock.now,
      logLevel: 'warn',
      logStream: logs.stream,
      configInput: { auth: { jwt: { secret: undefined, jwksUrl: url, jwksMaxBytes: 2048, jwksMaxKeys: 2 } } },
    })
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const sign = (sub: string, kid: string) => bearer(makeToken({ sub, scope: 'sign' }, { key: privatePem, algorithm: 'RS256', kid }))
    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/signed-urls', headers, payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    assert.equal((await post(sign('alice', 'k1'))).statusCode, 200)

    const cases: Array<[string, string, RegExp]> = [
      [JSON.stringify({ keys: [jwk, { kid: 'k2' }, { kid: 'k3' }] }), 'k2', /3 keys, more than 2/],
      [JSON.stringify({ keys: [jwk, { ...jwk, kid: 'k4' }], padding: 'x'.repeat(2048) }), 'k4', /larger than 2048 bytes/],
    ]
    for (const [body, kid, cause] of cases) {
      state.body = body
      clock.advance(JWKS_REFETCH_INTERVAL_MS + 1)
      const refused = await post(sign('bob', kid))
      assert.equal(refused.statusCode, 503, refused.body)
      assert.equal(refused.json().code, 'AUTH_UNAVAILABLE')
      assert.doesNotMatch(refused.body, cause)
      assert.match(logs.text(), cause)
      assert.equal((await post(sign(`carol-${kid}`, 'k1'))).statusCode, 200, 'the last good set keeps serving')
    }
  })
})

/** A logger that keeps each warning's fields and message. */
function fieldsLog() {
  const lines: Array<Record<string, unknown> & { msg: string }> = []
  const log = { warn: (fields: object, msg: string) => void lines.push({ ...fields, msg }) } as unknown as FastifyBaseLogger
  return { log, lines }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('auth: a failed JWKS fetch is logged with its reason, not only "fetch failed"', () => {
  it('a refused connection: ECONNREFUSED, the cause in the message', async () => {
    const { log, lines } = fieldsLog()
    await assert.rejects(createJwksLookup(`http://127.0.0.1:${await closedPort()}/jwks.json`, { log })('k1'), { code: 'AUTH_UNAVAILABLE' })
    assert.equal(lines.length, 1, 'one warning per failed fetch')
    assert.equal(lines[0].reason, 'ECONNREFUSED')
    assert.equal(lines[0].msg, 'cannot fetch the JWKS (ECONNREFUSED)')
    assert.match((lines[0].err as Error).message, /^fetch failed: .*ECONNREFUSED/)
  })

  it('an unknown host: the resolver\'s code (ENOTFOUND) from the error\'s cause', () => {
    const cause = Object.assign(new Error('getaddrinfo ENOTFOUND issuer.example'), { code: 'ENOTFOUND' })
    const failure = describeJwksFailure(new TypeError('fetch failed', { cause }))
    assert.equal(failure.reason, 'ENOTFOUND')
    assert.equal(failure.message, 'fetch failed: getaddrinfo ENOTFOUND issuer.example')
  })

  it('an error status: HTTP_STATUS with the status; a set too large: TOO_LARGE; a timeout: TIMEOUT', async (t) => {
    const { state, url } = await jwksServer(t)
    const cases: Array<[string, () => void, Record<string, unknown>]> = [
      ['404', () => (state.status = 404), { reason: 'HTTP_STATUS', status: 404 }],
      ['too large', () => Object.assign(state, { status: 200, body: 'x'.repeat(JWKS_MAX_BYTES + 1) }), { reason: 'TOO_LARGE' }],
      ['no keys', () => Object.assign(state, { body: '{}' }), { reason: 'NO_KEYS' }],
      ['hangs', () => (state.hang = true), { reason: 'TIMEOUT' }],
    ]
    for (const [label, serve, expected] of cases) {
      serve()
      const { log, lines } = fieldsLog()
      await assert.rejects(createJwksLookup(url, { log, timeoutMs: 300 })('k1'), { code: 'AUTH_UNAVAILABLE' }, label)
      assert.deepEqual({ reason: lines[0]?.reason, ...('status' in expected && { status: lines[0]?.status }) }, expected, label)
      assert.equal(lines[0].jwksUrl, url, label)
    }
  })
})

describe('GET /readyz with auth.jwt.jwksUrl', () => {
  it('is not ready until the JWKS has been fetched once, naming the last failure; then ready while later fetches fail', async (t) => {
    const { state, url } = await jwksServer(t)
    state.status = 503
    const clock = testClock()
    const logs = captureLogs()
    const app = await build(t, { now: clock.now, logLevel: 'warn', logStream: logs.stream, configInput: { auth: { jwt: { secret: undefined, jwksUrl: url } } } })
    // The app fetches the set as it starts, before any token asks for it.
    await waitFor(() => logs.text().includes('"reason":"HTTP_STATUS"'), 5_000, () => `the start-up fetch's warning in ${logs.text()}`)
    assert.equal(state.fetches, 1, 'one fetch at start')
    const notReady = await app.inject({ url: '/readyz' })
    assert.equal(notReady.statusCode, 503)
    assert.deepEqual(notReady.json().reasons, ['JWKS not fetched yet (HTTP_STATUS)'])
    assert.equal(state.fetches, 1, 'a readiness check within the retry interval fetches nothing')

    state.status = 200
    state.keys = [jwkOf('k1')]
    clock.advance(JWKS_FIRST_FETCH_RETRY_MS + 1)
    assert.equal((await app.inject({ url: '/readyz' })).statusCode, 503, 'this check starts the retry')
    await waitFor(() => app.jwks!.status().fetched, 5_000, 'the retry to bring a set')
    assert.equal(state.fetches, 2, 'one retry')
    let ready = await app.inject({ url: '/readyz' })
    assert.equal(ready.statusCode, 200, ready.body)
    assert.deepEqual(ready.json().reasons, [])

    state.status = 500
    clock.advance(JWKS_TTL_MS + JWKS_REFETCH_INTERVAL_MS + 1)
    ready = await app.inject({ url: '/readyz' })
    assert.equal(ready.statusCode, 200, 'a failed refresh later keeps the instance ready: the last good set serves')
  })

  it('has no JWKS reason when auth uses a secret or a public key file', async (t) => {
    const app = await build(t)
    const res = await app.inject({ url: '/readyz' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json().reasons, [])
  })
})
