import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import type { FastifyInstance } from 'fastify'
import { loadConfig, ConfigError } from '../../src/config/load.js'
import { build } from '../support/build.js'
import { waitFor } from '../support/wait.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'
import { EMULATOR_CREDENTIALS, READ, S3_ORIGIN, WRITE, startEmulator } from '../routes/admin/helpers.js'

const SIGN = { method: 'POST' as const, url: '/v1/signed-urls', payload: { distribution: 'demo', path: '/videos/a.mp4' } }
const APP_ORIGIN = 'https://app.example.com'
const ERROR_FIELDS = ['code', 'error', 'message', 'statusCode']

/** The security headers every answer carries, errors included (src/plugins/http-security.ts). */
function assertSecurityHeaders(headers: Record<string, unknown>, what: string) {
  assert.equal(headers['cache-control'], 'no-store', what)
  assert.equal(headers['content-security-policy'], "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'", what)
  assert.equal(headers['x-content-type-options'], 'nosniff', what)
  assert.equal(headers['x-frame-options'], 'DENY', what)
  assert.equal(headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', what)
  assert.equal(headers['cross-origin-resource-policy'], 'same-origin', what)
}

/** An error answer in the service's shape: `{statusCode, code, error, message}`, the status and code asked for. */
function assertErrorAnswer(answer: { statusCode: number; headers: Record<string, unknown>; body: string }, statusCode: number, code: string) {
  assert.equal(answer.statusCode, statusCode, answer.body)
  const body = JSON.parse(answer.body)
  assert.deepEqual(Object.keys(body).sort(), ERROR_FIELDS)
  assert.equal(body.statusCode, statusCode)
  assert.equal(body.code, code)
  assert.match(String(answer.headers['content-type']), /^application\/json/)
  assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  assertSecurityHeaders(answer.headers, code)
}

async function listen(t: TestContext, configInput: Record<string, unknown> = {}): Promise<{ app: FastifyInstance; port: number }> {
  const app = await build(t, { configInput })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { app, port: (app.server.address() as { port: number }).port }
}

/** A raw connection: what a client that is not an HTTP library sends, and every byte that comes back. */
async function rawConnection(t: TestContext, port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
  socket.on('error', () => {})
  const closed = once(socket, 'close').then(() => undefined)
  await once(socket, 'connect')
  return { socket, received: () => received, closed }
}

/** Parses one HTTP/1.1 answer (Content-Length framed). */
function parseAnswer(text: string): { statusCode: number; headers: Record<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n')
  assert.ok(end > 0, `no complete answer in ${JSON.stringify(text.slice(0, 200))}`)
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n')
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
  const length = Number(headers['content-length'] ?? 0)
  return { statusCode: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4, end + 4 + length) }
}

