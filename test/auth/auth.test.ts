// Who may call: every way a bearer token is refused (401), the time rules on the app's clock, the
// verification sources (HS256 secret, RS256/ES256 public key file, a JWKS served over real HTTP),
// scopes, the claims that narrow a caller (403), and the memo of verified tokens, on the signing route.
// The JWKS client itself is in jwks.test.ts.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createVerifiedTokens, VERIFIED_TOKEN_TTL_MS } from '../../src/auth/verified-tokens.js'
import { createDevToken, createToken } from '../../src/dev/tokens.js'
import { build, TEST_NOW_MS } from '../support/build.js'
import { testClock } from '../support/clock.js'
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
const NOW = TEST_NOW_MS / 1000

/** An HS256 token with exactly these claims (no iat or exp added), as an issuer with other habits would mint it. */
function signByHand(claims: Record<string, unknown>): string {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`
  return `${input}.${createHmac('sha256', TEST_JWT_SECRET).update(input).digest('base64url')}`
}

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
    assertError(await post(app, bearer(makeToken(undefined, { expiresInSeconds: -60 }))), 401, 'TOKEN_EXPIRED')
  })

  it('a token expired within clockToleranceSeconds is accepted', async (t) => {
    const app = await build(t, { configInput: { auth: { jwt: { clockToleranceSeconds: 120 } } } })
    assert.equal((await post(app, bearer(makeToken(undefined, { expiresInSeconds: -60 })))).statusCode, 200)
    assertError(await post(app, bearer(makeToken(undefined, { expiresInSeconds: -121 }))), 401, 'TOKEN_EXPIRED')
  })

  it('a token not valid yet (nbf): TOKEN_NOT_YET_VALID', async () => {
    const app = await defaultApp()
    assertError(await post(app, bearer(makeToken(undefined, { notBeforeSeconds: 600 }))), 401, 'TOKEN_NOT_YET_VALID')
  })

  it('a bad signature (another secret, or a tampered payload): TOKEN_INVALID', async () => {
    const app = await defaultApp()
    assertError(await post(app, bearer(makeToken(undefined, { key: 'another-secret-that-is-long-enough-0123456789' }))), 401, 'TOKEN_INVALID')
    const [header, , signature] = makeToken({ sub: 'alice', scope: 'sign' }).split('.')
    const tampered = `${header}.${b64url({ sub: 'alice', scope: 'sign sign:wildcard admin:write', exp: NOW + 600 })}.${signature}`
    assertError(await post(app, bearer(tampered)), 401, 'TOKEN_INVALID')
  })

  it('alg "none" (crafted by hand, with and without a signature part): TOKEN_INVALID', async () => {
    const app = await defaultApp()
    const payload = b64url({ sub: 'mallory', scope: 'sign', exp: NOW + 600 })
    for (const alg of ['none', 'None', 'NONE']) {
      const header = b64url({ alg, typ: 'JWT' })
      for (const token of [`${header}.${payload}.`, `${header}.${payload}`]) {
        const res = await post(app, bearer(token))
        assert.equal(res.statusCode, 401, `${alg}: ${res.body}`)
        assert.ok(['TOKEN_INVALID', 'UNAUTHORIZED'].includes(res.json().code), "['TOKEN_INVALID', 'UNAUTHORIZED'].includes(res.json().code)")
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
      makeToken({ sub: 'svc', scope: 'sign' }, { key: key.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'RS256', kid })
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
    const token = makeToken({ scope: 'sign' }, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'RS256', kid: 'k' })
    const broken = await build(t, { configInput: { auth: { jwt: { secret: undefined, jwksUrl: `http://127.0.0.1:${port}/jwks.json` } } } })
    assertError(await post(broken, bearer(token)), 503, 'AUTH_UNAVAILABLE')
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const unreachable = await build(t, { configInput: { auth: { jwt: { secret: undefined, jwksUrl: `http://127.0.0.1:${port}/jwks.json` } } } })
    assertError(await post(unreachable, bearer(token)), 503, 'AUTH_UNAVAILABLE')
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
      { referrers: 'example.com' },
      { referrers: ['not a host'] },
      { allowEmptyReferrer: 'yes' },
      { countries: ['DE'] },
      { countries: { allow: ['DEU'] } },
      { countries: { block: ['DE'] } },
      { ipRanges: ['2001:db8::1'] },
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
      assert.ok(res.statusCode === 401 || res.statusCode === 403, 'res.statusCode === 401 || res.statusCode === 403')
      assert.ok(!res.body.includes(token.split('.')[1]), "!res.body.includes(token.split('.')[1])")
    }
  })
})

