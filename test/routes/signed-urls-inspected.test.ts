// Every URL POST /v1/signed-urls and its batch route issue, judged by the inspector the way a
// CloudFront edge would: allowed while valid, denied EXPIRED at the expiry, and tampered copies
// denied for the right reason.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { build, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { EC_KEY_ID, LEGACY_KEY_ID, RSA_KEY_ID } from '../support/keys.js'
import { assertVerdict, flipChar, getParam, inspectWithTestKeys, replaceParam } from '../support/inspector.js'
import { toCloudFrontBase64 } from '../../src/signing/policy.js'
import type { DenialReason } from '../../src/signing/inspect.js'
import { sharedApp } from '../support/shared-app.js'

// Tests that only read build()'s defaults share one app.
const defaultApp = sharedApp()

const NOW = TEST_NOW_MS / 1000
const TOKEN = makeToken({ sub: 'player', scope: 'sign sign:wildcard' })
const VIEWER_IP = '203.0.113.7'

interface Signed {
  url: string
  expires: number
  policy: 'canned' | 'custom'
  resource: string
  keyId: string
}

const REQUESTS: Array<Record<string, unknown>> = [
  { distribution: 'demo', path: '/videos/intro.mp4' },
  { distribution: 'demo', path: '/videos/my file+1,v=2 é.mp4', expiresIn: 3600 },
  { distribution: 'demo', path: '/', expiresAt: '2027-01-15T09:00:00Z' },
  { url: 'https://media.example.com/videos/intro.mp4?quality=hd&lang=pt%2Dbr', keyId: LEGACY_KEY_ID },
  { url: 'http://d222222abcdef8.cloudfront.net/any/thing', expiresIn: 60 },
  { distribution: 'demo', path: '/hls/index.m3u8', query: { session: 'a b', n: '1' }, hashAlgorithm: 'SHA256' },
  { distribution: 'demo', path: '/videos/intro.mp4', keyId: EC_KEY_ID },
  { distribution: 'demo', path: '/videos/intro.mp4', keyId: EC_KEY_ID, hashAlgorithm: 'SHA256', ipAddress: '203.0.113.0/24' },
  { distribution: 'demo', path: '/videos/intro.mp4', notBefore: NOW + 30, ipAddress: VIEWER_IP },
  { distribution: 'demo', path: '/hls/movie-42/index.m3u8', resource: '/hls/movie-42/*' },
  { url: 'https://media.example.com/images/a.jpg', resource: 'https://media.example.com/images/?.jpg', expiresIn: 120 },
]

/** A signed URL must be allowed while valid (and from its not-before), and expire exactly at its expiry. */
function assertLifecycle(signed: Signed, label: string): void {
  const first = inspectWithTestKeys(signed.url, { at: NOW, ip: VIEWER_IP })
  const notBefore = first.policy?.notBefore ?? null
  const start = notBefore ?? NOW
  if (notBefore !== null) assertVerdict(inspectWithTestKeys(signed.url, { at: notBefore - 1, ip: VIEWER_IP }), 'NOT_YET_VALID', label)
  assertVerdict(inspectWithTestKeys(signed.url, { at: start, ip: VIEWER_IP }), 'allow', label)
  assertVerdict(inspectWithTestKeys(signed.url, { at: signed.expires - 1, ip: VIEWER_IP }), 'allow', label)
  assertVerdict(inspectWithTestKeys(signed.url, { at: signed.expires, ip: VIEWER_IP }), 'EXPIRED', label)
  const policy = inspectWithTestKeys(signed.url, { at: start }).policy!
  assert.equal(policy.type, signed.policy, label)
  assert.equal(policy.resource, signed.resource, label)
  if (policy.ipAddress !== null) assertVerdict(inspectWithTestKeys(signed.url, { at: start, ip: '198.51.100.1' }), 'IP_NOT_ALLOWED', label)
}

