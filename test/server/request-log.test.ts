import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, captureLogs } from '../support/build.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { bearer } from '../support/tokens.js'

const parse = (text: string) => text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)

describe('request log', () => {
  it('writes one line per signing request: request id, method, route, status, time, caller and what was signed', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { ...bearer(), 'x-request-id': 'one-line' }, payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    assert.equal(res.statusCode, 200)
    const lines = parse(logs.text()).filter((line) => line.reqId === 'one-line')
    assert.equal(lines.length, 1)
    const [line] = lines
    assert.equal(line.msg, 'signed url')
    assert.equal(line.method, 'POST')
    assert.equal(line.url, '/v1/signed-urls')
    assert.equal(line.route, '/v1/signed-urls')
    assert.equal(line.statusCode, 200)
    assert.equal(typeof line.responseTime, 'number')
    assert.equal(line.sub, 'alice')
    assert.equal(line.distribution, 'demo')
    assert.equal(line.keyId, RSA_KEY_ID)
    assert.equal(line.policy, 'canned')
    assert.equal(line.expires, res.json().expires)
  })

  it('logs a refused request as today (request refused) plus its one request line, with the query redacted', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    const res = await app.inject({ method: 'GET', url: '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&access_token=not-a-token', headers: { 'x-request-id': 'refused' } })
    assert.equal(res.statusCode, 401)
    const lines = parse(logs.text()).filter((line) => line.reqId === 'refused')
    assert.deepEqual(lines.map((line) => line.msg), ['request refused', 'request completed'])
    assert.equal(lines[0].code, 'TOKEN_INVALID')
    assert.equal(lines[1].statusCode, 401)
    assert.equal(lines[1].url, '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&access_token=[redacted]')
    assert.ok(!logs.text().includes('not-a-token'))
  })

  it('the request line skips path redaction (it carries no credentials); every other line keeps it', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    app.log.info({ jwt: { secret: 'do-not-log-me' }, key: { privateKey: 'nor-me' } }, 'a careless line')
    await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { ...bearer(), 'x-request-id': 'kept' }, payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    const careless = parse(logs.text()).find((line) => line.msg === 'a careless line')!
    assert.deepEqual(careless.jwt, { secret: '[redacted]' })
    assert.deepEqual(careless.key, { privateKey: '[redacted]' })
    assert.ok(!logs.text().includes('do-not-log-me') && !logs.text().includes('nor-me'))
    assert.equal(parse(logs.text()).filter((line) => line.reqId === 'kept').length, 1)
  })

  it('writes no request line when the level is above info', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'warn', logStream: logs.stream })
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    assert.equal(res.statusCode, 200)
    assert.equal(logs.text(), '')
  })
})