describe('auth: expiry and lifetime rules', () => {
  it('a token without exp: TOKEN_NO_EXPIRY; the same claims with an exp pass', async () => {
    const app = await defaultApp()
    assertError(await post(app, bearer(makeToken(undefined, { expiresInSeconds: null }))), 401, 'TOKEN_NO_EXPIRY')
    assertError(await post(app, bearer(signByHand({ sub: 'alice', scope: 'sign' }))), 401, 'TOKEN_NO_EXPIRY')
    assert.equal((await post(app, bearer(signByHand({ sub: 'alice', scope: 'sign', exp: NOW + 60 })))).statusCode, 200)
  })

  it('auth.jwt.requireExpiry: false admits a token without exp, unless a maximum lifetime is set', async (t) => {
    const optedOut = await build(t, { configInput: { auth: { jwt: { requireExpiry: false } } } })
    assert.equal((await post(optedOut, bearer(makeToken(undefined, { expiresInSeconds: null })))).statusCode, 200)
    assertError(await post(optedOut, bearer(makeToken(undefined, { expiresInSeconds: -1 }))), 401, 'TOKEN_EXPIRED')
    const bounded = await build(t, { configInput: { auth: { jwt: { requireExpiry: false, maxTokenLifetimeSeconds: 3600 } } } })
    assertError(await post(bounded, bearer(makeToken(undefined, { expiresInSeconds: null }))), 401, 'TOKEN_NO_EXPIRY')
  })

  it('auth.jwt.maxTokenLifetimeSeconds: exp further than that from iat (or from now) is TOKEN_LIFETIME_TOO_LONG', async (t) => {
    const app = await build(t, { configInput: { auth: { jwt: { maxTokenLifetimeSeconds: 3600 } } } })
    assert.equal((await post(app, bearer(makeToken(undefined, { expiresInSeconds: 3600 })))).statusCode, 200, 'exactly the maximum')
    assertError(await post(app, bearer(makeToken(undefined, { expiresInSeconds: 3601 }))), 401, 'TOKEN_LIFETIME_TOO_LONG')
    // Counted from iat: a token issued an hour ago for an hour and a half is too long, though 30 minutes remain.
    assertError(await post(app, bearer(makeToken({ sub: 'alice', scope: 'sign', iat: NOW - 3600 }, { expiresInSeconds: 5400 }))), 401, 'TOKEN_LIFETIME_TOO_LONG')
    // Without iat, counted from now.
    assert.equal((await post(app, bearer(signByHand({ sub: 'alice', scope: 'sign', exp: NOW + 1800 })))).statusCode, 200)
    assertError(await post(app, bearer(signByHand({ sub: 'alice', scope: 'sign', exp: NOW + 7200 }))), 401, 'TOKEN_LIFETIME_TOO_LONG')
    // An iat in the future cannot stretch it.
    const later = NOW + 365 * 86_400
    assertError(await post(app, bearer(signByHand({ sub: 'alice', scope: 'sign', iat: later, exp: later + 600 }))), 401, 'TOKEN_LIFETIME_TOO_LONG')
  })

  it('exp, nbf or iat that is not a number: TOKEN_INVALID', async () => {
    const app = await defaultApp()
    for (const times of [{ exp: String(NOW + 60) }, { exp: NOW + 60, nbf: 'now' }, { exp: NOW + 60, iat: 'yesterday' }, { exp: NOW + 60, iat: null }]) {
      assertError(await post(app, bearer(signByHand({ sub: 'alice', scope: 'sign', ...times }))), 401, 'TOKEN_INVALID')
    }
  })

  it('tokens minted by `npm run token` and the development banner carry exp and pass the default rules', async (t) => {
    // createToken mints on the wall clock, like the service it is for.
    const app = await build(t, { now: Date.now })
    for (const token of [createDevToken(app.config), createToken(app.config, { sub: 'ops', scopes: ['sign'], ttlSeconds: 600 })]) {
      const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
      assert.equal(typeof claims.exp, 'number')
      assert.ok(claims.exp > claims.iat, 'claims.exp > claims.iat')
      assert.equal((await post(app, bearer(token))).statusCode, 200)
    }
  })
})

