// POST /v1/signed-urls and /batch: what is refused (and with which code), what the options do, and
// the transport-level answers (bad JSON, big bodies, wrong media types, unknown routes, request IDs).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, TEST_DISTRIBUTIONS, TEST_NOW_MS } from '../support/build.js'
import { sharedApp } from '../support/shared-app.js'
import { bearer, makeToken } from '../support/tokens.js'
import { LEGACY_KEY_ID, RSA_PEM } from '../support/keys.js'
import { fromCloudFrontBase64 } from '../../src/signing/policy.js'
import { verifyPolicySignature } from '../../src/signing/verify.js'

const NOW = TEST_NOW_MS / 1000
const DOMAIN = 'd111111abcdef8.cloudfront.net'
const WILDCARD = makeToken({ sub: 'alice', scope: 'sign sign:wildcard' })
const GOOD = { distribution: 'demo', path: '/videos/intro.mp4' }
const defaultApp = sharedApp()

interface Options {
  token?: string
  remoteAddress?: string
  headers?: Record<string, string>
}

function post(app: FastifyInstance, payload: unknown, options: Options = {}, url = '/v1/signed-urls') {
  return app.inject({
    method: 'POST',
    url,
    headers: { ...bearer(options.token ?? makeToken()), ...options.headers },
    payload: payload as object,
    ...(options.remoteAddress && { remoteAddress: options.remoteAddress }),
  })
}

async function expectError(app: FastifyInstance, payload: unknown, statusCode: number, code: string, options: Options = {}) {
  const res = await post(app, payload, options)
  const body = res.json()
  assert.equal(res.statusCode, statusCode, `${JSON.stringify(payload)} → ${res.body}`)
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  assert.equal(body.code, code, `${JSON.stringify(payload)} → ${res.body}`)
  assert.equal(body.statusCode, statusCode)
  return body as { message: string }
}

async function signOk(app: FastifyInstance, payload: unknown, options: Options = {}) {
  const res = await post(app, payload, options)
  assert.equal(res.statusCode, 200, `${JSON.stringify(payload)} → ${res.body}`)
  return res.json() as { url: string; expires: number; expiresAt: string; policy: string; resource: string; keyId: string }
}

function policyOf(url: string): { Statement: Array<{ Resource: string; Condition: Record<string, Record<string, unknown>> }> } {
  return JSON.parse(fromCloudFrontBase64(new URL(url).searchParams.get('Policy')!).toString())
}

