// Who may call: every way a bearer token is refused (401), the verification sources (HS256 secret,
// RS256/ES256 public key file, a JWKS served over real HTTP), scopes, and the claims that narrow a
// caller (403), on the signing route.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { createJwksLookup, createVerifiedTokens, JWKS_REFETCH_INTERVAL_MS, JWKS_TTL_MS, VERIFIED_TOKEN_TTL_MS } from '../../src/plugins/auth.js'
import { build } from '../support/build.js'
import { sharedApp } from '../support/shared-app.js'
import { makeKeyDir } from '../support/keys.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'

const SIGN = { distribution: 'demo', path: '/videos/intro.mp4' }
const defaultApp = sharedApp()

async function post(app: FastifyInstance, headers: Record<string, string>, payload: unknown = SIGN, url = '/v1/signed-urls') {
  return app.inject({ method: 'POST', url, headers, payload: payload as object })
}

function assertError(res: { statusCode: number; json: () => any }, statusCode: number, code: string) {
  const body = res.json()
  assert.equal(res.statusCode, statusCode, JSON.stringify(body))
  assert.equal(body.code, code)
  assert.equal(body.statusCode, statusCode)
  assert.equal(typeof body.error, 'string')
  assert.equal(typeof body.message, 'string')
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const nowSeconds = () => Math.floor(Date.now() / 1000)

function writeTemp(t: TestContext, name: string, content: string): string {
  const { dir, cleanup } = makeKeyDir({ [name]: content })
  t.after(cleanup)
  return join(dir, name)
}

function publicPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString()
}

describe('auth: tokens that are refused with 401', () => {
  it('no Authorization header: UNAUTHORIZED', async () => {
    const app = await defaultApp()
    assertError(await post(app, {}), 401, 'UNAUTHORIZED')
  })

  it('a header that is not a bearer token: UNAUTHORIZED', async () => {
    const app = await defaultApp()
    for (const authorization of ['Basic YWxpY2U6c2VjcmV0', 'Bearer', makeToken()]) {
      assertError(await post(app, { authorization }), 401, 'UNAUTHORIZED')
    }
  })

  it('a malformed bearer header: TOKEN_INVALID', async () => {
    const app = await defaultApp()
    for (const authorization of [`Bearer ${makeToken()} extra`, 'Bearer  two-spaces']) {
      assertError(await post(app, { authorization }), 401, 'TOKEN_INVALID')
    }
  })

  it('a garbage token: TOKEN_INVALID', async () => {
    const app = await defaultApp()
    for (const token of ['garbage', 'a.b.c', `${b64url({ alg: 'HS256' })}.not-json.sig`]) {
      assertError(await post(app, bearer(token)), 401, 'TOKEN_INVALID')
    }
  })

  it('an expired token: TOKEN_EXPIRED', async () => {
    const app = await defaultApp()
    const token = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256' })({ sub: 'alice', scope: 'sign', exp: nowSeconds() - 60 })
    assertError(await post(app, bearer(token)), 401, 'TOKEN_EXPIRED')
  })

  it('a token accepted (and so cached) while valid is refused once it expires: TOKEN_EXPIRED', async (t) => {
    const app = await build(t)
    const exp = nowSeconds() + 2
    const token = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256' })({ sub: 'alice', scope: 'sign', exp })
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 50))
    assertError(await post(app, bearer(token)), 401, 'TOKEN_EXPIRED')
  })

  it('a token expired within clockToleranceSeconds is accepted', async (t) => {
    const app = await build(t, { configInput: { auth: { jwt: { clockToleranceSeconds: 120 } } } })
    const token = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256' })({ sub: 'alice', scope: 'sign', exp: nowSeconds() - 60 })
    assert.equal((await post(app, bearer(token))).statusCode, 200)
  })

  it('a token not valid yet (nbf): TOKEN_NOT_YET_VALID', async () => {
    const app = await defaultApp()
    assertError(await post(app, bearer(makeToken(undefined, { notBeforeSeconds: 600 }))), 401, 'TOKEN_NOT_YET_VALID')
  })

  it('a bad signature (another secret, or a tampered payload): TOKEN_INVALID', async () => {
    const app = await defaultApp()
    assertError(await post(app, bearer(makeToken(undefined, { key: 'another-secret-that-is-long-enough-0123456789' }))), 401, 'TOKEN_INVALID')
    const [header, , signature] = makeToken({ sub: 'alice', scope: 'sign' }).split('.')
    const tampered = `${header}.${b64url({ sub: 'alice', scope: 'sign sign:wildcard admin:write', exp: nowSeconds() + 600 })}.${signature}`
    assertError(await post(app, bearer(tampered)), 401, 'TOKEN_INVALID')
  })

  it('alg "none" (crafted by hand, with and without a signature part): TOKEN_INVALID', async () => {
    const app = await defaultApp()
    const payload = b64url({ sub: 'mallory', scope: 'sign', exp: nowSeconds() + 600 })
    for (const alg of ['none', 'None', 'NONE']) {
      const header = b64url({ alg, typ: 'JWT' })
      for (const token of [`${header}.${payload}.`, `${header}.${payload}`]) {
        const res = await post(app, bearer(token))
        assert.equal(res.statusCode, 401, `${alg}: ${res.body}`)
        assert.ok(['TOKEN_INVALID', 'UNAUTHORIZED'].includes(res.json().code))
      }
    }
  })

  it('an algorithm outside the pinned list (HS384 when HS256 is pinned): TOKEN_INVALID', async () => {
    const app = await defaultApp()
    assertError(await post(app, bearer(makeToken(undefined, { algorithm: 'HS384' }))), 401, 'TOKEN_INVALID')
  })

  it('the wrong issuer or audience, when configured: TOKEN_INVALID; the right ones pass', async (t) => {
    const app = await build(t, { configInput: { auth: { jwt: { issuer: 'https://login.example.com/', audience: 'cf-signer' } } } })
    const right = { iss: 'https://login.example.com/', aud: 'cf-signer' }
    assert.equal((await post(app, bearer(makeToken(undefined, right)))).statusCode, 200)
    assertError(await post(app, bearer(makeToken(undefined, { ...right, iss: 'https://evil.example.com/' }))), 401, 'TOKEN_INVALID')
    assertError(await post(app, bearer(makeToken(undefined, { ...right, aud: 'another-service' }))), 401, 'TOKEN_INVALID')
    assertError(await post(app, bearer(makeToken())), 401, 'TOKEN_INVALID')
  })
})

