import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import pino from 'pino'
import { build, captureLogs } from '../support/build.js'
import { loggerOptions, redactUrl, requestLogger } from '../../src/http/logging.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { bearer, makeToken } from '../support/tokens.js'

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
    assert.ok(!logs.text().includes('not-a-token'), "!logs.text().includes('not-a-token')")
  })

  it('the request line skips path redaction (it carries no credentials); every other line keeps it', async (t) => {
    const logs = captureLogs()
    // A probe route whose log facts hold paths the logger redacts (`*.secret`, `*.privateKey`): only
    // the request line, which skips path redaction, shows them as they are.
    const app = await build(t, {
      logLevel: 'info',
      logStream: logs.stream,
      beforeReady: (app) =>
        app.get('/test/request-line', async (request) => {
          request.log.info({ probe: { secret: 'on-a-request-log-line' } }, 'a line of the request')
          request.logSummary = { message: 'probe answered', facts: { probe: { secret: 'on-the-request-line' }, key: { privateKey: 'also-on-it' } } }
          return {}
        }),
    })
    app.log.info({ jwt: { secret: 'do-not-log-me' }, key: { privateKey: 'nor-me' } }, 'a careless line')
    await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: { ...bearer(), 'x-request-id': 'kept' }, payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    await app.inject({ method: 'GET', url: '/test/request-line', headers: { 'x-request-id': 'probe' } })
    const lines = parse(logs.text())
    const careless = lines.find((line) => line.msg === 'a careless line')!
    assert.deepEqual(careless.jwt, { secret: '[redacted]' })
    assert.deepEqual(careless.key, { privateKey: '[redacted]' })
    assert.ok(!logs.text().includes('do-not-log-me') && !logs.text().includes('nor-me'), 'the careless line is redacted')
    assert.equal(lines.filter((line) => line.reqId === 'kept').length, 1)
    const probe = lines.filter((line) => line.reqId === 'probe')
    assert.deepEqual(probe.map((line) => line.msg), ['a line of the request', 'probe answered'])
    assert.deepEqual(probe[0].probe, { secret: '[redacted]' }, "the request's own lines keep path redaction")
    assert.deepEqual(probe[1].probe, { secret: 'on-the-request-line' }, 'the request line skips path redaction')
    assert.deepEqual(probe[1].key, { privateKey: 'also-on-it' }, 'the request line skips path redaction')
  })

  it('writes no request line when the level is above info', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'warn', logStream: logs.stream })
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    assert.equal(res.statusCode, 200)
    assert.equal(logs.text(), '')
  })
})

describe('request log: credentials anywhere in the URL never reach the logs', () => {
  const token = makeToken({ sub: 'player', scope: 'sign' })
  const secretsOf = (jwt: string) => [jwt, jwt.split('.')[1], jwt.split('.')[2]]

  /** Sends each URL to an app that logs at info, and returns every log line's text. */
  async function logsOf(t: TestContext, urls: string[]): Promise<string> {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    for (const url of urls) await app.inject({ method: 'GET', url })
    return logs.text()
  }

  it('secret query parameters in any case: access_token, Signature, Policy, CloudFront-*; Key-Pair-Id and Expires stay', async (t) => {
    const text = await logsOf(t, [
      '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&Access_Token=tok-secret-1&ACCESS_TOKEN=tok-secret-2',
      '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&signature=sig-secret-3&POLICY=pol-secret-4&Key-Pair-Id=K2JCJMDEHXQW5F&Expires=1800000300',
      '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&cloudfront-signature=sig-secret-5&acc%65ss_token=tok-secret-6',
      '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&CF-Edge=v1.edge-secret-7.mac',
    ])
    for (const secret of ['tok-secret-1', 'tok-secret-2', 'sig-secret-3', 'pol-secret-4', 'sig-secret-5', 'tok-secret-6', 'edge-secret-7']) assert.ok(!text.includes(secret), secret)
    const urls = parse(text).filter((line) => line.msg === 'request completed').map((line) => line.url)
    assert.equal(urls[1], '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&signature=[redacted]&POLICY=[redacted]&Key-Pair-Id=K2JCJMDEHXQW5F&Expires=1800000300')
  })

  it('a JWT in the path, or under any other name, is redacted', async (t) => {
    const text = await logsOf(t, [
      `/v1/playback/${token}`,
      `/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&next=${token}`,
      `/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&auth=Bearer%20${token}`,
      `/v1/playback;${token}?distribution=demo`,
    ])
    for (const secret of secretsOf(token)) assert.ok(!text.includes(secret), secret)
    const urls = parse(text).filter((line) => line.msg === 'request completed').map((line) => line.url)
    assert.deepEqual(urls.slice(0, 3), [
      '/v1/playback/[redacted]',
      '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&next=[redacted]',
      '/v1/playback?distribution=demo&path=%2Fvideos%2Fa.mp4&auth=Bearer%20[redacted]',
    ])
  })

  it('a Signature or Policy inside a URL nested in a query value, encoded once or twice, is redacted', async (t) => {
    const nested = 'https://d111111abcdef8.cloudfront.net/a.mp4?Expires=1800000300&Signature=sig~secret_7&Key-Pair-Id=K2JCJMDEHXQW5F'
    const twice = encodeURIComponent(encodeURIComponent('https://d.example/a?Policy=pol~secret_8&Key-Pair-Id=K1'))
    const text = await logsOf(t, [`/v1/playback?distribution=demo&next=${encodeURIComponent(nested)}`, `/v1/playback?next=${twice}#Signature=sig-secret-9`])
    for (const secret of ['sig~secret_7', 'sig%7Esecret_7', 'pol~secret_8', 'pol%257Esecret_8', 'sig-secret-9']) assert.ok(!text.includes(secret), secret)
    assert.ok(text.includes('Key-Pair-Id%3DK2JCJMDEHXQW5F'), 'what is not secret stays readable')
  })

  it('the req serializer (any line that logs the request) redacts the same way', () => {
    const { serializers } = loggerOptions('info', false)
    const logged = serializers.req({ method: 'GET', url: `/v1/playback/${token}?Access_Token=tok-secret`, host: 'h', ip: '10.0.0.1' } as never)
    assert.equal(logged.url, '/v1/playback/[redacted]?Access_Token=[redacted]')
  })

  it('redactUrl is one linear pass: a long hostile URL takes milliseconds, and a clean URL comes back as is', () => {
    const hostile = `/${'eyJa.'.repeat(4000)}?${'%25'.repeat(4000)}Signature%3D${'a'.repeat(8000)}&${'eyJaaaa/'.repeat(4000)}`
    const started = performance.now()
    redactUrl(hostile)
    assert.ok(performance.now() - started < 250, `${performance.now() - started} ms for ${hostile.length} characters`)
    const clean = '/v1/playback?distribution=demo&path=%2Fvideos%2Fheyjude.eyJ.mp4&Key-Pair-Id=K1'
    assert.equal(redactUrl(clean), clean)
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
    assert.ok(!logs.text().includes('never-logged'), "!logs.text().includes('never-logged')")
    assert.equal(quiet.level, 'info')
  })
})