describe('POST /v1/signed-urls: hosts and URLs', () => {
  it('refuses a host that is not a configured domain or alias: FORBIDDEN_HOST', async () => {
    const app = await defaultApp()
    for (const url of [
      'https://evil.example.com/videos/a.mp4',
      `https://${DOMAIN}.evil.example.com/videos/a.mp4`,
      'https://cdn.media.example.com/videos/a.mp4',
      'https://example.com/videos/a.mp4',
      'https://127.0.0.1/videos/a.mp4',
      `https://${DOMAIN}./videos/a.mp4`,
    ]) {
      await expectError(app, { url }, 403, 'FORBIDDEN_HOST')
    }
  })

  it('accepts the domain and its aliases in any case, signing the host as given (lower-cased)', async () => {
    const app = await defaultApp()
    assert.ok((await signOk(app, { url: `https://${DOMAIN.toUpperCase()}/videos/a.mp4` })).url.startsWith(`https://${DOMAIN}/videos/a.mp4?`), '(await signOk(app, { url: `https://${DOMAIN.toUpperCase()}/videos/a.mp4` })).url.startsWith(`https:…')
    assert.ok((await signOk(app, { url: 'https://Media.Example.com/videos/a.mp4' })).url.startsWith('https://media.example.com/videos/a.mp4?'), "(await signOk(app, { url: 'https://Media.Example.com/videos/a.mp4' })).url.startsWith('https://medi…")
  })

  it('refuses credentials, a port, a fragment, another scheme or a relative URL: INVALID_URL', async () => {
    const app = await defaultApp()
    for (const url of [
      `https://user:pass@${DOMAIN}/videos/a.mp4`,
      `https://user@${DOMAIN}/videos/a.mp4`,
      `https://${DOMAIN}:8443/videos/a.mp4`,
      `https://${DOMAIN}/videos/a.mp4#t=10`,
      `https://${DOMAIN}/videos/a.mp4#`,
      `ftp://${DOMAIN}/videos/a.mp4`,
      '/videos/a.mp4',
      'not a url',
      `https://${DOMAIN}/videos/a%zz.mp4`,
    ]) {
      await expectError(app, { url }, 400, 'INVALID_URL')
    }
  })

  it('takes either url or distribution + path: VALIDATION_ERROR otherwise', async () => {
    const app = await defaultApp()
    await expectError(app, { url: `https://${DOMAIN}/videos/a.mp4`, distribution: 'demo' }, 400, 'VALIDATION_ERROR')
    await expectError(app, { distribution: 'demo' }, 400, 'VALIDATION_ERROR')
    await expectError(app, { path: '/videos/a.mp4' }, 400, 'VALIDATION_ERROR')
    await expectError(app, {}, 400, 'VALIDATION_ERROR')
  })

  it('refuses a path that does not name one object: INVALID_PATH', async () => {
    const app = await defaultApp()
    for (const path of ['videos/a.mp4', '/videos/../secret', '/videos/./a', '/videos/a\u0000.mp4', '/videos/\ud800.mp4']) {
      await expectError(app, { distribution: 'demo', path }, 400, 'INVALID_PATH')
    }
    await expectError(app, { distribution: 'demo', path: '/videos/a.mp4', query: { q: '\udc00' } }, 400, 'VALIDATION_ERROR')
  })

  it('refuses an unknown distribution, inherited object names included: UNKNOWN_DISTRIBUTION', async () => {
    const app = await defaultApp()
    for (const distribution of ['nope', 'constructor', 'toString', '__proto__']) {
      await expectError(app, { distribution, path: '/videos/a.mp4' }, 400, 'UNKNOWN_DISTRIBUTION')
    }
  })
})

describe('POST /v1/signed-urls: allowed paths', () => {
  it('refuses paths outside allowedPaths: FORBIDDEN_PATH', async () => {
    const app = await defaultApp()
    for (const path of ['/secret/a.mp4', '/videos', '/videosX/a.mp4', '/index.html', '//videos/a.mp4']) {
      await expectError(app, { distribution: 'demo', path }, 403, 'FORBIDDEN_PATH')
    }
    await signOk(app, { distribution: 'demo', path: '/' })
    await signOk(app, { distribution: 'demo', path: '/videos/' })
  })

  it('refuses URLs that escape allowedPaths through dot segments or encoded slashes: FORBIDDEN_PATH, or INVALID_PATH for an encoded dot segment', async () => {
    const app = await defaultApp()
    for (const path of ['/videos/../secret/a.mp4', '/videos/%2e%2e/secret/a.mp4', '/secret%2Fa.mp4']) {
      await expectError(app, { url: `https://${DOMAIN}${path}` }, 403, 'FORBIDDEN_PATH')
    }
    await expectError(app, { url: `https://${DOMAIN}/videos%2F..%2Fsecret/a.mp4` }, 400, 'INVALID_PATH')
  })
})

