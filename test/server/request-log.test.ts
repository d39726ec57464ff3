import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { build, captureLogs } from '../support/build.js'
import { loggerOptions, requestLogger } from '../../src/logging.js'
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

describe('request.log: made on first use', () => {
  it('makes no pino child for a request that logs nothing, and one, with the request id and redaction, once it logs', () => {
    const logs = captureLogs()
    const parent = pino(loggerOptions('info', false), logs.stream)
    let children = 0
    const child = parent.child
    // pino's children inherit from their parent: the count must keep `this`.
    parent.child = function (this: typeof parent, ...args: Parameters<typeof child>) {
      children++
      return child.apply(this, args)
    } as typeof parent.child
    const quiet = requestLogger(parent, { reqId: 'quiet' }, {})
    const loud = requestLogger(parent, { reqId: 'loud' }, {})
    assert.equal(children, 0)
    loud.info({ key: { privateKey: 'never-logged' } }, 'first')
    loud.warn('second')
    loud.debug('below the level')
    assert.equal(children, 1)
    assert.equal(loud.level, 'info')
    loud.child({ component: 'inner' }).error('third')
    assert.equal(children, 2)
    const lines = parse(logs.text())
    assert.deepEqual(lines.map((line) => [line.reqId, line.msg]), [['loud', 'first'], ['loud', 'second'], ['loud', 'third']])
    assert.deepEqual(lines[0].key, { privateKey: '[redacted]' })
    assert.equal(lines[2].component, 'inner')
    assert.ok(!logs.text().includes('never-logged'))
    assert.equal(quiet.level, 'info')
  })
})

