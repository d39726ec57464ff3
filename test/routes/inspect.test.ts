import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, captureLogs, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { EC_KEY_ID, RSA_KEY_ID } from '../support/keys.js'
import { flipChar, getParam, replaceParam } from '../support/inspector.js'
import type { Inspection } from '../../src/signing/inspect.js'
import { sharedApp } from '../support/shared-app.js'

// Tests that only read build()'s defaults share one app.
const defaultApp = sharedApp()

const NOW = TEST_NOW_MS / 1000
const SIGNER = makeToken({ sub: 'player', scope: 'sign sign:wildcard' })
const SUPPORT = makeToken({ sub: 'support', scope: 'admin:read' })

type App = Awaited<ReturnType<typeof build>>

async function signUrl(app: App, payload: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(SIGNER), payload })
  assert.equal(res.statusCode, 200, res.body)
  return res.json().url
}

async function inspect(app: App, payload: Record<string, unknown>, token = SUPPORT): Promise<Inspection> {
  const res = await app.inject({ method: 'POST', url: '/v1/inspect', headers: bearer(token), payload })
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as Inspection
}

describe('POST /v1/inspect', () => {
  it('allows a URL the service signed, at the app\'s current time by default, with every check and the decoded policy', async (t) => {
    const app = await defaultApp()
    const url = await signUrl(app, { distribution: 'demo', path: '/videos/intro.mp4', expiresIn: 60 })
    const result = await inspect(app, { url })
    assert.equal(result.verdict, 'allow')
    assert.equal(result.reason, null)
    assert.deepEqual(result.checks.map((c) => `${c.name}:${c.outcome}`), [
      'params:pass', 'keyId:pass', 'hashAlgorithm:pass', 'signature:pass', 'policy:pass', 'resource:pass', 'notBefore:pass', 'expiry:pass', 'ipAddress:pass',
    ])
    assert.equal(result.checks.find((c) => c.name === 'signature')?.detail, 'verified with RSA-SHA1')
    assert.deepEqual(result.policy, {
      type: 'canned',
      json: JSON.stringify({ Statement: [{ Resource: 'https://d111111abcdef8.cloudfront.net/videos/intro.mp4', Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 60 } } }] }),
      resource: 'https://d111111abcdef8.cloudfront.net/videos/intro.mp4',
      expires: NOW + 60,
      notBefore: null,
      ipAddress: null,
    })
    assert.equal(result.keyId, RSA_KEY_ID)
  })

  it('takes `at` as epoch seconds or ISO 8601, and `ip` to judge an IP condition', async (t) => {
    const app = await defaultApp()
    const url = await signUrl(app, { distribution: 'demo', path: '/videos/intro.mp4', expiresIn: 60, ipAddress: '203.0.113.0/24' })
    assert.equal((await inspect(app, { url, at: NOW + 60 })).reason, 'EXPIRED')
    assert.equal((await inspect(app, { url, at: new Date((NOW + 59) * 1000).toISOString() })).verdict, 'allow')
    const unjudged = await inspect(app, { url })
    assert.equal(unjudged.verdict, 'allow')
    assert.equal(unjudged.checks.find((c) => c.name === 'ipAddress')?.outcome, 'skipped')
    assert.equal((await inspect(app, { url, ip: '203.0.113.50' })).verdict, 'allow')
    const outside = await inspect(app, { url, ip: '198.51.100.1' })
    assert.equal(outside.reason, 'IP_NOT_ALLOWED')
    assert.equal(outside.policy?.ipAddress, '203.0.113.0/24')
  })

  it('names the first failing check for tampered URLs', async (t) => {
    const app = await defaultApp()
    const url = await signUrl(app, { distribution: 'demo', path: '/videos/intro.mp4', expiresIn: 60 })
    const custom = await signUrl(app, { distribution: 'demo', path: '/videos/intro.mp4', resource: '/videos/*', expiresIn: 60 })
    const cases: Array<[string, string]> = [
      [url.split('?')[0], 'MISSING_PARAMS'],
      [replaceParam(url, 'Expires', 'soon'), 'MALFORMED'],
      [replaceParam(url, 'Key-Pair-Id', 'K0NOSUCHKEY000'), 'UNKNOWN_KEY'],
      [replaceParam(url, 'Key-Pair-Id', EC_KEY_ID), 'BAD_SIGNATURE'],
      [`${url}&Hash-Algorithm=SHA512`, 'UNSUPPORTED_HASH'],
      [replaceParam(url, 'Signature', flipChar(getParam(url, 'Signature')!)), 'BAD_SIGNATURE'],
      [url.replace('intro.mp4', 'outro.mp4'), 'BAD_SIGNATURE'],
      [replaceParam(custom, 'Policy', flipChar(getParam(custom, 'Policy')!, 20)), 'BAD_SIGNATURE'],
      [custom.replace('/videos/intro.mp4', '/images/intro.mp4'), 'RESOURCE_MISMATCH'],
    ]
    for (const [tampered, reason] of cases) assert.equal((await inspect(app, { url: tampered })).reason, reason, tampered)
  })

  it('judges cookies against the request URL, and RTMP stream names', async (t) => {
    const app = await defaultApp()
    const cookieRes = await app.inject({ method: 'POST', url: '/v1/signed-cookies', headers: bearer(SIGNER), payload: { distribution: 'demo', resource: '/hls/movie-42/*', keyId: EC_KEY_ID, hashAlgorithm: 'SHA256' } })
    const { cookies } = cookieRes.json()
    const viaCookies = await inspect(app, { url: 'https://media.example.com/hls/movie-42/seg-1.ts', cookies })
    assert.equal(viaCookies.verdict, 'allow')
    assert.equal(viaCookies.source, 'cookies')
    assert.equal(viaCookies.checks.find((c) => c.name === 'signature')?.detail, 'verified with ECDSA-SHA256')
    assert.equal((await inspect(app, { url: 'https://media.example.com/hls/movie-7/seg-1.ts', cookies })).reason, 'RESOURCE_MISMATCH')

    const streamRes = await app.inject({ method: 'POST', url: '/v1/signed-streams', headers: bearer(SIGNER), payload: { distribution: 'demo', stream: 'mp4:videos/clip' } })
    const { streamer, stream, streamEscaped } = streamRes.json()
    for (const url of [stream, streamEscaped, `${streamer}/${stream}`]) assert.equal((await inspect(app, { url })).verdict, 'allow', url)
  })

  it('accepts the sign, admin:read or admin:write scope; nothing else', async (t) => {
    const app = await defaultApp()
    const url = await signUrl(app, { distribution: 'demo', path: '/videos/intro.mp4' })
    for (const scope of ['sign', 'admin:read', 'admin:write']) assert.equal((await inspect(app, { url }, makeToken({ sub: 's', scope }))).verdict, 'allow', scope)
    const wildcardOnly = await app.inject({ method: 'POST', url: '/v1/inspect', headers: bearer(makeToken({ sub: 's', scope: 'sign:wildcard' })), payload: { url } })
    assert.equal(wildcardOnly.statusCode, 403)
    assert.equal(wildcardOnly.json().code, 'FORBIDDEN_SCOPE')
    const anonymous = await app.inject({ method: 'POST', url: '/v1/inspect', payload: { url } })
    assert.equal(anonymous.statusCode, 401)
  })

  it('answers 400 for input it cannot judge', async (t) => {
    const app = await defaultApp()
    const post = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/inspect', headers: bearer(SUPPORT), payload })
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: 'https://exa mple.com/x' }, 'INVALID_URL'],
      [{ url: 'ftp://example.com/x' }, 'INVALID_URL'],
      [{ url: 'https://example.com/x', at: 'yesterday' }, 'VALIDATION_ERROR'],
      [{ url: 'https://example.com/x', ip: 'localhost' }, 'INVALID_IP_ADDRESS'],
      [{ url: 'https://example.com/x', verbose: true }, 'VALIDATION_ERROR'],
      [{}, 'VALIDATION_ERROR'],
    ]
    for (const [payload, code] of cases) {
      const res = await post(payload)
      assert.equal(res.statusCode, 400, JSON.stringify(payload))
      assert.equal(res.json().code, code, JSON.stringify(payload))
    }
  })

  it('never logs the URL or cookies it inspects', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logStream: logs.stream, logLevel: 'info' })
    const url = await signUrl(app, { distribution: 'demo', path: '/videos/intro.mp4' })
    await inspect(app, { url })
    assert.match(logs.text(), /inspected/)
    assert.ok(!logs.text().includes(getParam(url, 'Signature')!), "!logs.text().includes(getParam(url, 'Signature')!)")
  })
})