describe('POST /v1/signed-urls: expiry', () => {
  it('defaults to defaultTtlSeconds and answers epoch and ISO expiry', async () => {
    const app = await defaultApp()
    const res = await signOk(app, GOOD)
    assert.equal(res.expires, NOW + TEST_DISTRIBUTIONS.demo.defaultTtlSeconds)
    assert.equal(res.expiresAt, new Date((NOW + 300) * 1000).toISOString())
    assert.equal(new URL(res.url).searchParams.get('Expires'), String(NOW + 300))
  })

  it('refuses a lifetime above the distribution maximum: FORBIDDEN_TTL', async () => {
    const app = await defaultApp()
    await signOk(app, { ...GOOD, expiresIn: 86_400 })
    await expectError(app, { ...GOOD, expiresIn: 86_401 }, 403, 'FORBIDDEN_TTL')
    await expectError(app, { ...GOOD, expiresAt: NOW + 86_401 }, 403, 'FORBIDDEN_TTL')
    await expectError(app, { distribution: 'private', path: '/a', expiresIn: 601 }, 403, 'FORBIDDEN_TTL')
  })

  it('refuses an expiry that is not in the future: INVALID_EXPIRY', async () => {
    const app = await defaultApp()
    await expectError(app, { ...GOOD, expiresAt: NOW }, 400, 'INVALID_EXPIRY')
    await expectError(app, { ...GOOD, expiresAt: NOW - 1 }, 400, 'INVALID_EXPIRY')
    await expectError(app, { ...GOOD, expiresAt: '2020-01-01T00:00:00Z' }, 400, 'INVALID_EXPIRY')
    await expectError(app, { ...GOOD, expiresIn: 0 }, 400, 'VALIDATION_ERROR')
    await expectError(app, { ...GOOD, expiresIn: -5 }, 400, 'VALIDATION_ERROR')
  })

  it('refuses expiresIn and expiresAt together: INVALID_EXPIRY', async () => {
    const app = await defaultApp()
    await expectError(app, { ...GOOD, expiresIn: 60, expiresAt: NOW + 60 }, 400, 'INVALID_EXPIRY')
  })

  it('reads expiresAt as ISO 8601 with a zone, or epoch seconds (number or digits)', async () => {
    const app = await defaultApp()
    const hour = NOW + 3600
    for (const expiresAt of ['2027-01-15T09:00:00Z', '2027-01-15T09:00:00.000Z', '2027-01-15T10:00:00+01:00', '2027-01-15T04:00:00-0500', hour, String(hour)]) {
      assert.equal((await signOk(app, { ...GOOD, expiresAt })).expires, hour, String(expiresAt))
    }
    for (const expiresAt of ['2027-01-15T09:00:00', '2027-01-15', 'tomorrow', '1.5e9', '2027-13-45T09:00:00Z']) {
      await expectError(app, { ...GOOD, expiresAt }, 400, 'INVALID_EXPIRY')
    }
  })

  it('signs an expiry past 2038 (epoch seconds beyond 32 bits)', async (t) => {
    const app = await build(t, { now: () => Date.UTC(2038, 0, 19) })
    const res = await signOk(app, { ...GOOD, expiresAt: '2038-01-19T12:00:00Z' }, { token: makeToken(undefined, { nowMs: Date.UTC(2038, 0, 19) }) })
    assert.equal(res.expires, Date.UTC(2038, 0, 19, 12) / 1000)
    assert.ok(res.expires > 2 ** 31, 'res.expires > 2 ** 31')
    assert.equal(new URL(res.url).searchParams.get('Expires'), String(res.expires))
    assert.ok(verifyPolicySignature(JSON.stringify({ Statement: [{ Resource: res.resource, Condition: { DateLessThan: { 'AWS:EpochTime': res.expires } } }] }), new URL(res.url).searchParams.get('Signature')!, createPublicKey(RSA_PEM), 'SHA1'), 'verifyPolicySignature(JSON.stringify({ Statement: [{ Resource: res.resource, Condition: { DateLessT…')
  })

  it('refuses notBefore at or after the expiry, or unreadable: INVALID_NOT_BEFORE', async () => {
    const app = await defaultApp()
    await expectError(app, { ...GOOD, expiresIn: 60, notBefore: NOW + 60 }, 400, 'INVALID_NOT_BEFORE')
    await expectError(app, { ...GOOD, expiresIn: 60, notBefore: NOW + 3600 }, 400, 'INVALID_NOT_BEFORE')
    await expectError(app, { ...GOOD, notBefore: 'soon' }, 400, 'INVALID_NOT_BEFORE')
    const res = await signOk(app, { ...GOOD, expiresIn: 60, notBefore: '2027-01-15T08:00:30Z' })
    assert.equal(res.policy, 'custom')
    assert.equal(policyOf(res.url).Statement[0].Condition.DateGreaterThan['AWS:EpochTime'], NOW + 30)
  })

  it('expiryGranularitySeconds rounds the expiry up, never down, and never past the maximum lifetime', async (t) => {
    const distributions = { ...TEST_DISTRIBUTIONS, demo: { ...TEST_DISTRIBUTIONS.demo, expiryGranularitySeconds: 3600, maxTtlSeconds: 7200 } }
    const start = TEST_NOW_MS + 17_000 // 08:00:17
    const app = await build(t, { configInput: { distributions }, now: () => start })
    const now = start / 1000
    const nextHour = Date.UTC(2027, 0, 15, 9) / 1000
    assert.equal((await signOk(app, { ...GOOD, expiresIn: 300 })).expires, nextHour)
    assert.equal((await signOk(app, { ...GOOD, expiresIn: 1 })).expires, nextHour)
    assert.equal((await signOk(app, { ...GOOD, expiresAt: nextHour })).expires, nextHour, 'a boundary stays')
    assert.equal((await signOk(app, { ...GOOD, expiresAt: nextHour + 1 })).expires, nextHour + 3600, 'just past a boundary goes to the next')
    // Rounding up must not hand out more than the distribution or the token allows.
    assert.equal((await signOk(app, { ...GOOD, expiresIn: 7000 })).expires, nextHour + 3600)
    assert.equal((await signOk(app, { ...GOOD, expiresIn: 7190 })).expires, now + 7200)
    const narrow = makeToken({ sub: 'alice', scope: 'sign', maxTtlSeconds: 60 })
    assert.equal((await signOk(app, { ...GOOD, expiresIn: 30 }, { token: narrow })).expires, now + 60)
  })
})

