import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { loadConfig, ConfigError } from '../../src/config/load.js'
import { build } from '../support/build.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'

const SIGN = { method: 'POST' as const, url: '/v1/signed-urls', payload: { distribution: 'demo', path: '/videos/a.mp4' } }
const APP_ORIGIN = 'https://app.example.com'

describe('security headers', () => {
  it('marks every API answer as not cacheable, not frameable and never script-bearing', async (t) => {
    const app = await build(t)
    for (const response of [
      await app.inject({ ...SIGN, headers: bearer() }),
      await app.inject({ ...SIGN }),
      await app.inject({ method: 'GET', url: '/nowhere' }),
      await app.inject({ method: 'GET', url: '/healthz' }),
    ]) {
      assert.equal(response.headers['cache-control'], 'no-store')
      assert.equal(response.headers['content-security-policy'], "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'")
      assert.equal(response.headers['x-content-type-options'], 'nosniff')
      assert.equal(response.headers['x-frame-options'], 'DENY')
      assert.equal(response.headers['referrer-policy'], 'no-referrer')
      assert.equal(response.headers['cross-origin-resource-policy'], 'same-origin')
      assert.match(String(response.headers['strict-transport-security']), /^max-age=\d+/)
      assert.equal(response.headers['x-powered-by'], undefined)
      // The rest of what @fastify/helmet set before the headers were precomputed (src/plugins/http-security.ts).
      assert.equal(response.headers['cross-origin-opener-policy'], 'same-origin')
      assert.equal(response.headers['origin-agent-cluster'], '?1')
      assert.equal(response.headers['x-dns-prefetch-control'], 'off')
      assert.equal(response.headers['x-download-options'], 'noopen')
      assert.equal(response.headers['x-permitted-cross-domain-policies'], 'none')
      assert.equal(response.headers['x-xss-protection'], '0')
    }
  })
})

describe('CORS (cors.origins)', () => {
  const corsConfig = { cors: { origins: [APP_ORIGIN, 'http://localhost:5173'] } }

  it('answers a preflight from an allowed origin with the allowed method and request headers', async (t) => {
    const app = await build(t, { configInput: corsConfig })
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/v1/signed-urls',
      headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })
    assert.equal(response.statusCode, 204)
    assert.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
    assert.deepEqual(String(response.headers['access-control-allow-headers']).split(/,\s*/).sort(), ['authorization', 'content-type'])
    assert.match(String(response.headers['access-control-allow-methods']), /\bPOST\b/)
    assert.equal(response.headers['access-control-max-age'], '600')
    assert.equal(response.headers['access-control-allow-credentials'], undefined)
    assert.match(String(response.headers.vary), /origin/i)
  })

  it('lets the frontend read answers and errors, with the request ID and rate-limit headers exposed', async (t) => {
    const app = await build(t, { configInput: corsConfig })
    for (const response of [
      await app.inject({ ...SIGN, headers: { ...bearer(), origin: APP_ORIGIN } }),
      await app.inject({ ...SIGN, headers: { origin: APP_ORIGIN } }),
    ]) {
      assert.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
      assert.match(String(response.headers['access-control-expose-headers']), /x-request-id/)
      assert.match(String(response.headers['access-control-expose-headers']), /retry-after/)
      assert.match(String(response.headers['access-control-expose-headers']), /x-ratelimit-remaining/)
    }
  })

  it('gives an origin that is not listed no CORS headers', async (t) => {
    const app = await build(t, { configInput: corsConfig })
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/v1/signed-urls',
      headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
    })
    assert.equal(preflight.headers['access-control-allow-origin'], undefined)
    const response = await app.inject({ ...SIGN, headers: { ...bearer(), origin: 'https://app.example.com.evil.example.net' } })
    assert.equal(response.headers['access-control-allow-origin'], undefined)
  })

  it('allows credentials only when cors.credentials is true', async (t) => {
    const app = await build(t, { configInput: { cors: { origins: [APP_ORIGIN], credentials: true, maxAgeSeconds: 60 } } })
    const response = await app.inject({ method: 'OPTIONS', url: '/v1/signed-urls', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' } })
    assert.equal(response.headers['access-control-allow-credentials'], 'true')
    assert.equal(response.headers['access-control-max-age'], '60')
  })

  it('is off without origins: no CORS headers, no preflight route', async (t) => {
    const app = await build(t)
    const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/signed-urls', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' } })
    assert.equal(preflight.statusCode, 404)
    assert.equal(preflight.json().code, 'NOT_FOUND')
    const response = await app.inject({ ...SIGN, headers: { ...bearer(), origin: APP_ORIGIN } })
    assert.equal(response.statusCode, 200)
    assert.equal(response.headers['access-control-allow-origin'], undefined)
  })

  it('refuses "*", wildcards, paths and upper case in cors.origins at load, naming the field', () => {
    for (const origin of ['*', 'https://*.example.com', 'https://app.example.com/', 'https://App.example.com', 'app.example.com', 'null']) {
      assert.throws(
        () => loadConfig({ production: true, input: { auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: '/nonexistent' }, cors: { origins: [origin] } } }),
        (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('cors.origins.0:')),
        origin,
      )
    }
    const config = loadConfig({ production: true, input: { auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: '/nonexistent' }, cors: { origins: ['http://[::1]:8080', 'https://a.example.com:8443'] } } })
    assert.deepEqual(config.cors.origins, ['http://[::1]:8080', 'https://a.example.com:8443'])
  })
})

describe('request size and time limits', () => {
  it('refuses a body over server.bodyLimitBytes with 413 BODY_TOO_LARGE', async (t) => {
    const app = await build(t, { configInput: { server: { bodyLimitBytes: 2048 } } })
    const response = await app.inject({ ...SIGN, headers: bearer(), payload: { distribution: 'demo', path: `/videos/${'a'.repeat(3000)}` } })
    assert.equal(response.statusCode, 413)
    assert.equal(response.json().code, 'BODY_TOO_LARGE')
  })

  it('cuts off a client that does not send its whole request within server.requestTimeoutSeconds', async (t) => {
    const app = await build(t, { configInput: { server: { requestTimeoutSeconds: 1 } } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const socket = connect(port, '127.0.0.1')
    t.after(() => socket.destroy())
    await once(socket, 'connect')
    const started = performance.now()
    // Headers and the start of a body, then nothing: a slow (or slowloris) client.
    socket.write(`POST /v1/signed-urls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${makeToken()}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`)
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    await once(socket, 'close')
    const elapsedMs = performance.now() - started
    assert.match(answer, /^HTTP\/1\.1 408 /)
    assert.ok(elapsedMs >= 900 && elapsedMs < 4000, `closed after ${Math.round(elapsedMs)} ms`)
  })

  it('applies server.keepAliveTimeoutSeconds to idle connections', async (t) => {
    const app = await build(t, { configInput: { server: { keepAliveTimeoutSeconds: 95 } } })
    assert.equal(app.server.keepAliveTimeout, 95_000)
    const defaults = await build(t)
    assert.equal(defaults.server.keepAliveTimeout, 72_000)
    assert.equal(defaults.server.requestTimeout, 30_000)
  })
})