describe('auth: times are read on the app\'s clock, never the wall clock', () => {
  it('a token still valid on the wall clock but expired on the app\'s: TOKEN_EXPIRED', async (t) => {
    const wallMs = Date.now()
    const app = await build(t, { now: () => wallMs + 2 * 3600_000 })
    assertError(await post(app, bearer(makeToken(undefined, { nowMs: wallMs, expiresInSeconds: 3600 }))), 401, 'TOKEN_EXPIRED')
  })

  it('a token accepted (and so remembered) while valid is refused once the clock passes its exp: TOKEN_EXPIRED', async (t) => {
    const clock = testClock()
    const app = await build(t, { now: clock.now })
    const token = makeToken(undefined, { expiresInSeconds: 2 })
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    clock.advance(2_001)
    assertError(await post(app, bearer(token)), 401, 'TOKEN_EXPIRED')
  })

  it('nbf, and clockToleranceSeconds, on the app\'s clock', async (t) => {
    const clock = testClock()
    const app = await build(t, { now: clock.now, configInput: { auth: { jwt: { clockToleranceSeconds: 10 } } } })
    const token = makeToken(undefined, { notBeforeSeconds: 600 })
    assertError(await post(app, bearer(token)), 401, 'TOKEN_NOT_YET_VALID')
    clock.advance(590_000)
    assert.equal((await post(app, bearer(token))).statusCode, 200, 'within the tolerance before nbf')
    const short = makeToken(undefined, { nowMs: clock.now(), expiresInSeconds: 5 })
    assert.equal((await post(app, bearer(short))).statusCode, 200)
    clock.advance(15_000)
    assert.equal((await post(app, bearer(short))).statusCode, 200, 'within the tolerance after exp')
    clock.advance(1)
    assertError(await post(app, bearer(short)), 401, 'TOKEN_EXPIRED')
  })

  it('the memo ages on the app\'s clock: a token is verified again after a minute', async (t) => {
    const clock = testClock()
    const app = await build(t, { now: clock.now })
    const token = makeToken()
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    assert.ok(app.verifiedTokens.get('bearer', token), "app.verifiedTokens.get('bearer', token)")
    clock.advance(VERIFIED_TOKEN_TTL_MS + 1)
    assert.equal(app.verifiedTokens.get('bearer', token), undefined)
  })
})