describe('POST /v1/signed-urls: IP conditions', () => {
  it('a bare IPv4 address means /32; a CIDR is kept', async () => {
    const app = await defaultApp()
    assert.equal(policyOf((await signOk(app, { ...GOOD, ipAddress: '192.0.2.7' })).url).Statement[0].Condition.IpAddress['AWS:SourceIp'], '192.0.2.7/32')
    assert.equal(policyOf((await signOk(app, { ...GOOD, ipAddress: '192.0.2.0/24' })).url).Statement[0].Condition.IpAddress['AWS:SourceIp'], '192.0.2.0/24')
  })

  it('refuses IPv6: IPV6_NOT_SUPPORTED, given or as the "client" address of an IPv6 caller', async () => {
    const app = await defaultApp()
    await expectError(app, { ...GOOD, ipAddress: '2001:db8::1' }, 400, 'IPV6_NOT_SUPPORTED')
    await expectError(app, { ...GOOD, ipAddress: '2001:db8::/32' }, 400, 'IPV6_NOT_SUPPORTED')
    await expectError(app, { ...GOOD, ipAddress: 'client' }, 400, 'IPV6_NOT_SUPPORTED', { remoteAddress: '2001:db8::42' })
    await expectError(app, { ...GOOD, ipAddress: 'client' }, 400, 'IPV6_NOT_SUPPORTED', { remoteAddress: '::1' })
  })

  it('"client" is the caller\'s IPv4 address (an IPv4-mapped IPv6 address included; trustProxy applies)', async (t) => {
    const app = await defaultApp()
    const direct = await signOk(app, { ...GOOD, ipAddress: 'client' }, { remoteAddress: '198.51.100.4' })
    assert.equal(policyOf(direct.url).Statement[0].Condition.IpAddress['AWS:SourceIp'], '198.51.100.4/32')
    const mapped = await signOk(app, { ...GOOD, ipAddress: 'client' }, { remoteAddress: '::ffff:198.51.100.5' })
    assert.equal(policyOf(mapped.url).Statement[0].Condition.IpAddress['AWS:SourceIp'], '198.51.100.5/32')
    const forwarded = await signOk(app, { ...GOOD, ipAddress: 'client' }, { remoteAddress: '198.51.100.4', headers: { 'x-forwarded-for': '203.0.113.9' } })
    assert.equal(policyOf(forwarded.url).Statement[0].Condition.IpAddress['AWS:SourceIp'], '198.51.100.4/32', 'no proxy is trusted by default')

    const proxied = await build(t, { configInput: { server: { trustProxy: true } } })
    const behind = await signOk(proxied, { ...GOOD, ipAddress: 'client' }, { remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } })
    assert.equal(policyOf(behind.url).Statement[0].Condition.IpAddress['AWS:SourceIp'], '203.0.113.9/32')
  })

  it('refuses a malformed address or CIDR: INVALID_IP_ADDRESS', async () => {
    const app = await defaultApp()
    for (const ipAddress of ['192.0.2.0/33', '300.1.1.1', '192.0.2', 'localhost', '192.0.2.1/-1']) {
      await expectError(app, { ...GOOD, ipAddress }, 400, 'INVALID_IP_ADDRESS')
    }
  })
})