describe('auth: verification sources', () => {
  it('RS256 via auth.jwt.publicKeyFile; an HS256 token keyed with that public key is refused', async (t) => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const publicKeyFile = writeTemp(t, 'jwt.pub.pem', publicPem(publicKey))
    const app = await build(t, { configInput: { auth: { jwt: { secret: undefined, publicKeyFile } } } })
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    assert.equal((await post(app, bearer(makeToken(undefined, { key: privatePem, algorithm: 'RS256' })))).statusCode, 200)
    // The classic confusion attack: the public key (which anyone may hold) used as an HMAC secret.
    assertError(await post(app, bearer(makeToken(undefined, { key: publicPem(publicKey), algorithm: 'HS256' }))), 401, 'TOKEN_INVALID')
    assertError(await post(app, bearer(makeToken())), 401, 'TOKEN_INVALID')
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    assertError(await post(app, bearer(makeToken(undefined, { key: other, algorithm: 'RS256' }))), 401, 'TOKEN_INVALID')
  })

  it('ES256 via auth.jwt.publicKeyFile (the algorithm follows the key)', async (t) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    const publicKeyFile = writeTemp(t, 'jwt.pub.pem', publicPem(publicKey))
    const app = await build(t, { configInput: { auth: { jwt: { secret: undefined, publicKeyFile } } } })
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    assert.equal((await post(app, bearer(makeToken(undefined, { key: privatePem, algorithm: 'ES256' })))).statusCode, 200)
  })

  it('JWKS via auth.jwt.jwksUrl served over HTTP on 127.0.0.1: the kid selects the key', async (t) => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'RS256', use: 'sig' }
    let requests = 0
    const server = createServer((req, res) => {
      requests++
      if (req.url !== '/tenant/.well-known/jwks.json') return void res.writeHead(404).end('{}')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const app = await build(t, { configInput: { auth: { jwt: { secret: undefined, jwksUrl: `http://127.0.0.1:${port}/tenant/.well-known/jwks.json` } } } })

    const sign = (kid: string, key: KeyObject = privateKey) =>
      createSigner({ key: key.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'RS256', kid, expiresIn: 600_000 })({ sub: 'svc', scope: 'sign' })
    assert.equal((await post(app, bearer(sign('key-1')))).statusCode, 200)
    assert.equal((await post(app, bearer(sign('key-1')))).statusCode, 200)
    assert.equal(requests, 1, 'the key set is cached')
    assertError(await post(app, bearer(sign('key-2'))), 401, 'TOKEN_INVALID')
    assertError(await post(app, bearer(sign('key-1', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey))), 401, 'TOKEN_INVALID')
    assertError(await post(app, bearer(makeToken())), 401, 'TOKEN_INVALID')
  })

  it('a JWKS endpoint that is down or broken: 503 AUTH_UNAVAILABLE, not a 401 blaming the token', async (t) => {
    const server = createServer((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"down"}'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const token = createSigner({ key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'RS256', kid: 'k', expiresIn: 600_000 })({ scope: 'sign' })
    const broken = await build(t, { configInput: { auth: { jwt: { secret: undefined, jwksUrl: `http://127.0.0.1:${port}/jwks.json` } } } })
    assertError(await post(broken, bearer(token)), 503, 'AUTH_UNAVAILABLE')
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const unreachable = await build(t, { configInput: { auth: { jwt: { secret: undefined, jwksUrl: `http://127.0.0.1:${port}/jwks.json` } } } })
    assertError(await post(unreachable, bearer(token)), 503, 'AUTH_UNAVAILABLE')
  })
})