describe('auth: a verified token is remembered, never past its expiry', () => {
  const claims = (exp?: number) => ({ claims: { sub: 'alice', ...(exp === undefined ? {} : { exp }) }, caller: { sub: 'alice', scopes: new Set(['sign']) } })

  it('keeps a token at most a minute, and never past exp plus the clock tolerance', () => {
    const clock = testClock()
    const tokens = createVerifiedTokens(0, clock.now)
    tokens.remember('bearer', 'long-lived', claims(NOW + 3600))
    tokens.remember('bearer', 'short-lived', claims(NOW + 10))
    tokens.remember('bearer', 'no-exp', claims())
    tokens.remember('bearer', 'already-expired', claims(NOW - 1))
    assert.equal(tokens.get('bearer', 'already-expired'), undefined)
    clock.advance(9_900)
    assert.ok(tokens.get('bearer', 'short-lived'), "tokens.get('bearer', 'short-lived')")
    clock.advance(200)
    assert.equal(tokens.get('bearer', 'short-lived'), undefined, 'gone once exp has passed')
    assert.ok(tokens.get('bearer', 'long-lived'), "tokens.get('bearer', 'long-lived')")
    clock.advance(VERIFIED_TOKEN_TTL_MS - 10_000)
    assert.equal(tokens.get('bearer', 'long-lived'), undefined, 'verified again after a minute, however long it lives')
    assert.equal(tokens.get('bearer', 'no-exp'), undefined)
  })

  it('with a clock tolerance, keeps a token until exp plus the tolerance', () => {
    const clock = testClock()
    const tokens = createVerifiedTokens(5_000, clock.now)
    tokens.remember('bearer', 't', claims(NOW + 10))
    tokens.remember('bearer', 'expired-within-tolerance', claims(NOW - 2))
    assert.ok(tokens.get('bearer', 'expired-within-tolerance'), "tokens.get('bearer', 'expired-within-tolerance')")
    clock.advance(14_900)
    assert.ok(tokens.get('bearer', 't'), "tokens.get('bearer', 't')")
    clock.advance(200)
    assert.equal(tokens.get('bearer', 't'), undefined)
  })

  it('keeps a token by where it came from: one remembered from a query is not known for a header, and back', () => {
    const tokens = createVerifiedTokens(0, testClock().now)
    tokens.remember('query', 'from-query', claims(NOW + 60))
    tokens.remember('bearer', 'from-header', claims(NOW + 60))
    assert.ok(tokens.get('query', 'from-query'), "tokens.get('query', 'from-query')")
    assert.equal(tokens.get('bearer', 'from-query'), undefined)
    assert.ok(tokens.get('bearer', 'from-header'), "tokens.get('bearer', 'from-header')")
    assert.equal(tokens.get('query', 'from-header'), undefined)
  })

  it('is keyed by the exact token: an accepted token with anything appended is still refused', async (t) => {
    const app = await build(t)
    const token = makeToken()
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    assertError(await post(app, { authorization: `Bearer ${token} extra` }), 401, 'TOKEN_INVALID')
    assertError(await post(app, bearer(`${token}x`)), 401, 'TOKEN_INVALID')
    assert.ok(app.verifiedTokens.get('bearer', token), 'the accepted header is remembered')
    assert.equal(app.verifiedTokens.get('bearer', `${token}x`), undefined, 'a refused one is not')
  })

  it('a token remembered from a playback query never authenticates an Authorization header that is not Bearer', async (t) => {
    const app = await build(t)
    const token = makeToken()
    const played = await app.inject({ method: 'GET', url: `/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&access_token=${token}` })
    assert.equal(played.statusCode, 302, played.body)
    assert.ok(app.verifiedTokens.get('query', token), 'remembered from the query')
    // @fastify/jwt refuses each of these before it looks at a token; the memo must not answer for them.
    for (const authorization of [`access_token=${token}`, token, `Basic ${token}`, `Token ${token}`]) {
      assertError(await post(app, { authorization }), 401, 'UNAUTHORIZED')
    }
    for (const authorization of [`Bearer  ${token}`, `Bearer\t${token}`, `Bearer ${token} ${token}`]) {
      assertError(await post(app, { authorization }), 401, 'TOKEN_INVALID')
    }
  })

  it('a token remembered from a Bearer header answers only for a well-formed Bearer header', async (t) => {
    const app = await build(t)
    const token = makeToken()
    assert.equal((await post(app, bearer(token))).statusCode, 200)
    assert.equal(app.verifiedTokens.get('query', token), undefined, 'not known for a query')
    const play = (accessToken: string) => app.inject({ method: 'GET', url: `/v1/playback?${new URLSearchParams({ distribution: 'demo', path: '/videos/a.mp4', access_token: accessToken })}` })
    assertError(await play(`Bearer ${token}`), 401, 'TOKEN_INVALID')
    assertError(await post(app, { authorization: `Bearer${token}` }), 401, 'UNAUTHORIZED')
    // What @fastify/jwt itself accepts is still accepted: the scheme in any case, and the token in a query.
    assert.equal((await post(app, { authorization: `bearer ${token}` })).statusCode, 200)
    assert.equal((await play(token)).statusCode, 302)
  })

  it('a token whose claims are malformed is refused every time, never remembered', async (t) => {
    const app = await build(t)
    const token = makeToken({ sub: 'alice', scope: 'sign', paths: 'not-a-list' as unknown as string[] })
    for (let i = 0; i < 2; i++) assertError(await post(app, bearer(token)), 401, 'TOKEN_INVALID')
    assert.equal(app.verifiedTokens.get('bearer', token), undefined)
  })
})