describe('POST /v1/signed-urls: custom-policy resources', () => {
  it('a wildcard needs the sign:wildcard scope: FORBIDDEN_SCOPE', async () => {
    const app = await defaultApp()
    await expectError(app, { ...GOOD, resource: '/videos/*' }, 403, 'FORBIDDEN_SCOPE')
    await expectError(app, { ...GOOD, resource: '/videos/intro.mp?' }, 403, 'FORBIDDEN_SCOPE')
  })

  it('a wildcard outside allowedPaths: FORBIDDEN_PATH', async () => {
    const app = await defaultApp()
    for (const resource of ['/*', '/vid*', `https://${DOMAIN}/*`, '/videos*']) {
      await expectError(app, { ...GOOD, resource }, 403, 'FORBIDDEN_PATH', { token: WILDCARD })
    }
  })

  it('a resource that does not cover the URL: RESOURCE_NOT_COVERING', async () => {
    const app = await defaultApp()
    await expectError(app, { ...GOOD, resource: '/hls/*' }, 400, 'RESOURCE_NOT_COVERING', { token: WILDCARD })
    await expectError(app, { ...GOOD, resource: '/videos/other.mp4' }, 400, 'RESOURCE_NOT_COVERING', { token: WILDCARD })
    await expectError(app, { url: 'https://media.example.com/videos/a.mp4', resource: `https://${DOMAIN}/videos/*` }, 400, 'INVALID_RESOURCE', { token: WILDCARD })
  })

  it('a resource on another host or scheme: INVALID_RESOURCE', async () => {
    const app = await defaultApp()
    for (const resource of ['https://evil.example.com/videos/*', `https://${DOMAIN}.evil.example.com/videos/*`, `http://${DOMAIN}/videos/*`, `ftp://${DOMAIN}/videos/*`, `https*://${DOMAIN}/videos/*`, '*', 'videos/*']) {
      await expectError(app, { ...GOOD, resource }, 400, 'INVALID_RESOURCE', { token: WILDCARD })
    }
  })

  it('a covering wildcard signs a custom policy for exactly that resource', async () => {
    const app = await defaultApp()
    const res = await signOk(app, { ...GOOD, resource: '/videos/*' }, { token: WILDCARD })
    assert.equal(res.policy, 'custom')
    assert.equal(res.resource, `https://${DOMAIN}/videos/*`)
    assert.equal(policyOf(res.url).Statement[0].Resource, res.resource)
    assert.ok(res.url.startsWith(`https://${DOMAIN}/videos/intro.mp4?Policy=`), 'res.url.startsWith(`https://${DOMAIN}/videos/intro.mp4?Policy=`)')
  })
})

