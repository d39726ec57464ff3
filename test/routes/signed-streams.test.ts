import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, captureLogs, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { SIGNED_URL_VECTORS } from '../support/vectors.js'
import { assertVerdict, flipChar, getParam, inspectWithTestKeys, replaceParam } from '../support/inspector.js'
import { fromCloudFrontBase64 } from '../../src/signing/policy.js'
import { sharedApp } from '../support/shared-app.js'

// Tests that only read build()'s defaults share one app.
const defaultApp = sharedApp()

const NOW = TEST_NOW_MS / 1000
const WILDCARD = makeToken({ sub: 'player', scope: 'sign sign:wildcard' })
const SIGN = makeToken({ sub: 'player', scope: 'sign' })

interface StreamAnswer {
  streamer: string
  stream: string
  streamEscaped: string
  expires: number
  expiresAt: string
  policy: 'canned' | 'custom'
  resource: string
  keyId: string
}

function post(app: Awaited<ReturnType<typeof build>>, payload: Record<string, unknown>, token = WILDCARD) {
  return app.inject({ method: 'POST', url: '/v1/signed-streams', headers: bearer(token), payload })
}

describe('POST /v1/signed-streams', () => {
  it('signs the stream name alone with a canned policy; the inspector allows it plain and Flash-escaped', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', stream: 'videos/clip.mp4', expiresIn: 120 }, SIGN)
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as StreamAnswer
    assert.equal(body.streamer, 'rtmp://s5c39gqb8ow64r.cloudfront.net/cfx/st')
    assert.deepEqual(
      { policy: body.policy, resource: body.resource, expires: body.expires, keyId: body.keyId },
      { policy: 'canned', resource: 'videos/clip.mp4', expires: NOW + 120, keyId: RSA_KEY_ID },
    )
    assert.match(body.stream, new RegExp(`^videos/clip\\.mp4\\?Expires=${NOW + 120}&Signature=[A-Za-z0-9~_-]+&Key-Pair-Id=${RSA_KEY_ID}$`))
    assert.equal(body.streamEscaped, body.stream.replace('?', '%3F').replaceAll('=', '%3D').replaceAll('&', '%26'))
    assertVerdict(inspectWithTestKeys(body.stream, { at: NOW }), 'allow', 'plain')
    assertVerdict(inspectWithTestKeys(body.streamEscaped, { at: NOW }), 'allow', 'escaped')
    assertVerdict(inspectWithTestKeys(`${body.streamer}/${body.stream}`, { at: NOW }), 'allow', 'as an rtmp URL')
    assertVerdict(inspectWithTestKeys(body.stream, { at: NOW + 120 }), 'EXPIRED')
  })

  it('signs names as given, never percent-encoded: a space stays a space', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', stream: 'videos/my clip+1.mp4' }, SIGN)
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as StreamAnswer
    assert.equal(body.resource, 'videos/my clip+1.mp4')
    assert.ok(body.stream.startsWith('videos/my clip+1.mp4?Expires='), "body.stream.startsWith('videos/my clip+1.mp4?Expires=')")
    assertVerdict(inspectWithTestKeys(body.stream, { at: NOW }), 'allow')
  })

  it('keeps a type prefix in the signed name, and checks allowedPaths without it', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', stream: 'mp4:videos/clip' }, SIGN)
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().resource, 'mp4:videos/clip')
    const outside = await post(app, { distribution: 'demo', stream: 'mp4:private/clip' }, SIGN)
    assert.equal(outside.statusCode, 403)
    assert.equal(outside.json().code, 'FORBIDDEN_PATH')
    const claim = makeToken({ sub: 'kid', scope: 'sign', paths: ['/videos/free/*'] })
    assert.equal((await post(app, { distribution: 'demo', stream: 'videos/clip' }, claim)).json().code, 'FORBIDDEN_PATH')
    assert.equal((await post(app, { distribution: 'demo', stream: 'mp4:videos/free/clip' }, claim)).statusCode, 200)
  })

  it('stripExtension and prefix change the signed name (and so the resource) as documented', async (t) => {
    const app = await defaultApp()
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ stripExtension: true }, 'videos/clip'],
      [{ prefix: 'mp4' }, 'mp4:videos/clip.mp4'],
      [{ stripExtension: true, prefix: 'mp4' }, 'mp4:videos/clip'],
    ]
    for (const [options, name] of cases) {
      const res = await post(app, { distribution: 'demo', stream: 'videos/clip.mp4', ...options }, SIGN)
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json() as StreamAnswer
      assert.equal(body.resource, name, JSON.stringify(options))
      assert.ok(body.stream.startsWith(`${name}?Expires=`), 'body.stream.startsWith(`${name}?Expires=`)')
      assertVerdict(inspectWithTestKeys(body.stream, { at: NOW }), 'allow', name)
    }
    const twice = await post(app, { distribution: 'demo', stream: 'mp4:videos/clip', prefix: 'mp4' }, SIGN)
    assert.equal(twice.json().code, 'INVALID_STREAM')
    const badPrefix = await post(app, { distribution: 'demo', stream: 'videos/clip', prefix: 'ogg' }, SIGN)
    assert.equal(badPrefix.json().code, 'VALIDATION_ERROR')
  })

  it('signs a stream-name pattern as a custom policy with sign:wildcard; it must cover the name', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', stream: 'videos/clip', resource: 'videos/*', ipAddress: '203.0.113.0/24' })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as StreamAnswer
    assert.equal(body.policy, 'custom')
    assert.equal(body.resource, 'videos/*')
    const policy = JSON.parse(fromCloudFrontBase64(getParam(body.stream, 'Policy')!).toString())
    assert.deepEqual(policy.Statement[0].Resource, 'videos/*')
    assertVerdict(inspectWithTestKeys(body.stream, { at: NOW, ip: '203.0.113.5' }), 'allow')
    assertVerdict(inspectWithTestKeys(body.stream.replace('videos/clip', 'videos/other'), { at: NOW, ip: '203.0.113.5' }), 'allow', 'the pattern covers other names')
    assertVerdict(inspectWithTestKeys(body.stream.replace('videos/clip', 'audio/clip'), { at: NOW, ip: '203.0.113.5' }), 'RESOURCE_MISMATCH')
    assertVerdict(inspectWithTestKeys(body.stream, { at: NOW, ip: '198.51.100.1' }), 'IP_NOT_ALLOWED')

    const noScope = await post(app, { distribution: 'demo', stream: 'videos/clip', resource: 'videos/*' }, SIGN)
    assert.equal(noScope.statusCode, 403)
    assert.equal(noScope.json().code, 'FORBIDDEN_SCOPE')
    const notCovering = await post(app, { distribution: 'demo', stream: 'videos/clip', resource: 'hls/*' })
    assert.equal(notCovering.json().code, 'RESOURCE_NOT_COVERING')
    const outside = await post(app, { distribution: 'demo', stream: 'videos/clip', resource: 'audio/*' })
    assert.equal(outside.json().code, 'FORBIDDEN_PATH', 'narrowing is checked before the pattern is matched')
    const tooWide = await post(app, { distribution: 'demo', stream: 'videos/clip', resource: '*' })
    assert.equal(tooWide.json().code, 'FORBIDDEN_PATH')
    const exact = await post(app, { distribution: 'demo', stream: 'videos/clip', resource: 'videos/clip', notBefore: NOW + 30 }, SIGN)
    assert.equal(exact.json().policy, 'custom', 'an exact resource with a condition needs no wildcard scope')
  })

  it('refuses stream names with a host, the cfx/st application, a query or dot segments (INVALID_STREAM)', async (t) => {
    const app = await defaultApp()
    for (const stream of ['rtmp://s5c39gqb8ow64r.cloudfront.net/cfx/st/videos/clip', 'cfx/st/videos/clip', '/videos/clip', 'videos/clip?x=1', 'videos/../private/clip', 'videos/cl\u0000ip']) {
      const res = await post(app, { distribution: 'demo', stream }, SIGN)
      assert.equal(res.statusCode, 400, stream)
      assert.equal(res.json().code, 'INVALID_STREAM', stream)
    }
    const resource = await post(app, { distribution: 'demo', stream: 'videos/clip', resource: 'cfx/st/videos/*' })
    assert.equal(resource.json().code, 'INVALID_STREAM')
  })

  it('answers NO_RTMP_DOMAIN for a distribution without rtmpDomain', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'private', stream: 'videos/clip' }, SIGN)
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().code, 'NO_RTMP_DOMAIN')
  })

  it('denies tampered stream names for the right reason', async (t) => {
    const app = await defaultApp()
    const canned = (await post(app, { distribution: 'demo', stream: 'videos/clip' }, SIGN)).json() as StreamAnswer
    const custom = (await post(app, { distribution: 'demo', stream: 'videos/clip', ipAddress: '203.0.113.7' }, SIGN)).json() as StreamAnswer
    const at = { at: NOW, ip: '203.0.113.7' }
    assertVerdict(inspectWithTestKeys(canned.stream.replace('videos/clip', 'videos/clip2'), at), 'BAD_SIGNATURE', 'name')
    assertVerdict(inspectWithTestKeys(replaceParam(canned.stream, 'Expires', String(NOW + 9999)), at), 'BAD_SIGNATURE', 'expiry')
    assertVerdict(inspectWithTestKeys(replaceParam(canned.stream, 'Key-Pair-Id', 'K0NOSUCHKEY000'), at), 'UNKNOWN_KEY', 'key ID')
    assertVerdict(inspectWithTestKeys(replaceParam(canned.stream, 'Signature', flipChar(getParam(canned.stream, 'Signature')!)), at), 'BAD_SIGNATURE', 'signature')
    assertVerdict(inspectWithTestKeys(replaceParam(custom.stream, 'Policy', flipChar(getParam(custom.stream, 'Policy')!, 30)), at), 'BAD_SIGNATURE', 'policy')
    assertVerdict(inspectWithTestKeys(custom.stream.replace('videos/clip', 'videos/clip2'), at), 'RESOURCE_MISMATCH', 'custom name')
    assertVerdict(inspectWithTestKeys(`cfx/st/${custom.stream}`, at), 'RESOURCE_MISMATCH', 'application path in the name')
  })

  it('needs the sign scope and never logs the signed name', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logStream: logs.stream, logLevel: 'info' })
    const reader = await post(app, { distribution: 'demo', stream: 'videos/clip' }, makeToken({ sub: 'ops', scope: 'admin:read' }))
    assert.equal(reader.statusCode, 403)
    assert.equal(reader.json().code, 'FORBIDDEN_SCOPE')
    const res = await post(app, { distribution: 'demo', stream: 'videos/clip' }, SIGN)
    const { stream } = res.json() as StreamAnswer
    assert.match(logs.text(), /signed stream/)
    assert.ok(!logs.text().includes(getParam(stream, 'Signature')!), "!logs.text().includes(getParam(stream, 'Signature')!)")
  })
})

describe('POST /v1/signed-streams: reference vectors', () => {
  const { vectors } = SIGNED_URL_VECTORS
  const rtmp = vectors.filter((v) => v.kind === 'rtmp')

  it('reproduces every RTMP vector: the same stream and Flash-escaped string for canned, the same policy for custom', async (t) => {
    assert.ok(rtmp.length >= 15, 'rtmp.length >= 15')
    const app = await build(t, {
      now: () => Date.UTC(2028, 0, 1),
      configInput: { distributions: { vectors: { domain: 'd111111abcdef8.cloudfront.net', rtmpDomain: 's5c39gqb8ow64r.cloudfront.net', maxTtlSeconds: 80 * 365 * 24 * 3600 } } },
    })
    const token = makeToken({ sub: 'player', scope: 'sign' }, { nowMs: Date.UTC(2028, 0, 1) })
    for (const v of rtmp) {
      const label = `${v.id} (${v.signer})`
      const body: Record<string, unknown> = { distribution: 'vectors', stream: v.stream, expiresAt: v.date_less_than, keyId: v.key_pair_id }
      if (v.ip_address !== null) body.ipAddress = v.ip_address
      if (v.date_greater_than !== null) body.notBefore = v.date_greater_than
      const res = await post(app, body, token)
      assert.equal(res.statusCode, 200, `${label}: ${res.body}`)
      const ours = res.json() as StreamAnswer
      assert.equal(ours.policy, v.policy_type, label)
      assert.equal(ours.resource, v.stream, label)
      if (v.policy_type === 'canned') {
        assert.equal(ours.stream, v.signed_url, `${label}: stream`)
        assert.equal(ours.streamEscaped, v.signed_stream_flash_escaped, `${label}: Flash-escaped stream`)
      } else {
        const ourPolicy = fromCloudFrontBase64(getParam(ours.stream, 'Policy')!).toString()
        assert.deepEqual(JSON.parse(ourPolicy), JSON.parse(v.policy), `${label}: policy`)
        // Byte-identical policies (botocore's key order) give byte-identical RSA signatures.
        if (ourPolicy === v.policy) assert.equal(getParam(ours.stream, 'Signature'), v.signature, `${label}: Signature`)
        assert.equal(ours.stream.split('?')[0], v.signed_url.split('?')[0], `${label}: stream name`)
      }
      assertVerdict(inspectWithTestKeys(ours.stream, { at: v.date_less_than - 1, ip: '203.0.113.7' }), 'allow', label)
    }
  })
})