describe('POST /v1/signed-urls, checked by the inspector', () => {
  it('issues URLs the inspector allows until, and not at, their expiry', async (t) => {
    const app = await defaultApp()
    for (const payload of REQUESTS) {
      const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(TOKEN), payload })
      assert.equal(res.statusCode, 200, `${JSON.stringify(payload)}: ${res.body}`)
      assertLifecycle(res.json() as Signed, JSON.stringify(payload))
    }
  })

  it('issues URLs the inspector allows for generated paths', async (t) => {
    const app = await defaultApp()
    const segment = fc.array(fc.constantFrom('a', 'Z', '0', '-', '_', '.', '~', ' ', '+', '=', ',', '%', '%20', '&', '?', '*', '#', ':', '@', 'é', '日本', '🎬'), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.join(''))
      .filter((s) => s !== '.' && s !== '..')
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), async (segments) => {
        const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(TOKEN), payload: { distribution: 'demo', path: `/files/${segments.join('/')}` } })
        assert.equal(res.statusCode, 200, res.body)
        const signed = res.json() as Signed
        assertVerdict(inspectWithTestKeys(signed.url, { at: NOW }), 'allow', signed.url)
        // What a browser sends: the WHATWG parser must leave the signed URL as it is.
        assert.equal(new URL(signed.url).href, signed.url)
      }),
      { numRuns: 60 },
    )
  })

  it('denies tampered URLs for the right reason', async (t) => {
    const app = await defaultApp()
    const sign = async (payload: Record<string, unknown>) =>
      ((await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(TOKEN), payload })).json() as Signed).url
    const canned = await sign({ url: 'https://media.example.com/videos/intro.mp4?quality=hd' })
    const custom = await sign({ url: 'https://media.example.com/videos/intro.mp4?quality=hd', ipAddress: VIEWER_IP })
    const wildcard = await sign({ distribution: 'demo', path: '/hls/movie-42/index.m3u8', resource: '/hls/movie-42/*' })
    const at = { at: NOW, ip: VIEWER_IP }
    const cases: Array<[string, string, DenialReason | 'allow']> = [
      ['canned: changed path', canned.replace('intro.mp4', 'outro.mp4'), 'BAD_SIGNATURE'],
      ['canned: changed query', canned.replace('quality=hd', 'quality=4k'), 'BAD_SIGNATURE'],
      ['canned: added query', `${canned}&debug=1`, 'BAD_SIGNATURE'],
      ['canned: later expiry', replaceParam(canned, 'Expires', String(NOW + 86_400)), 'BAD_SIGNATURE'],
      ['canned: unknown key ID', replaceParam(canned, 'Key-Pair-Id', 'K0NOSUCHKEY000'), 'UNKNOWN_KEY'],
      ['canned: another trusted key ID', replaceParam(canned, 'Key-Pair-Id', EC_KEY_ID), 'BAD_SIGNATURE'],
      ['canned: signature byte', replaceParam(canned, 'Signature', flipChar(getParam(canned, 'Signature')!, 100)), 'BAD_SIGNATURE'],
      ['canned: signature removed', canned.replace(/&Signature=[^&]+/, ''), 'MISSING_PARAMS'],
      ['custom: changed path', custom.replace('intro.mp4', 'outro.mp4'), 'RESOURCE_MISMATCH'],
      ['custom: changed query', custom.replace('quality=hd', 'quality=4k'), 'RESOURCE_MISMATCH'],
      ['custom: policy', replaceParam(custom, 'Policy', flipChar(getParam(custom, 'Policy')!, 60)), 'BAD_SIGNATURE'],
      ['custom: policy swapped for a wider one', replaceParam(custom, 'Policy', toCloudFrontBase64(JSON.stringify({ Statement: [{ Resource: '*', Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 300 } } }] }))), 'BAD_SIGNATURE'],
      ['custom: Expires added', `${custom}&Expires=${NOW + 86_400}`, 'allow'],
      ['wildcard: outside the folder', wildcard.replace('/hls/movie-42/', '/hls/movie-43/'), 'RESOURCE_MISMATCH'],
      ['wildcard: inside the folder', wildcard.replace('index.m3u8', 'seg-1.ts'), 'allow'],
    ]
    for (const [label, url, expected] of cases) assertVerdict(inspectWithTestKeys(url, at), expected, label)
  })
})

describe('POST /v1/signed-urls/batch, checked by the inspector', () => {
  it('issues per-item URLs the inspector allows; failed items stay failed', async (t) => {
    const app = await defaultApp()
    const items = [...REQUESTS, { distribution: 'demo', path: '/private/x.mp4' }, { distribution: 'demo', path: '/videos/a.mp4', ipAddress: '2001:db8::1' }]
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(TOKEN), payload: { items } })
    assert.equal(res.statusCode, 200, res.body)
    const answers = res.json().items as Array<Signed | { error: { code: string } }>
    assert.equal(answers.length, items.length)
    answers.slice(0, REQUESTS.length).forEach((answer, i) => {
      assert.ok('url' in answer, `item ${i}: ${JSON.stringify(answer)}`)
      assertLifecycle(answer, `item ${i}`)
    })
    assert.deepEqual(answers.slice(REQUESTS.length).map((a) => ('error' in a ? a.error.code : 'signed')), ['FORBIDDEN_PATH', 'IPV6_NOT_SUPPORTED'])
    assert.deepEqual(new Set(answers.flatMap((a) => ('keyId' in a ? [a.keyId] : []))), new Set([RSA_KEY_ID, LEGACY_KEY_ID, EC_KEY_ID]))
  })
})