describe('POST /v1/signed-urls: query parameters', () => {
  it('refuses the signing parameters in `query` or in the url: RESERVED_QUERY_PARAMETER', async () => {
    const app = await defaultApp()
    for (const name of ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']) {
      await expectError(app, { ...GOOD, query: { [name]: '1' } }, 400, 'RESERVED_QUERY_PARAMETER')
      await expectError(app, { url: `https://${DOMAIN}/videos/a.mp4?x=1&${name}=1` }, 400, 'RESERVED_QUERY_PARAMETER')
    }
  })

  it('keeps an existing query and appends `query` after it, both signed', async () => {
    const app = await defaultApp()
    const res = await signOk(app, { url: `https://${DOMAIN}/videos/a.mp4?lang=en`, query: { 'user id': 'a&b' } })
    assert.equal(res.resource, `https://${DOMAIN}/videos/a.mp4?lang=en&user%20id=a%26b`)
    assert.ok(res.url.startsWith(`${res.resource}&Expires=`), 'res.url.startsWith(`${res.resource}&Expires=`)')
  })
})

describe('POST /v1/signed-urls: keys and hash algorithms', () => {
  it('refuses an unknown keyId: UNKNOWN_KEY; a malformed one: VALIDATION_ERROR', async () => {
    const app = await defaultApp()
    await expectError(app, { ...GOOD, keyId: 'KUNKNOWN000001' }, 400, 'UNKNOWN_KEY')
    await expectError(app, { ...GOOD, keyId: 'k2jcjmdehxqw5f' }, 400, 'VALIDATION_ERROR')
  })

  it('signs with a legacy key pair ID', async () => {
    const app = await defaultApp()
    const res = await signOk(app, { ...GOOD, keyId: LEGACY_KEY_ID })
    const params = new URL(res.url).searchParams
    assert.equal(res.keyId, LEGACY_KEY_ID)
    assert.equal(params.get('Key-Pair-Id'), LEGACY_KEY_ID)
    const policy = JSON.stringify({ Statement: [{ Resource: res.resource, Condition: { DateLessThan: { 'AWS:EpochTime': res.expires } } }] })
    assert.ok(verifyPolicySignature(policy, params.get('Signature')!, createPublicKey(RSA_PEM), 'SHA1'), "verifyPolicySignature(policy, params.get('Signature')!, createPublicKey(RSA_PEM), 'SHA1')")
  })

  it('SHA256 adds Hash-Algorithm=SHA256 and signs with SHA-256; SHA1 adds nothing', async () => {
    const app = await defaultApp()
    const sha256 = await signOk(app, { ...GOOD, hashAlgorithm: 'SHA256' })
    const params = new URL(sha256.url).searchParams
    assert.equal(params.get('Hash-Algorithm'), 'SHA256')
    assert.ok(sha256.url.endsWith('&Hash-Algorithm=SHA256'), "sha256.url.endsWith('&Hash-Algorithm=SHA256')")
    const policy = JSON.stringify({ Statement: [{ Resource: sha256.resource, Condition: { DateLessThan: { 'AWS:EpochTime': sha256.expires } } }] })
    assert.ok(verifyPolicySignature(policy, params.get('Signature')!, createPublicKey(RSA_PEM), 'SHA256'), "verifyPolicySignature(policy, params.get('Signature')!, createPublicKey(RSA_PEM), 'SHA256')")
    assert.ok(!verifyPolicySignature(policy, params.get('Signature')!, createPublicKey(RSA_PEM), 'SHA1'), "!verifyPolicySignature(policy, params.get('Signature')!, createPublicKey(RSA_PEM), 'SHA1')")
    assert.equal(new URL((await signOk(app, { ...GOOD, hashAlgorithm: 'SHA1' })).url).searchParams.has('Hash-Algorithm'), false)
    await expectError(app, { ...GOOD, hashAlgorithm: 'MD5' }, 400, 'VALIDATION_ERROR')
  })
})