/** Sends raw bytes on a fresh connection and reads until the server closes it. */
async function exchange(t: TestContext, port: number, request: string) {
  const connection = await rawConnection(t, port)
  connection.socket.write(request)
  await connection.closed
  return parseAnswer(connection.received())
}

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

  it('refuses a malformed preflight (400 BAD_REQUEST) and one from an unlisted origin (403 FORBIDDEN_ORIGIN) in the error shape', async (t) => {
    const app = await build(t, { configInput: corsConfig })
    const malformed = await app.inject({ method: 'OPTIONS', url: '/v1/signed-urls', headers: { origin: APP_ORIGIN } })
    assertErrorAnswer({ statusCode: malformed.statusCode, headers: malformed.headers, body: malformed.body }, 400, 'BAD_REQUEST')
    const noOrigin = await app.inject({ method: 'OPTIONS', url: '/v1/signed-urls', headers: { 'access-control-request-method': 'POST' } })
    assertErrorAnswer({ statusCode: noOrigin.statusCode, headers: noOrigin.headers, body: noOrigin.body }, 400, 'BAD_REQUEST')
    const unlisted = await app.inject({ method: 'OPTIONS', url: '/v1/signed-urls', headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' } })
    assertErrorAnswer({ statusCode: unlisted.statusCode, headers: unlisted.headers, body: unlisted.body }, 403, 'FORBIDDEN_ORIGIN')
    assert.equal(unlisted.headers['access-control-allow-origin'], undefined)
  })

  it('is off without origins: no CORS headers, no preflight route (OPTIONS is 405 like any other missing method)', async (t) => {
    const app = await build(t)
    const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/signed-urls', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' } })
    assert.equal(preflight.statusCode, 405)
    assert.equal(preflight.json().code, 'METHOD_NOT_ALLOWED')
    assert.equal(preflight.headers.allow, 'POST')
    assert.equal(preflight.headers['access-control-allow-origin'], undefined)
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
    const { port } = await listen(t, { server: { requestTimeoutSeconds: 1, headersTimeoutSeconds: 1 } })
    const connection = await rawConnection(t, port)
    const started = performance.now()
    // Headers and the start of a body, then nothing: a slow (or slowloris) client.
    connection.socket.write(`POST /v1/signed-urls HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${makeToken()}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`)
    await connection.closed
    const elapsedMs = performance.now() - started
    const answer = parseAnswer(connection.received())
    assertErrorAnswer(answer, 408, 'REQUEST_TIMEOUT')
    assert.equal(answer.headers.connection, 'close')
    assert.ok(elapsedMs >= 900 && elapsedMs < 4000, `closed after ${Math.round(elapsedMs)} ms`)
  })

  it('cuts off a client that does not send its headers within server.headersTimeoutSeconds (408, then closed)', async (t) => {
    const { port } = await listen(t, { server: { requestTimeoutSeconds: 5, headersTimeoutSeconds: 1 } })
    const connection = await rawConnection(t, port)
    const started = performance.now()
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    await connection.closed
    const elapsedMs = performance.now() - started
    assertErrorAnswer(parseAnswer(connection.received()), 408, 'REQUEST_TIMEOUT')
    assert.ok(elapsedMs >= 900 && elapsedMs < 3500, `closed after ${Math.round(elapsedMs)} ms`)
  })

  it('applies server.connectionTimeoutSeconds, except to a wait for Deployed, which is silent for its whole timeout', async (t) => {
    const { endpoint } = await startEmulator(t, { deploySeconds: 2 })
    const aws = { accounts: { test: { region: 'us-east-1', endpoint } }, maxAttempts: 1, requestTimeoutMs: 500, wait: { firstPollDelayMs: 100, maxPollDelayMs: 100 } }
    const app = await build(t, { configInput: { aws, server: { connectionTimeoutSeconds: 1 } }, awsCredentials: EMULATOR_CREDENTIALS })
    assert.equal(app.server.timeout, 1000)
    assert.equal((await build(t)).server.timeout, 120_000)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/admin`
    const created = await fetch(`${base}/distributions`, { method: 'POST', headers: { ...WRITE, 'content-type': 'application/json' }, body: JSON.stringify({ origin: { domainName: S3_ORIGIN } }) })
    const { id } = (await created.json()) as { id: string }
    const started = performance.now()
    const waited = await fetch(`${base}/distributions/${id}/wait`, { method: 'POST', headers: { ...READ, 'content-type': 'application/json' }, body: '{"timeoutSeconds":10}' })
    assert.equal(waited.status, 200)
    assert.equal(((await waited.json()) as { status: string }).status, 'Deployed')
    assert.ok(performance.now() - started > 1000, 'the wait outlasted the connection timeout')
  })

  it('applies server.keepAliveTimeoutSeconds to idle connections', async (t) => {
    const app = await build(t, { configInput: { server: { keepAliveTimeoutSeconds: 95 } } })
    assert.equal(app.server.keepAliveTimeout, 95_000)
    const defaults = await build(t)
    assert.equal(defaults.server.keepAliveTimeout, 72_000)
    assert.equal(defaults.server.requestTimeout, 30_000)
    assert.equal(defaults.server.headersTimeout, 10_000)
  })

  it('refuses timeouts that contradict each other at load, naming the field', () => {
    const base = { auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: '/nonexistent' } }
    assert.throws(
      () => loadConfig({ production: true, input: { ...base, server: { requestTimeoutSeconds: 5, headersTimeoutSeconds: 10 } } }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('server.headersTimeoutSeconds:')),
    )
    const aws = { accounts: { test: { region: 'us-east-1' } }, requestTimeoutMs: 60_000, maxAttempts: 3 }
    assert.throws(
      () => loadConfig({ production: true, input: { ...base, aws } }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('server.connectionTimeoutSeconds:')),
    )
    assert.equal(loadConfig({ production: true, input: { ...base, aws, server: { connectionTimeoutSeconds: 0 } } }).server.connectionTimeoutSeconds, 0)
    assert.equal(loadConfig({ production: true, input: { ...base, aws, server: { connectionTimeoutSeconds: 181 } } }).server.connectionTimeoutSeconds, 181)
  })
})

describe('errors raised outside the routes keep the error shape and the security headers', () => {
  it('answers a malformed request line or header 400 BAD_REQUEST, then closes the connection', async (t) => {
    const { port } = await listen(t)
    for (const request of [
      'GARBAGE\r\n\r\n',
      'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
      'POST /v1/signed-urls HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}',
    ]) {
      const answer = await exchange(t, port, request)
      assertErrorAnswer(answer, 400, 'BAD_REQUEST')
      assert.equal(answer.headers.connection, 'close')
    }
  })

  it('answers headers over Node\'s 16 KB limit 431 HEADERS_TOO_LARGE', async (t) => {
    const { port } = await listen(t)
    const answer = await exchange(t, port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`)
    assertErrorAnswer(answer, 431, 'HEADERS_TOO_LARGE')
  })

  it('answers an undecodable URL 400 BAD_REQUEST and a body over the limit 413 BODY_TOO_LARGE', async (t) => {
    const app = await build(t, { configInput: { server: { bodyLimitBytes: 2048 } } })
    const url = await app.inject({ method: 'GET', url: '/v1/%zz' })
    assertErrorAnswer({ statusCode: url.statusCode, headers: url.headers, body: url.body }, 400, 'BAD_REQUEST')
    const large = await app.inject({ ...SIGN, headers: { ...bearer(), 'content-type': 'application/json' }, payload: JSON.stringify({ distribution: 'demo', path: `/${'a'.repeat(3000)}` }) })
    assertErrorAnswer({ statusCode: large.statusCode, headers: large.headers, body: large.body }, 413, 'BODY_TOO_LARGE')
  })

  it('answers another method on a known path 405 METHOD_NOT_ALLOWED with an Allow header; an unknown path stays 404', async (t) => {
    const app = await build(t)
    for (const [method, url, allow] of [
      ['PUT', '/v1/signed-urls', 'POST'],
      ['GET', '/v1/signed-urls', 'POST'],
      ['DELETE', '/healthz', 'GET, HEAD'],
      ['POST', '/v1/admin/distributions/E123?account=x', 'GET, HEAD, PATCH, DELETE'],
    ] as const) {
      const response = await app.inject({ method, url, headers: bearer() })
      assertErrorAnswer({ statusCode: response.statusCode, headers: response.headers, body: response.body }, 405, 'METHOD_NOT_ALLOWED')
      assert.equal(response.headers.allow, allow, `${method} ${url}`)
    }
    const unknown = await app.inject({ method: 'PUT', url: '/v1/nowhere' })
    assertErrorAnswer({ statusCode: unknown.statusCode, headers: unknown.headers, body: unknown.body }, 404, 'NOT_FOUND')
    assert.equal(unknown.headers.allow, undefined)
  })

  it('answers a request that arrives once the app is closing 503 SHUTTING_DOWN with Connection: close', async (t) => {
    const { app, port } = await listen(t)
    // A request whose headers have begun keeps its connection from being closed as idle.
    const accepted = once(app.server, 'connection') as Promise<[Socket]>
    const connection = await rawConnection(t, port)
    const [serverSide] = await accepted
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n')
    await waitFor(() => serverSide.bytesRead > 0, 5000, 'the server to read the request line')
    const closing = app.close()
    await waitFor(() => !app.server.listening, 5000, 'the server to stop listening')
    connection.socket.write('\r\n')
    await connection.closed
    await closing
    const answer = parseAnswer(connection.received())
    assertErrorAnswer(answer, 503, 'SHUTTING_DOWN')
    assert.equal(answer.headers.connection, 'close')
  })
})
