// Grants and the edge layer: every answer names its grant (grantId), and a distribution with the edge
// layer on (distributions.<name>.edge) carries an edge token with each grant, inside the signed URL or
// bound to the grant's signature, with the request's viewer rules narrowed by the caller's claims.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { build, captureLogs } from '../support/build.js'
import { sharedApp } from '../support/shared-app.js'
import { bearer, makeToken } from '../support/tokens.js'

const GRANT_ID = /^[A-Za-z0-9_-]{16}$/
const SIGNER = makeToken({ sub: 'alice', scope: 'sign sign:wildcard' })
const defaultApp = sharedApp()

function post(app: FastifyInstance, url: string, payload: object, token = SIGNER) {
  return app.inject({ method: 'POST', url, headers: bearer(token), payload })
}

describe('grant IDs', () => {
  it('every answer carries its own grantId: URLs, batch items, cookies, queries, streams, and the playback redirect\'s Grant-Id', async () => {
    const app = await defaultApp()
    const answers = [
      await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }),
      await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }),
      await post(app, '/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' }),
      await post(app, '/v1/signed-queries', { distribution: 'demo', resource: '/hls/*' }),
      await post(app, '/v1/signed-streams', { distribution: 'demo', stream: 'videos/clip.mp4' }),
    ]
    const batch = await post(app, '/v1/signed-urls/batch', { items: [{ distribution: 'demo', path: '/videos/a.mp4' }, { distribution: 'demo', path: '/videos/a.mp4' }] })
    const playback = await app.inject({ method: 'GET', url: '/v1/playback?distribution=demo&path=/videos/a.mp4', headers: bearer(SIGNER) })
    for (const res of [...answers, batch]) assert.equal(res.statusCode, 200, res.body)
    assert.equal(playback.statusCode, 302)
    const ids = [...answers.map((res) => res.json().grantId), ...batch.json().items.map((item: { grantId: string }) => item.grantId), playback.headers['grant-id']]
    assert.equal(ids.length, 8)
    for (const id of ids) assert.match(String(id), GRANT_ID)
    assert.equal(new Set(ids).size, ids.length, 'no two answers share a grant ID, the same request twice included')
  })

  it('leaves a non-edge grant\'s policy as it was: the same request at the same time signs the same signature, without the grant ID', async () => {
    const app = await defaultApp()
    for (const [url, body, credential] of [
      ['/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }, (a: any) => a.url],
      ['/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4', resource: '/videos/*' }, (a: any) => a.url],
      ['/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' }, (a: any) => JSON.stringify(a.cookies)],
      ['/v1/signed-queries', { distribution: 'demo', resource: '/hls/*' }, (a: any) => a.query],
    ] as const) {
      const [first, second] = [(await post(app, url, body)).json(), (await post(app, url, body)).json()]
      assert.notEqual(first.grantId, second.grantId)
      assert.equal(credential(first), credential(second), `${url} ${JSON.stringify(body)}: one signature for both grants`)
      assert.ok(!credential(first).includes('cf-edge') && !credential(first).includes('CloudFront-Edge'), 'no edge token without the edge layer')
      assert.ok(!credential(first).includes(first.grantId))
    }
  })

  it('logs each grant\'s ID beside the facts it already logged', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    const url = (await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' })).json()
    const cookies = (await post(app, '/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' })).json()
    const lines = logs.text().trim().split('\n').map((line) => JSON.parse(line))
    assert.equal(lines.find((line) => line.msg === 'signed url').grantId, url.grantId)
    assert.equal(lines.find((line) => line.msg === 'signed cookies').grantId, cookies.grantId)
  })

  it('lets a browser frontend read Grant-Id (CORS exposes it)', async (t) => {
    const origin = 'https://app.example.com'
    const app = await build(t, { configInput: { cors: { origins: [origin] } } })
    const res = await app.inject({ method: 'GET', url: '/v1/playback?distribution=demo&path=/videos/a.mp4', headers: { ...bearer(SIGNER), origin } })
    assert.equal(res.statusCode, 302)
    assert.match(String(res.headers['access-control-expose-headers']), /\bgrant-id\b/)
  })
})