describe('POST /v1/signed-urls: malformed requests', () => {
  it('an unknown body field: VALIDATION_ERROR naming it', async () => {
    const app = await defaultApp()
    const body = await expectError(app, { ...GOOD, expiresInn: 60 }, 400, 'VALIDATION_ERROR')
    assert.match(body.message, /expiresInn/)
  })

  it('a wrongly typed field: VALIDATION_ERROR naming it', async () => {
    const app = await defaultApp()
    assert.match((await expectError(app, { ...GOOD, expiresIn: '1 hour' }, 400, 'VALIDATION_ERROR')).message, /expiresIn/)
    assert.match((await expectError(app, { ...GOOD, query: 'a=1' }, 400, 'VALIDATION_ERROR')).message, /query/)
  })

  it('malformed or empty JSON: MALFORMED_JSON', async () => {
    const app = await defaultApp()
    for (const payload of ['{"distribution":', '', '{"a":1}}', 'null x']) {
      const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { ...bearer(), 'content-type': 'application/json' }, payload })
      assert.equal(res.statusCode, 400, JSON.stringify(payload))
      assert.equal(res.json().code, 'MALFORMED_JSON', `${JSON.stringify(payload)} → ${res.body}`)
    }
  })

  it('a JSON body that is not an object: VALIDATION_ERROR', async () => {
    const app = await defaultApp()
    for (const payload of ['[]', '"x"', '42', 'null']) {
      const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { ...bearer(), 'content-type': 'application/json' }, payload })
      assert.equal(res.statusCode, 400, payload)
      assert.equal(res.json().code, 'VALIDATION_ERROR', `${payload} → ${res.body}`)
    }
  })

  it('an oversized body: 413 BODY_TOO_LARGE', async (t) => {
    const app = await defaultApp()
    const payload = JSON.stringify({ ...GOOD, query: { pad: 'x'.repeat(1_100_000) } })
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { ...bearer(), 'content-type': 'application/json' }, payload })
    assert.equal(res.statusCode, 413)
    assert.equal(res.json().code, 'BODY_TOO_LARGE')
    const small = await build(t, { configInput: { server: { bodyLimitBytes: 1024 } } })
    const batch = await small.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items: Array(40).fill(GOOD) } })
    assert.equal(batch.statusCode, 413)
    assert.equal(batch.json().code, 'BODY_TOO_LARGE')
  })

  it('an unsupported media type: 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const app = await defaultApp()
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { ...bearer(), 'content-type': contentType }, payload: 'distribution=demo' })
      assert.equal(res.statusCode, 415, contentType)
      assert.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE')
    }
  })

  it('an unknown route: 404 NOT_FOUND in the error shape; another method on a known one: 405 with Allow', async () => {
    const app = await defaultApp()
    for (const [method, url] of [['GET', '/v1/nope'], ['POST', '/v2/signed-urls']] as const) {
      const res = await app.inject({ method, url, headers: bearer() })
      assert.equal(res.statusCode, 404, `${method} ${url}`)
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'])
      assert.equal(res.json().code, 'NOT_FOUND')
    }
    const wrongMethod = await app.inject({ method: 'GET', url: '/v1/signed-urls', headers: bearer() })
    assert.equal(wrongMethod.statusCode, 405)
    assert.equal(wrongMethod.json().code, 'METHOD_NOT_ALLOWED')
    assert.equal(wrongMethod.headers.allow, 'POST')
  })
})

describe('undecodable request URLs', () => {
  it('answer 400 BAD_REQUEST in the error shape, with a request id', async () => {
    const app = await defaultApp()
    for (const url of ['/v1/%zz', '/%', '/v1/signed-urls%']) {
      const res = await app.inject({ method: 'POST', url, headers: bearer(), payload: GOOD })
      assert.equal(res.statusCode, 400, url)
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'])
      assert.equal(res.json().code, 'BAD_REQUEST')
      assert.ok(res.headers['x-request-id'], "res.headers['x-request-id']")
    }
  })
})

