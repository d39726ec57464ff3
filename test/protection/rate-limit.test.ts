import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'

const SIGN = { url: '/v1/signed-urls', body: { distribution: 'demo', path: '/videos/a.mp4' } }
const BATCH = { url: '/v1/signed-urls/batch', body: { items: Array.from({ length: 5 }, (_, i) => ({ distribution: 'demo', path: `/videos/${i}.mp4` })) } }
const limited = { rateLimit: { sign: { max: 2, timeWindowSeconds: 60 } } }

function post(app: Awaited<ReturnType<typeof build>>, route: { url: string; body: unknown }, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: route.url, payload: route.body as object, headers, remoteAddress })
}

describe('rate limits on the signing routes (rateLimit.sign)', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a caller spends its budget, in the Fastify error shape', async (t) => {
    const app = await build(t, { configInput: limited })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    assert.equal((await post(app, SIGN, alice)).statusCode, 200)
    const second = await post(app, SIGN, alice)
    assert.equal(second.statusCode, 200)
    assert.equal(second.headers['x-ratelimit-limit'], '2')
    assert.equal(second.headers['x-ratelimit-remaining'], '0')

    const refused = await post(app, SIGN, alice)
    assert.equal(refused.statusCode, 429)
    const body = refused.json()
    assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
    assert.equal(body.code, 'RATE_LIMITED')
    assert.equal(body.statusCode, 429)
    const retryAfter = Number(refused.headers['retry-after'])
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${refused.headers['retry-after']}`)
    assert.ok(refused.headers['x-request-id'], "refused.headers['x-request-id']")
  })

  it('keeps one budget per token sub: another caller from the same address is not affected', async (t) => {
    const app = await build(t, { configInput: limited })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    for (let i = 0; i < 3; i++) await post(app, SIGN, alice)
    assert.equal((await post(app, SIGN, alice)).statusCode, 429)
    assert.equal((await post(app, SIGN, bearer(makeToken({ sub: 'bob', scope: 'sign' })))).statusCode, 200)
  })

  it('follows the sub, not the address: the same caller from two addresses shares one budget', async (t) => {
    const app = await build(t, { configInput: limited })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    assert.equal((await post(app, SIGN, alice, '10.0.0.1')).statusCode, 200)
    assert.equal((await post(app, SIGN, alice, '10.0.0.2')).statusCode, 200)
    assert.equal((await post(app, SIGN, alice, '10.0.0.3')).statusCode, 429)
  })

  it('counts a batch as one request, and single and batch signing spend the same budget', async (t) => {
    const app = await build(t, { configInput: limited })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    const batch = await post(app, BATCH, alice)
    assert.equal(batch.statusCode, 200)
    assert.equal(batch.json().items.length, 5)
    assert.equal(batch.headers['x-ratelimit-remaining'], '1')
    assert.equal((await post(app, SIGN, alice)).statusCode, 200)
    assert.equal((await post(app, BATCH, alice)).statusCode, 429)
  })

  it('limits callers without a valid token by address, before answering their 401', async (t) => {
    const app = await build(t, { configInput: limited })
    assert.equal((await post(app, SIGN, {}, '10.0.0.9')).json().code, 'UNAUTHORIZED')
    assert.equal((await post(app, SIGN, bearer('not-a-jwt'), '10.0.0.9')).json().code, 'TOKEN_INVALID')
    const refused = await post(app, SIGN, {}, '10.0.0.9')
    assert.equal(refused.statusCode, 429)
    assert.equal(refused.json().code, 'RATE_LIMITED')
    // Another address still reaches authentication.
    assert.equal((await post(app, SIGN, {}, '10.0.0.10')).json().code, 'UNAUTHORIZED')
  })

  it('never trusts an unverified sub: forged tokens naming a caller do not spend that caller\'s budget', async (t) => {
    const app = await build(t, { configInput: limited })
    const forged = bearer(makeToken({ sub: 'alice', scope: 'sign' }, { key: 'an-attacker-secret-that-is-long-enough-0123456789' }))
    for (let i = 0; i < 2; i++) assert.equal((await post(app, SIGN, forged, '10.6.6.6')).statusCode, 401)
    assert.equal((await post(app, SIGN, forged, '10.6.6.6')).statusCode, 429)
    assert.equal((await post(app, SIGN, bearer(makeToken({ sub: 'alice', scope: 'sign' })), '10.6.6.6')).statusCode, 200)
  })

  it('limits tokens without a sub by address, so they do not all share one budget', async (t) => {
    const app = await build(t, { configInput: limited })
    const noSub = bearer(makeToken({ sub: '', scope: 'sign' }))
    for (let i = 0; i < 2; i++) assert.equal((await post(app, SIGN, noSub, '10.0.0.1')).statusCode, 200)
    assert.equal((await post(app, SIGN, noSub, '10.0.0.1')).statusCode, 429)
    assert.equal((await post(app, SIGN, noSub, '10.0.0.2')).statusCode, 200)
  })

  it('gives the budget back when the window ends, and says when in Retry-After', async (t) => {
    let nowMs = TEST_NOW_MS
    const app = await build(t, { configInput: { rateLimit: { sign: { max: 1, timeWindowSeconds: 30 } } }, now: () => nowMs })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    assert.equal((await post(app, SIGN, alice)).statusCode, 200)
    nowMs += 20_000
    const refused = await post(app, SIGN, alice)
    assert.equal(refused.statusCode, 429)
    assert.equal(refused.headers['retry-after'], '10')
    nowMs += 10_000
    assert.equal((await post(app, SIGN, alice)).statusCode, 200)
  })

  it('refuses only what exceeds the budget when a caller sends a burst at once', async (t) => {
    const app = await build(t, { configInput: { rateLimit: { sign: { max: 3, timeWindowSeconds: 60 } } } })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    const burst = await Promise.all(Array.from({ length: 5 }, () => post(app, SIGN, alice)))
    assert.deepEqual(burst.map((r) => r.statusCode).sort(), [200, 200, 200, 429, 429])
  })

  it('is off when rateLimit.sign is absent', async (t) => {
    const app = await build(t)
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    for (let i = 0; i < 5; i++) {
      const response = await post(app, SIGN, alice)
      assert.equal(response.statusCode, 200)
      assert.equal(response.headers['x-ratelimit-limit'], undefined)
    }
  })

  it('leaves routes that did not opt in alone', async (t) => {
    const app = await build(t, { configInput: { rateLimit: { sign: { max: 1, timeWindowSeconds: 60 } } } })
    const alice = bearer(makeToken({ sub: 'alice', scope: 'sign' }))
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'GET', url: '/v1/keys', headers: alice })).statusCode, 200)
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  })
})

describe('rate-limit groups: every route of a group spends one budget', () => {
  it('puts every signing route in rateLimit.sign, a playback token in the query included', async (t) => {
    const app = await build(t, { configInput: { rateLimit: { sign: { max: 5, timeWindowSeconds: 60 } } } })
    const token = makeToken({ sub: 'player', scope: 'sign' })
    const alice = bearer(token)
    // Outcomes other than the limit do not matter here: every request counts, valid or not.
    const requests = [
      () => post(app, SIGN, alice),
      () => post(app, BATCH, alice),
      () => post(app, { url: '/v1/signed-cookies', body: { distribution: 'demo', path: '/hls/*' } }, alice),
      () => post(app, { url: '/v1/signed-streams', body: { distribution: 'demo', stream: 'videos/clip.mp4' } }, alice),
      () => app.inject({ method: 'GET', url: `/v1/playback?distribution=demo&path=/videos/a.mp4&access_token=${token}` }),
    ]
    for (const [i, send] of requests.entries()) {
      const response = await send()
      assert.notEqual(response.statusCode, 429, `request ${i}`)
      assert.equal(response.headers['x-ratelimit-remaining'], String(4 - i), `request ${i}`)
    }
    for (const send of requests) assert.equal((await send()).json().code, 'RATE_LIMITED')
  })

  it('keeps /v1/admin/* on its own budget, counted even when the admin API is not configured', async (t) => {
    const app = await build(t, { configInput: { rateLimit: { sign: { max: 1, timeWindowSeconds: 60 }, admin: { max: 2, timeWindowSeconds: 60 } } } })
    const operator = bearer(makeToken({ sub: 'ops', scope: 'sign admin:read' }))
    const admin = () => app.inject({ method: 'GET', url: '/v1/admin/distributions', headers: operator })
    assert.equal((await admin()).json().code, 'ADMIN_NOT_CONFIGURED')
    assert.equal((await post(app, SIGN, operator)).statusCode, 200)
    assert.equal((await post(app, SIGN, operator)).statusCode, 429)
    const second = await admin()
    assert.equal(second.json().code, 'ADMIN_NOT_CONFIGURED')
    assert.equal(second.headers['x-ratelimit-limit'], '2')
    assert.equal((await admin()).json().code, 'RATE_LIMITED')
  })
})