describe('auth: the JWKS lookup', () => {
  const silent = { warn: () => {} } as unknown as FastifyBaseLogger

  /** A JWKS server whose answer the test changes as it goes; counts the fetches. */
  async function jwksServer(t: TestContext) {
    const state = { keys: [] as unknown[], status: 200, hang: false, fetches: 0 }
    const server = createServer((_req, res) => {
      state.fetches++
      if (state.hang) return
      res.writeHead(state.status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    })
    return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` }
  }
  const jwkOf = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'jwk' }), kid, use: 'sig' })

  it('a JWKS that never answers fails within the timeout: AUTH_UNAVAILABLE', async (t) => {
    const { state, url } = await jwksServer(t)
    state.hang = true
    const started = Date.now()
    await assert.rejects(createJwksLookup(url, { log: silent, timeoutMs: 200 })('k1'), { code: 'AUTH_UNAVAILABLE' })
    assert.ok(Date.now() - started < 2000)
  })

  it('keeps serving known keys from the last good set while the issuer is down; unknown kids are AUTH_UNAVAILABLE', async (t) => {
    const { state, url } = await jwksServer(t)
    state.keys = [jwkOf('k1')]
    let clock = 0
    const lookup = createJwksLookup(url, { log: silent, now: () => clock })
    const pem = await lookup('k1')
    assert.match(pem, /BEGIN PUBLIC KEY/)
    state.status = 500
    clock += JWKS_TTL_MS + JWKS_REFETCH_INTERVAL_MS + 1
    assert.equal(await lookup('k1'), pem, 'a stale known key still serves')
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(state.fetches, 2, 'a refresh was attempted in the background')
    clock += JWKS_REFETCH_INTERVAL_MS + 1
    await assert.rejects(lookup('k2'), { code: 'AUTH_UNAVAILABLE' })
  })

  it('refetches for an unknown kid (rotation), at most once per interval', async (t) => {
    const { state, url } = await jwksServer(t)
    state.keys = [jwkOf('k1')]
    let clock = 0
    const lookup = createJwksLookup(url, { log: silent, now: () => clock })
    await lookup('k1')
    state.keys = [jwkOf('k1'), jwkOf('k2')]
    await assert.rejects(lookup('k2'), (err: Error & { code?: string }) => err.code === undefined, 'too soon: the kid is unknown')
    await assert.rejects(lookup('made-up'))
    assert.equal(state.fetches, 1)
    clock += JWKS_REFETCH_INTERVAL_MS + 1
    assert.match(await lookup('k2'), /BEGIN PUBLIC KEY/)
    assert.equal(state.fetches, 2)
    await assert.rejects(lookup(undefined))
  })
})

describe('auth: scopes and claims', () => {
  it('reads scopes from `scope` (space separated) and from `scp` (an array)', async () => {
    const app = await defaultApp()
    assert.equal((await post(app, bearer(makeToken({ sub: 'a', scope: 'admin:read sign' })))).statusCode, 200)
    assert.equal((await post(app, bearer(makeToken({ sub: 'a', scp: ['admin:read', 'sign'] })))).statusCode, 200)
    assertError(await post(app, bearer(makeToken({ sub: 'a', scope: 'admin:read signer' }))), 403, 'FORBIDDEN_SCOPE')
    assertError(await post(app, bearer(makeToken({ sub: 'a', scp: ['admin:write'] }))), 403, 'FORBIDDEN_SCOPE')
    assertError(await post(app, bearer(makeToken({ sub: 'a' }))), 403, 'FORBIDDEN_SCOPE')
  })

  it('`distributions` narrows the caller: FORBIDDEN_DISTRIBUTION, by name and by host', async () => {
    const app = await defaultApp()
    const token = makeToken({ sub: 'a', scope: 'sign', distributions: ['private'] })
    assertError(await post(app, bearer(token)), 403, 'FORBIDDEN_DISTRIBUTION')
    assertError(await post(app, bearer(token), { url: 'https://media.example.com/videos/intro.mp4' }), 403, 'FORBIDDEN_DISTRIBUTION')
    assert.equal((await post(app, bearer(token), { distribution: 'private', path: '/x' })).statusCode, 200)
  })

  it('`paths` narrows the caller: FORBIDDEN_PATH, for exact paths and wildcard resources', async () => {
    const app = await defaultApp()
    const token = makeToken({ sub: 'a', scope: 'sign sign:wildcard', paths: ['/videos/free/*'] })
    assert.equal((await post(app, bearer(token), { distribution: 'demo', path: '/videos/free/a.mp4' })).statusCode, 200)
    assertError(await post(app, bearer(token), { distribution: 'demo', path: '/videos/paid/a.mp4' }), 403, 'FORBIDDEN_PATH')
    assertError(await post(app, bearer(token), { distribution: 'demo', path: '/videos/free/a.mp4', resource: '/videos/*' }), 403, 'FORBIDDEN_PATH')
    assert.equal((await post(app, bearer(token), { distribution: 'demo', path: '/videos/free/a.mp4', resource: '/videos/free/*' })).statusCode, 200)
  })

  it('`paths` never widens the configuration: a path outside allowedPaths stays FORBIDDEN_PATH', async () => {
    const app = await defaultApp()
    const token = makeToken({ sub: 'a', scope: 'sign', paths: ['/*'] })
    assertError(await post(app, bearer(token), { distribution: 'demo', path: '/secret/a.mp4' }), 403, 'FORBIDDEN_PATH')
  })

  it('a narrowing claim that is present but malformed refuses the token: TOKEN_INVALID, never a wider caller', async () => {
    const app = await defaultApp()
    const malformed: Array<Record<string, unknown>> = [
      { distributions: 'private' },
      { distributions: ['private', 7] },
      { distributions: null },
      { paths: '/videos/free/*' },
      { maxTtlSeconds: '60' },
      { maxTtlSeconds: 0 },
      { maxTtlSeconds: -60 },
      { maxTtlSeconds: 1.5 },
    ]
    for (const claims of malformed) {
      assertError(await post(app, bearer(makeToken({ sub: 'a', scope: 'sign', ...claims }))), 401, 'TOKEN_INVALID')
    }
  })

  it('`maxTtlSeconds` narrows the caller: FORBIDDEN_TTL, and never widens the distribution maximum', async () => {
    const app = await defaultApp()
    const narrow = makeToken({ sub: 'a', scope: 'sign', maxTtlSeconds: 60 })
    assert.equal((await post(app, bearer(narrow), { ...SIGN, expiresIn: 60 })).statusCode, 200)
    assertError(await post(app, bearer(narrow), { ...SIGN, expiresIn: 61 }), 403, 'FORBIDDEN_TTL')
    assertError(await post(app, bearer(narrow), SIGN), 403, 'FORBIDDEN_TTL')
    const wide = makeToken({ sub: 'a', scope: 'sign', maxTtlSeconds: 10 * 86_400 })
    assertError(await post(app, bearer(wide), { ...SIGN, expiresIn: 86_401 }), 403, 'FORBIDDEN_TTL')
  })
})

describe('auth: where the token may come from, and when it is checked', () => {
  it('an access_token in the query on /v1/signed-urls: TOKEN_IN_QUERY_NOT_ALLOWED, even with a header', async () => {
    const app = await defaultApp()
    const token = makeToken()
    assertError(await post(app, {}, SIGN, `/v1/signed-urls?access_token=${token}`), 400, 'TOKEN_IN_QUERY_NOT_ALLOWED')
    assertError(await post(app, bearer(token), SIGN, `/v1/signed-urls?access_token=${token}`), 400, 'TOKEN_IN_QUERY_NOT_ALLOWED')
    assertError(await post(app, bearer(token), { items: [SIGN] }, `/v1/signed-urls/batch?access_token=${token}`), 400, 'TOKEN_IN_QUERY_NOT_ALLOWED')
  })

  it('runs before the body is read: a bad body without a token is a 401', async () => {
    const app = await defaultApp()
    assertError(await post(app, {}, { distribution: 'demo', bogus: true }), 401, 'UNAUTHORIZED')
    const malformed = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { 'content-type': 'application/json' }, payload: '{"distribution":' })
    assertError(malformed, 401, 'UNAUTHORIZED')
    const wrongType = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { 'content-type': 'text/plain' }, payload: 'hello' })
    assertError(wrongType, 401, 'UNAUTHORIZED')
  })

  it('401 and 403 answers never echo the token', async () => {
    const app = await defaultApp()
    const token = makeToken({ sub: 'a', scope: 'admin:read' })
    for (const headers of [bearer(token), bearer(`${token}x`)]) {
      const res = await post(app, headers)
      assert.ok(res.statusCode === 401 || res.statusCode === 403)
      assert.ok(!res.body.includes(token.split('.')[1]))
    }
  })
})

describe('auth: a verified token is remembered, never past its expiry', () => {
  const claims = (exp?: number) => ({ claims: { sub: 'alice', ...(exp === undefined ? {} : { exp }) }, caller: { sub: 'alice', scopes: new Set(['sign']) } })

  it('keeps a token at most a minute, and never past exp plus the clock tolerance', () => {
    let nowMs = 1_800_000_000_000
    const tokens = createVerifiedTokens(0, () => nowMs)
    tokens.remember('Bearer long-lived', claims(nowMs / 1000 + 3600))
    tokens.remember('Bearer short-lived', claims(nowMs / 1000 + 10))
    tokens.remember('Bearer no-exp', claims())
    tokens.remember('Bearer already-expired', claims(nowMs / 1000 - 1))
    assert.equal(tokens.get('Bearer already-expired'), undefined)
    nowMs += 9_900
    assert.ok(tokens.get('Bearer short-lived'))
    nowMs += 200
    assert.equal(tokens.get('Bearer short-lived'), undefined, 'gone once exp has passed')
    assert.ok(tokens.get('Bearer long-lived'))
    nowMs += VERIFIED_TOKEN_TTL_MS - 10_000
    assert.equal(tokens.get('Bearer long-lived'), undefined, 'verified again after a minute, however long it lives')
    assert.equal(tokens.get('Bearer no-exp'), undefined)
  })

  it('with a clock tolerance, keeps a token until exp plus the tolerance', () => {
    let nowMs = 1_800_000_000_000
    const tokens = createVerifiedTokens(5_000, () => nowMs)
    tokens.remember('Bearer t', claims(nowMs / 1000 + 10))
    tokens.remember('Bearer expired-within-tolerance', claims(nowMs / 1000 - 2))
    assert.ok(tokens.get('Bearer expired-within-tolerance'))
    nowMs += 14_900
    assert.ok(tokens.get('Bearer t'))
    nowMs += 200
    assert.equal(tokens.get('Bearer t'), undefined)
  })

  it('is keyed by the exact credential: an accepted token with anything appended is still refused', async (t) => {
    const app = await build(t)
    const token = makeToken()
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    assertError(await post(app, { authorization: `Bearer ${token} extra` }), 401, 'TOKEN_INVALID')
    assertError(await post(app, bearer(`${token}x`)), 401, 'TOKEN_INVALID')
    assert.ok(app.verifiedTokens.get(`Bearer ${token}`), 'the accepted header is remembered')
    assert.equal(app.verifiedTokens.get(`Bearer ${token}x`), undefined, 'a refused one is not')
  })

  it('a token whose claims are malformed is refused every time, never remembered', async (t) => {
    const app = await build(t)
    const token = makeToken({ sub: 'alice', scope: 'sign', paths: 'not-a-list' as unknown as string[] })
    for (let i = 0; i < 2; i++) assertError(await post(app, bearer(token)), 401, 'TOKEN_INVALID')
    assert.equal(app.verifiedTokens.get(`Bearer ${token}`), undefined)
  })
})