describe('request IDs', () => {
  it('every answer carries x-request-id; a sane incoming one is kept, anything else replaced', async () => {
    const app = await defaultApp()
    const ok = await post(app, GOOD)
    assert.match(String(ok.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    const refused = await post(app, { ...GOOD, bogus: 1 })
    assert.match(String(refused.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    assert.notEqual(refused.headers['x-request-id'], ok.headers['x-request-id'])
    const notFound = await app.inject({ method: 'GET', url: '/nope' })
    assert.ok(notFound.headers['x-request-id'], "notFound.headers['x-request-id']")
    assert.equal((await post(app, GOOD, { headers: { 'x-request-id': 'trace-abc.123_X' } })).headers['x-request-id'], 'trace-abc.123_X')
    for (const incoming of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const res = await post(app, GOOD, { headers: { 'x-request-id': incoming } })
      assert.notEqual(res.headers['x-request-id'], incoming)
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/)
    }
  })
})

describe('POST /v1/signed-urls/batch', () => {
  it('signs each item on its own and answers in order, with per-item codes and schema errors', async () => {
    const app = await defaultApp()
    const items = [
      GOOD,
      { url: 'https://evil.example.com/videos/a.mp4' },
      { ...GOOD, expiresInn: 60 },
      { distribution: 'demo', path: '/videos/b.mp4', hashAlgorithm: 'SHA256' },
      { distribution: 'nope', path: '/a' },
      42,
      null,
      { ...GOOD, expiresIn: 86_401 },
      { ...GOOD, resource: '/videos/*' },
      { distribution: 'private', path: '/x y' },
    ]
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items } })
    assert.equal(res.statusCode, 200, res.body)
    const answers = res.json().items as Array<Record<string, any>>
    assert.equal(answers.length, items.length)
    const codes = answers.map((a) => a.error?.code ?? 'OK')
    assert.deepEqual(codes, ['OK', 'FORBIDDEN_HOST', 'VALIDATION_ERROR', 'OK', 'UNKNOWN_DISTRIBUTION', 'VALIDATION_ERROR', 'VALIDATION_ERROR', 'FORBIDDEN_TTL', 'FORBIDDEN_SCOPE', 'OK'])
    assert.equal(answers[0].resource, `https://${DOMAIN}/videos/intro.mp4`)
    assert.equal(answers[3].resource, `https://${DOMAIN}/videos/b.mp4`)
    assert.equal(new URL(answers[3].url).searchParams.get('Hash-Algorithm'), 'SHA256')
    assert.equal(answers[9].resource, 'https://d222222abcdef8.cloudfront.net/x%20y')
    for (const [i, status] of [[1, 403], [2, 400], [4, 400], [5, 400], [6, 400], [7, 403], [8, 403]] as const) {
      assert.deepEqual(Object.keys(answers[i].error).sort(), ['code', 'message', 'statusCode'])
      assert.equal(answers[i].error.statusCode, status, `item ${i}`)
    }
    assert.match(answers[2].error.message, /items\/2/)
    assert.match(answers[2].error.message, /expiresInn/)
    assert.match(answers[5].error.message, /items\/5/)
  })

  it('reads an item exactly as a single request reads its body: typed strictly', async () => {
    const app = await defaultApp()
    const body = { ...GOOD, expiresIn: 60 }
    const single = await post(app, body)
    assert.equal(single.statusCode, 200)
    const batch = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items: [body, { ...GOOD, expiresIn: '60' }] } })
    // The same answer but for the grant's ID, which is new for every answer.
    const { grantId: itemGrant, ...item } = batch.json().items[0]
    const { grantId: singleGrant, ...alone } = single.json()
    assert.deepEqual(item, alone)
    assert.notEqual(itemGrant, singleGrant)
    assert.equal((await post(app, { ...GOOD, expiresIn: '60' })).json().code, 'VALIDATION_ERROR')
    assert.equal(batch.json().items[1].error.code, 'VALIDATION_ERROR')
  })

  it('takes 1 to 1000 items: 400 VALIDATION_ERROR otherwise', async () => {
    const app = await defaultApp()
    const over = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items: Array(1001).fill(GOOD) } })
    assert.equal(over.statusCode, 400)
    assert.equal(over.json().code, 'VALIDATION_ERROR')
    const empty = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items: [] } })
    assert.equal(empty.json().code, 'VALIDATION_ERROR')
    const extra = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items: [GOOD], mode: 'fast' } })
    assert.equal(extra.json().code, 'VALIDATION_ERROR')
    const full = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items: Array(1000).fill({ ...GOOD, keyId: 'K3ECDSATEST0001' }) } })
    assert.equal(full.statusCode, 200)
    assert.equal(full.json().items.length, 1000)
  })
})
