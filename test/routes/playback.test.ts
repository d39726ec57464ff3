import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, captureLogs, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { assertVerdict, getParam, inspectWithTestKeys } from '../support/inspector.js'
import { sharedApp } from '../support/shared-app.js'

// Tests that only read build()'s defaults share one app.
const defaultApp = sharedApp()

const NOW = TEST_NOW_MS / 1000
const SIGN = makeToken({ sub: 'player', scope: 'sign' })

const playbackUrl = (query: Record<string, string>) => `/v1/playback?${new URLSearchParams(query)}`

describe('GET /v1/playback', () => {
  it('redirects (302) to a freshly signed URL with the distribution\'s default TTL, uncached, without referrer, embeddable cross-origin', async (t) => {
    const app = await defaultApp()
    const res = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/videos/my clip.mp4' }), headers: bearer(SIGN) })
    assert.equal(res.statusCode, 302, res.body)
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.equal(res.headers['referrer-policy'], 'no-referrer')
    assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin', 'a <video src> on any origin may follow it')
    const location = res.headers.location as string
    assert.ok(location.startsWith('https://d111111abcdef8.cloudfront.net/videos/my%20clip.mp4?Expires='), location)
    assert.equal(getParam(location, 'Expires'), String(NOW + 300))
    assert.equal(getParam(location, 'Key-Pair-Id'), RSA_KEY_ID)
    assertVerdict(inspectWithTestKeys(location, { at: NOW }), 'allow')
    assertVerdict(inspectWithTestKeys(location, { at: NOW + 300 }), 'EXPIRED')
    assert.match(String(res.headers['grant-id']), /^[A-Za-z0-9_-]{16}$/, 'the grant\'s ID in Grant-Id')
    assert.ok(!location.includes(String(res.headers['grant-id'])), 'a distribution without the edge layer signs no grant ID')
  })

  it('accepts the token as access_token in the query, for players that cannot send headers', async (t) => {
    const app = await defaultApp()
    const res = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/hls/index.m3u8', access_token: SIGN }) })
    assert.equal(res.statusCode, 302, res.body)
    assertVerdict(inspectWithTestKeys(res.headers.location as string, { at: NOW }), 'allow')
    const bad = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/hls/index.m3u8', access_token: `${SIGN}x` }) })
    assert.equal(bad.statusCode, 401)
    assert.equal(bad.json().code, 'TOKEN_INVALID')
    const expired = makeToken({ sub: 'player', scope: 'sign' }, { expiresInSeconds: -60 })
    const late = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/hls/index.m3u8', access_token: expired }) })
    assert.equal(late.json().code, 'TOKEN_EXPIRED')
    const none = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/hls/index.m3u8' }) })
    assert.equal(none.statusCode, 401)
    assert.equal(none.json().code, 'UNAUTHORIZED')
  })

  it('refuses access_token in the query on every other route', async (t) => {
    const app = await defaultApp()
    const signing = await app.inject({ method: 'POST', url: `/v1/signed-urls?access_token=${SIGN}`, payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    assert.equal(signing.statusCode, 400)
    assert.equal(signing.json().code, 'TOKEN_IN_QUERY_NOT_ALLOWED')
    for (const [method, url] of [['POST', '/v1/signed-cookies'], ['POST', '/v1/signed-streams'], ['POST', '/v1/inspect'], ['GET', '/v1/keys']] as const) {
      const res = await app.inject({ method, url: `${url}?access_token=${SIGN}`, payload: method === 'POST' ? {} : undefined })
      assert.equal(res.json().code, 'TOKEN_IN_QUERY_NOT_ALLOWED', url)
    }
  })

  it('applies the token\'s claims: distributions, paths, and a shorter maxTtlSeconds', async (t) => {
    const app = await defaultApp()
    const get = (token: string, path = '/videos/a.mp4', distribution = 'demo') => app.inject({ method: 'GET', url: playbackUrl({ distribution, path, access_token: token }) })
    const short = await get(makeToken({ sub: 'p', scope: 'sign', maxTtlSeconds: 60 }))
    assert.equal(short.statusCode, 302)
    assert.equal(getParam(short.headers.location as string, 'Expires'), String(NOW + 60), 'the default TTL shortened to the token\'s maximum')
    const elsewhere = await get(makeToken({ sub: 'p', scope: 'sign', distributions: ['private'] }))
    assert.equal(elsewhere.statusCode, 403)
    assert.equal(elsewhere.json().code, 'FORBIDDEN_DISTRIBUTION')
    const narrowed = await get(makeToken({ sub: 'p', scope: 'sign', paths: ['/videos/free/*'] }))
    assert.equal(narrowed.json().code, 'FORBIDDEN_PATH')
    assert.equal((await get(SIGN, '/private/a.mp4')).json().code, 'FORBIDDEN_PATH', 'outside allowedPaths')
    assert.equal((await get(makeToken({ sub: 'ops', scope: 'admin:read' }))).json().code, 'FORBIDDEN_SCOPE')
    assert.equal((await get(SIGN, '/videos/a.mp4', 'nope')).json().code, 'UNKNOWN_DISTRIBUTION')
    assert.equal((await get(SIGN, 'videos/a.mp4')).json().code, 'INVALID_PATH')
  })

  it('validates the query: distribution and path required, nothing unknown', async (t) => {
    const app = await defaultApp()
    const missing = await app.inject({ method: 'GET', url: playbackUrl({ path: '/videos/a.mp4' }), headers: bearer(SIGN) })
    assert.equal(missing.statusCode, 400)
    assert.equal(missing.json().code, 'VALIDATION_ERROR')
    const unknown = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/videos/a.mp4', ttl: '60' }), headers: bearer(SIGN) })
    assert.equal(unknown.json().code, 'VALIDATION_ERROR')
  })

  it('never logs the access_token, nor the signed URL it redirects to', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logStream: logs.stream, logLevel: 'info' })
    const ok = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/videos/a.mp4', access_token: SIGN }) })
    const refused = await app.inject({ method: 'GET', url: playbackUrl({ distribution: 'demo', path: '/private/a.mp4', access_token: SIGN }) })
    assert.equal(ok.statusCode, 302)
    assert.equal(refused.statusCode, 403)
    const text = logs.text()
    assert.match(text, /playback redirect/)
    assert.equal(JSON.parse(text.split('\n').find((line) => line.includes('playback redirect'))!).grantId, ok.headers['grant-id'], 'the grant ID is logged, to revoke it')
    assert.match(text, /access_token=\[redacted\]/)
    assert.ok(!text.includes(SIGN), 'the token')
    assert.ok(!text.includes(SIGN.split('.')[2]), 'the token\'s signature')
    assert.ok(!text.includes(getParam(ok.headers.location as string, 'Signature')!), 'the signed URL')
  })

  it('redirects a real HTTP client on a listening server', async (t) => {
    const app = await build(t)
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const res = await fetch(`${address}${playbackUrl({ distribution: 'demo', path: '/videos/a.mp4', access_token: SIGN })}`, { redirect: 'manual' })
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assertVerdict(inspectWithTestKeys(res.headers.get('location')!, { at: NOW }), 'allow')
  })
})
