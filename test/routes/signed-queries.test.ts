import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build, captureLogs, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { RSA_KEY_ID, VECTORS_DIR } from '../support/keys.js'
import { assertVerdict, flipChar, inspectWithTestKeys } from '../support/inspector.js'
import { sharedApp } from '../support/shared-app.js'
import { fromCloudFrontBase64 } from '../../src/signing/policy.js'

// Tests that only read build()'s defaults share one app.
const defaultApp = sharedApp()

const NOW = TEST_NOW_MS / 1000
const WILDCARD = makeToken({ sub: 'player', scope: 'sign sign:wildcard' })
const SIGN = makeToken({ sub: 'player', scope: 'sign' })

interface QueryAnswer {
  query: string
  params: Record<string, string>
  expires: number
  expiresAt: string
  policy: 'canned' | 'custom'
  resource: string
  keyId: string
}

function post(app: Awaited<ReturnType<typeof build>>, payload: Record<string, unknown>, token = WILDCARD) {
  return app.inject({ method: 'POST', url: '/v1/signed-queries', headers: bearer(token), payload })
}

/** A URL with the answer's query appended, as a player does for each request under the folder. */
const withQuery = (url: string, query: string) => `${url}${url.includes('?') ? '&' : '?'}${query}`

describe('POST /v1/signed-queries', () => {
  it('signs a folder with a custom policy; the query appended to every file under it passes the inspector', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*', expiresIn: 600 })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.headers['cache-control'], 'no-store')
    const body = res.json() as QueryAnswer
    assert.deepEqual(
      { policy: body.policy, resource: body.resource, expires: body.expires, expiresAt: body.expiresAt, keyId: body.keyId },
      { policy: 'custom', resource: 'https://media.example.com/hls/movie-42/*', expires: NOW + 600, expiresAt: new Date((NOW + 600) * 1000).toISOString(), keyId: RSA_KEY_ID },
    )
    assert.deepEqual(Object.keys(body.params), ['Policy', 'Signature', 'Key-Pair-Id'])
    assert.equal(body.query, `Policy=${body.params.Policy}&Signature=${body.params.Signature}&Key-Pair-Id=${RSA_KEY_ID}`)
    assert.deepEqual(Object.fromEntries(new URLSearchParams(body.query)), body.params, 'the query is the params, needing no encoding')
    for (const file of ['index.m3u8', '720p/index.m3u8', '720p/seg-00001.ts', 'keys/k1.key', 'seg-2.ts?token=x']) {
      assertVerdict(inspectWithTestKeys(withQuery(`https://media.example.com/hls/movie-42/${file}`, body.query), { at: NOW }), 'allow', file)
    }
    const url = withQuery('https://media.example.com/hls/movie-42/index.m3u8', body.query)
    assertVerdict(inspectWithTestKeys(url, { at: NOW + 600 }), 'EXPIRED')
    assertVerdict(inspectWithTestKeys(withQuery('https://media.example.com/hls/movie-43/index.m3u8', body.query), { at: NOW }), 'RESOURCE_MISMATCH', 'another folder')
    assertVerdict(inspectWithTestKeys(withQuery('https://d111111abcdef8.cloudfront.net/hls/movie-42/index.m3u8', body.query), { at: NOW }), 'RESOURCE_MISMATCH', 'another host')
  })

  it('signs the exact policy it returns, verified with the public key', async (t) => {
    const app = await defaultApp()
    const body = (await post(app, { distribution: 'demo', resource: '/hls/movie-42/*', expiresIn: 60 })).json() as QueryAnswer
    const expected = JSON.stringify({ Statement: [{ Resource: 'https://media.example.com/hls/movie-42/*', Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 60 } } }] })
    assert.equal(fromCloudFrontBase64(body.params.Policy).toString('utf8'), expected)
    const keys = JSON.parse(readFileSync(join(VECTORS_DIR, 'keys.json'), 'utf8')) as Record<string, string>
    const publicKey = createPublicKey(readFileSync(join(VECTORS_DIR, keys[RSA_KEY_ID])))
    assert.equal(verify('sha1', Buffer.from(expected), publicKey, fromCloudFrontBase64(body.params.Signature)), true, 'RSA-SHA1 over the policy')
  })

  it('uses a custom policy even for one exact file, and adds Hash-Algorithm with SHA256', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: '/videos/intro.mp4', hashAlgorithm: 'SHA256' }, SIGN)
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as QueryAnswer
    assert.equal(body.policy, 'custom')
    assert.equal(body.params['Hash-Algorithm'], 'SHA256')
    assert.ok(body.query.endsWith('&Hash-Algorithm=SHA256'), body.query)
    assertVerdict(inspectWithTestKeys(withQuery('https://media.example.com/videos/intro.mp4', body.query), { at: NOW }), 'allow')
    assertVerdict(inspectWithTestKeys(withQuery('https://media.example.com/videos/intro.mp4?x=1', body.query), { at: NOW }), 'RESOURCE_MISMATCH', 'query added')
  })

  it('builds notBefore, ipAddress, expiresAt and keyId into the policy', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*', notBefore: NOW + 60, expiresAt: new Date((NOW + 900) * 1000).toISOString(), ipAddress: '203.0.113.0/24' })
    assert.equal(res.statusCode, 200, res.body)
    const { query, expires } = res.json() as QueryAnswer
    assert.equal(expires, NOW + 900)
    const url = withQuery('https://media.example.com/hls/movie-42/seg-1.ts', query)
    assertVerdict(inspectWithTestKeys(url, { at: NOW + 60, ip: '203.0.113.9' }), 'allow')
    assertVerdict(inspectWithTestKeys(url, { at: NOW + 59, ip: '203.0.113.9' }), 'NOT_YET_VALID')
    assertVerdict(inspectWithTestKeys(url, { at: NOW + 60, ip: '198.51.100.1' }), 'IP_NOT_ALLOWED')
    const unknownKey = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*', keyId: 'K0NOSUCHKEY000' })
    assert.equal(unknownKey.statusCode, 400)
    assert.equal(unknownKey.json().code, 'UNKNOWN_KEY')
  })

  it('denies a tampered query for the right reason', async (t) => {
    const app = await defaultApp()
    const { params } = (await post(app, { distribution: 'demo', resource: '/hls/movie-42/*' })).json() as QueryAnswer
    const url = 'https://media.example.com/hls/movie-42/index.m3u8'
    const query = (changed: Record<string, string>) => new URLSearchParams({ ...params, ...changed }).toString()
    assertVerdict(inspectWithTestKeys(withQuery(url, query({ Signature: flipChar(params.Signature) })), { at: NOW }), 'BAD_SIGNATURE', 'signature')
    assertVerdict(inspectWithTestKeys(withQuery(url, query({ Policy: flipChar(params.Policy, 40) })), { at: NOW }), 'BAD_SIGNATURE', 'policy')
    assertVerdict(inspectWithTestKeys(withQuery(url, query({ 'Key-Pair-Id': 'K0NOSUCHKEY000' })), { at: NOW }), 'UNKNOWN_KEY', 'key ID')
  })

  it('applies the cookie route\'s rules: sign:wildcard, allowedPaths, the token\'s claims, the distribution\'s hosts', async (t) => {
    const app = await defaultApp()
    const noWildcard = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*' }, SIGN)
    assert.equal(noWildcard.statusCode, 403)
    assert.equal(noWildcard.json().code, 'FORBIDDEN_SCOPE')
    assert.equal((await post(app, { distribution: 'demo', resource: '/private/*' })).json().code, 'FORBIDDEN_PATH')
    assert.equal((await post(app, { distribution: 'demo', resource: '/*' })).json().code, 'FORBIDDEN_PATH', 'a pattern reaching past allowedPaths')
    const narrowed = makeToken({ sub: 'kid', scope: 'sign sign:wildcard', paths: ['/hls/free/*'] })
    assert.equal((await post(app, { distribution: 'demo', resource: '/hls/movie-42/*' }, narrowed)).json().code, 'FORBIDDEN_PATH')
    assert.equal((await post(app, { distribution: 'demo', resource: '/hls/free/*' }, narrowed)).statusCode, 200)
    const otherDist = makeToken({ sub: 'kid', scope: 'sign sign:wildcard', distributions: ['private'] })
    assert.equal((await post(app, { distribution: 'demo', resource: '/hls/*' }, otherDist)).json().code, 'FORBIDDEN_DISTRIBUTION')
    assert.equal((await post(app, { distribution: 'demo', resource: '/hls/../private/*' })).json().code, 'INVALID_RESOURCE')
    assert.equal((await post(app, { distribution: 'demo', resource: 'https://evil.example.net/hls/*' })).json().code, 'FORBIDDEN_HOST')
    assert.equal((await post(app, { distribution: 'demo', resource: 'https://*.example.com/hls/*' })).json().code, 'WILDCARD_HOST')
    const onCloudFront = await post(app, { distribution: 'demo', resource: 'https://d111111abcdef8.cloudfront.net/hls/*' })
    assert.equal(onCloudFront.json().resource, 'https://d111111abcdef8.cloudfront.net/hls/*', 'a URL pattern on any of its hosts')
    const long = await post(app, { distribution: 'demo', resource: '/hls/*', expiresIn: 86_401 })
    assert.equal(long.statusCode, 403)
    assert.equal(long.json().code, 'FORBIDDEN_TTL')
    const bare = await post(app, { distribution: 'private', resource: '/a/*' })
    assert.equal(bare.json().resource, 'https://d222222abcdef8.cloudfront.net/a/*', 'no cookie settings needed')
  })

  it('needs a token with the sign scope, refuses unknown fields and distributions', async (t) => {
    const app = await defaultApp()
    const anonymous = await app.inject({ method: 'POST', url: '/v1/signed-queries', payload: { distribution: 'demo', resource: '/hls/*' } })
    assert.equal(anonymous.statusCode, 401)
    assert.equal(anonymous.json().code, 'UNAUTHORIZED')
    const reader = await post(app, { distribution: 'demo', resource: '/hls/*' }, makeToken({ sub: 'ops', scope: 'admin:read' }))
    assert.equal(reader.statusCode, 403)
    assert.equal(reader.json().code, 'FORBIDDEN_SCOPE')
    const cookies = await post(app, { distribution: 'demo', resource: '/hls/*', setCookies: true })
    assert.equal(cookies.statusCode, 400)
    assert.equal(cookies.json().code, 'VALIDATION_ERROR', 'a query sets no cookies')
    assert.equal((await post(app, { distribution: 'nope', resource: '/hls/*' })).json().code, 'UNKNOWN_DISTRIBUTION')
    assert.equal((await post(app, { distribution: 'demo', resource: 'hls/*' })).json().code, 'INVALID_RESOURCE')
    assert.equal((await post(app, { distribution: 'demo' })).json().code, 'VALIDATION_ERROR')
  })

  it('never logs the query, its policy or signature', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logStream: logs.stream, logLevel: 'info' })
    const { params } = (await post(app, { distribution: 'demo', resource: '/hls/movie-42/*' })).json() as QueryAnswer
    assert.match(logs.text(), /signed query/)
    assert.ok(!logs.text().includes(params.Signature), 'the signature')
    assert.ok(!logs.text().includes(params.Policy), 'the policy')
    assert.ok(!logs.text().includes(WILDCARD), 'the token')
  })
})
