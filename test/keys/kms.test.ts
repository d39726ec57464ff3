// Keys that never leave AWS KMS, against the emulator's KMS: signatures the public key from /v1/keys
// verifies (node:crypto, and the inspector), start errors, SHA-256 only, retries, the circuit, readiness,
// one Sign for concurrent identical requests, and the admin registration of a KMS key's public key.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, verify } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { CloudFrontEmulator } from '../../src/dev/emulator/index.js'
import { Value } from '@sinclair/typebox/value'
import { createKms } from '../../src/aws/kms.js'
import { AwsSchema, type AwsConfig } from '../../src/config/schema.js'
import { fromCloudFrontBase64 } from '../../src/signing/policy.js'
import { inspectSignedRequest } from '../../src/signing/inspect.js'
import { loadConfig } from '../../src/config/load.js'
import { build, TEST_DISTRIBUTIONS, TEST_NOW_MS } from '../support/build.js'
import { startEmulator } from '../support/emulator.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'

const KMS_KEY_ID = 'K3KMSEXAMPLE01'
const NOW_SECONDS = TEST_NOW_MS / 1000
const ADMIN = makeToken({ sub: 'ops', scope: 'admin:read admin:write' })
const SIGN = makeToken({ sub: 'alice', scope: 'sign sign:wildcard' })
const noWait = async () => {}

interface KmsAppOptions {
  keySpec?: 'RSA_2048' | 'ECC_NIST_P256' | 'SYMMETRIC_DEFAULT'
  keyUsage?: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT'
  kmsKeyId?: string
  now?: () => number
  failureThreshold?: number
  activeKeyId?: string
  distributions?: Record<string, unknown>
}

async function startKms(t: TestContext, options: KmsAppOptions = {}) {
  const { emulator, endpoint } = await startEmulator(t)
  const created = emulator.createKmsKey({ keySpec: options.keySpec ?? 'RSA_2048', keyUsage: options.keyUsage, alias: 'cf-signer' })
  const configInput = {
    aws: { accounts: { main: { region: 'us-east-1', endpoint } } },
    keys: { kms: [{ keyId: KMS_KEY_ID, kmsKeyId: options.kmsKeyId ?? 'alias/cf-signer', account: 'main' }], activeKeyId: options.activeKeyId ?? KMS_KEY_ID },
    ...(options.distributions && { distributions: options.distributions }),
  }
  return { emulator, endpoint, created, configInput }
}

async function kmsApp(t: TestContext, options: KmsAppOptions = {}): Promise<{ app: FastifyInstance; emulator: CloudFrontEmulator; publicKeyPem: string }> {
  const { emulator, created, configInput } = await startKms(t, options)
  const app = await build(t, {
    configInput,
    ...(options.now && { now: options.now }),
    signer: { backend: 'event-loop', kms: { sleep: noWait, failureThreshold: options.failureThreshold } },
  })
  return { app, emulator, publicKeyPem: created.publicKeyPem! }
}

const post = (app: FastifyInstance, url: string, payload: object) => app.inject({ method: 'POST', url, headers: bearer(SIGN), payload })

/** The policy CloudFront rebuilds from a signed URL's or cookie set's parameters. */
function policyOf(params: Record<string, string | undefined>, resource: string): string {
  if (params.Policy !== undefined) return fromCloudFrontBase64(params.Policy).toString('utf8')
  return JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': Number(params.Expires) } } }] })
}

/** Verifies as CloudFront does: SHA-256 (Hash-Algorithm=SHA256), the public key that /v1/keys publishes. */
function assertVerifies(params: Record<string, string | undefined>, resource: string, publicKeyPem: string, label: string): void {
  assert.equal(params['Key-Pair-Id'], KMS_KEY_ID, `${label}: Key-Pair-Id`)
  assert.equal(params['Hash-Algorithm'], 'SHA256', `${label}: Hash-Algorithm`)
  const ok = verify('sha256', Buffer.from(policyOf(params, resource)), createPublicKey(publicKeyPem), fromCloudFrontBase64(params.Signature!))
  assert.equal(ok, true, `${label}: the signature verifies with the published public key`)
}

function urlParams(signed: string): { params: Record<string, string>; resource: string } {
  const url = new URL(signed)
  const params = Object.fromEntries(url.searchParams)
  for (const name of ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm']) url.searchParams.delete(name)
  return { params, resource: url.href }
}

async function publishedKey(app: FastifyInstance, keyId = KMS_KEY_ID) {
  const res = await app.inject({ url: '/v1/keys', headers: bearer() })
  assert.equal(res.statusCode, 200)
  const key = res.json().keys.find((k: { keyId: string }) => k.keyId === keyId)
  assert.ok(key !== undefined, `${keyId} is published on /v1/keys`)
  return key as { keyId: string; algorithm: string; publicKeyPem: string; active: boolean }
}

const samePem = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '')

for (const [keySpec, algorithm] of [['RSA_2048', 'RSA'], ['ECC_NIST_P256', 'ECDSA']] as const) {
  describe(`a ${keySpec} key in KMS`, () => {
    it('is published on /v1/keys with its KMS public key, beside the file keys, and active', async (t) => {
      const { app, publicKeyPem } = await kmsApp(t, { keySpec })
      const key = await publishedKey(app)
      assert.equal(key.algorithm, algorithm)
      assert.equal(key.active, true)
      assert.ok(samePem(key.publicKeyPem, publicKeyPem), 'the public key is GetPublicKey\'s')
      assert.equal((await publishedKey(app, RSA_KEY_ID)).active, false)
    })

    it('signs URLs, cookies, signed queries and stream names with SHA-256 that its public key verifies', async (t) => {
      const { app } = await kmsApp(t, { keySpec })
      const { publicKeyPem } = await publishedKey(app)

      const url = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4' })
      assert.equal(url.statusCode, 200, url.body)
      assert.equal(url.json().keyId, KMS_KEY_ID)
      const signed = urlParams(url.json().url)
      assertVerifies(signed.params, signed.resource, publicKeyPem, 'canned URL')
      const inspection = inspectSignedRequest({
        url: url.json().url,
        at: NOW_SECONDS,
        lookupKey: (id) => (id === KMS_KEY_ID ? { id, algorithm, publicKey: createPublicKey(publicKeyPem) } : undefined),
      })
      assert.equal(inspection.verdict, 'allow', JSON.stringify(inspection.checks))

      const custom = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4', resource: '/videos/*' })
      assert.equal(custom.statusCode, 200, custom.body)
      assertVerifies(urlParams(custom.json().url).params, '', publicKeyPem, 'custom-policy URL')

      const cookies = await post(app, '/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' })
      assert.equal(cookies.statusCode, 200, cookies.body)
      const jar = cookies.json().cookies as Record<string, string>
      const cookieParams = Object.fromEntries(Object.entries(jar).map(([name, value]) => [name.replace(/^CloudFront-/, ''), value]))
      assertVerifies(cookieParams, '', publicKeyPem, 'cookies')

      const query = await post(app, '/v1/signed-queries', { distribution: 'demo', resource: '/hls/*' })
      assert.equal(query.statusCode, 200, query.body)
      assertVerifies(query.json().params, '', publicKeyPem, 'signed query')

      const stream = await post(app, '/v1/signed-streams', { distribution: 'demo', stream: 'videos/intro' })
      assert.equal(stream.statusCode, 200, stream.body)
      const streamParams = Object.fromEntries(new URLSearchParams(stream.json().stream.split('?')[1]))
      assertVerifies(streamParams, stream.json().stream.split('?')[0], publicKeyPem, 'stream name')

      const batch = await post(app, '/v1/signed-urls/batch', { items: [{ distribution: 'demo', path: '/videos/a.mp4' }, { distribution: 'demo', path: '/videos/b.mp4' }] })
      assert.equal(batch.statusCode, 200, batch.body)
      for (const item of batch.json().items) {
        const parts = urlParams(item.url)
        assertVerifies(parts.params, parts.resource, publicKeyPem, `batch item ${parts.resource}`)
      }

      const inspected = await app.inject({ method: 'POST', url: '/v1/inspect', headers: bearer(ADMIN), payload: { url: url.json().url } })
      assert.equal(inspected.statusCode, 200, inspected.body)
      assert.equal(inspected.json().verdict, 'allow', 'the inspector checks it with the KMS key\'s public key')

      const playback = await app.inject({ url: '/v1/playback?distribution=demo&path=/videos/intro.mp4', headers: bearer() })
      assert.equal(playback.statusCode, 302, playback.body)
      const redirect = urlParams(playback.headers.location as string)
      assertVerifies(redirect.params, redirect.resource, publicKeyPem, 'playback redirect')
    })
  })
}

describe('keys in KMS: the hash algorithm', () => {
  it('refuses an explicit SHA1 with 400 KMS_REQUIRES_SHA256, accepts SHA256, while a file key still defaults to SHA1', async (t) => {
    const { app } = await kmsApp(t)
    const sha1 = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4', hashAlgorithm: 'SHA1' })
    assert.equal(sha1.statusCode, 400)
    assert.equal(sha1.json().code, 'KMS_REQUIRES_SHA256')
    const cookies = await post(app, '/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*', hashAlgorithm: 'SHA1' })
    assert.equal(cookies.json().code, 'KMS_REQUIRES_SHA256')
    const sha256 = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4', hashAlgorithm: 'SHA256' })
    assert.equal(sha256.statusCode, 200, sha256.body)
    const file = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4', keyId: RSA_KEY_ID })
    assert.equal(file.statusCode, 200, file.body)
    assert.equal(new URL(file.json().url).searchParams.get('Hash-Algorithm'), null, 'a file key signs SHA1 unless asked')
  })
})

describe('keys in KMS: the start', () => {
  it('stops on a key spec CloudFront cannot verify, an encryption key, or a key KMS does not have, naming the entry', async (t) => {
    for (const [options, code, pattern] of [
      [{ keySpec: 'SYMMETRIC_DEFAULT' }, 'KMS_KEY_UNSUPPORTED', /key spec SYMMETRIC_DEFAULT/],
      [{ keySpec: 'RSA_2048', keyUsage: 'ENCRYPT_DECRYPT' }, 'KMS_KEY_UNSUPPORTED', /ENCRYPT_DECRYPT/],
      [{ kmsKeyId: 'alias/not-there' }, 'KMS_KEY_NOT_FOUND', /not-there/],
    ] as const) {
      const { configInput } = await startKms(t, options)
      await assert.rejects(build(t, { configInput }), (err: { code?: string; message: string }) => {
        assert.equal(err.code, code, err.message)
        assert.match(err.message, /keys\.kms\[0\] \(K3KMSEXAMPLE01, /, 'the error names the entry')
        assert.match(err.message, pattern)
        return true
      })
    }
  })

  it('stops when KMS cannot be reached (KMS_UNAVAILABLE)', async (t) => {
    const { emulator, configInput } = await startKms(t)
    await emulator.close()
    await assert.rejects(build(t, { configInput }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'KMS_UNAVAILABLE', err.message)
      return true
    })
  })
})

const metricValue = async (app: FastifyInstance, sample: string): Promise<number> => {
  const text = (await app.inject({ url: '/metrics' })).body
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

describe('keys in KMS: throttling, the circuit, readiness', () => {
  it('retries a throttled Sign and succeeds; past the attempts answers 503 KMS_UNAVAILABLE with Retry-After', async (t) => {
    const { app, emulator } = await kmsApp(t)
    emulator.injectFault({ operation: 'Sign', code: 'ThrottlingException', times: 2 })
    const retried = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' })
    assert.equal(retried.statusCode, 200, retried.body)
    assert.equal(await metricValue(app, 'cf_signer_kms_calls_total{operation="Sign",outcome="throttled"}'), 2)

    emulator.injectFault({ operation: 'Sign', code: 'ThrottlingException', times: 3 })
    const refused = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/b.mp4' })
    assert.equal(refused.statusCode, 503)
    assert.equal(refused.json().code, 'KMS_UNAVAILABLE')
    assert.equal(refused.headers['retry-after'], '1')
    assert.equal(await metricValue(app, 'cf_signer_kms_calls_total{operation="Sign",outcome="throttled"}'), 5)
  })

  it('opens the circuit after consecutive failures: KMS is not called until the cool-down passes, then one request probes it', async (t) => {
    let clock = TEST_NOW_MS
    const { app, emulator } = await kmsApp(t, { now: () => clock, failureThreshold: 2 })
    emulator.injectFault({ operation: 'Sign', code: 'ThrottlingException', times: 6 })
    for (const path of ['/videos/a.mp4', '/videos/b.mp4']) assert.equal((await post(app, '/v1/signed-urls', { distribution: 'demo', path })).statusCode, 503)
    const signCalls = () => metricValue(app, 'cf_signer_kms_calls_total{operation="Sign",outcome="throttled"}')
    assert.equal(await signCalls(), 6)
    assert.equal(await metricValue(app, 'cf_signer_kms_circuit_open{account="main"}'), 1)

    const fast = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/c.mp4' })
    assert.equal(fast.statusCode, 503)
    assert.equal(fast.json().code, 'KMS_UNAVAILABLE')
    assert.equal(fast.headers['retry-after'], '10', 'the cool-down left')
    assert.equal(await signCalls(), 6, 'an open circuit does not call KMS')
    const unready = await app.inject({ url: '/readyz' })
    assert.equal(unready.statusCode, 503)
    assert.match(unready.json().reasons.join(), /KMS unavailable for the active key K3KMSEXAMPLE01 \(circuit open\)/)

    clock += 10_000
    const probe = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/c.mp4' })
    assert.equal(probe.statusCode, 200, probe.body)
    assert.equal(await metricValue(app, 'cf_signer_kms_circuit_open{account="main"}'), 0)
    assert.equal(emulator.kmsSignCount(), 1)
  })

  it('a refused Sign (access denied) is not retried: 502 KMS_REQUEST_FAILED with a generic message', async (t) => {
    const { app, emulator } = await kmsApp(t)
    emulator.injectFault({ operation: 'Sign', code: 'AccessDeniedException', status: 400, message: 'User: arn:aws:sts::111122223333:assumed-role/x is not authorized' })
    const refused = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' })
    assert.equal(refused.statusCode, 502)
    assert.equal(refused.json().code, 'KMS_REQUEST_FAILED')
    assert.doesNotMatch(refused.body, /assumed-role/, 'KMS\'s message stays in the log')
    assert.equal(await metricValue(app, 'cf_signer_kms_calls_total{operation="Sign",outcome="refused"}'), 1)
  })

  it('a Sign slower than the request timeout is a retryable KMS_UNAVAILABLE (timeout), counted as a timeout', async (t) => {
    const { emulator, endpoint, created } = await startKms(t)
    emulator.configureKms({ kmsSignLatencyMs: 1000 })
    const outcomes: string[] = []
    const kms = createKms(Value.Default(AwsSchema, { accounts: { main: { region: 'us-east-1', endpoint } } }) as AwsConfig, { requestTimeoutMs: 100, recordCall: (operation, outcome) => outcomes.push(`${operation} ${outcome}`) })
    t.after(() => kms.close())
    await assert.rejects(kms.sign('main', created.arn, Buffer.from('{}'), 'RSASSA_PKCS1_V1_5_SHA_256'), (err: { code: string; reason: string; retryable: boolean }) => {
      assert.deepEqual([err.code, err.reason, err.retryable], ['KMS_UNAVAILABLE', 'timeout', true])
      return true
    })
    assert.deepEqual(outcomes, ['Sign timeout'])
  })

  it('/readyz is 200 while the active key\'s KMS answers and 503 while it is down', async (t) => {
    const { app, emulator } = await kmsApp(t)
    const ready = await app.inject({ url: '/readyz' })
    assert.equal(ready.statusCode, 200, ready.body)
    await emulator.close()
    const down = await app.inject({ url: '/readyz' })
    assert.equal(down.statusCode, 503)
    assert.match(down.json().reasons.join(), /KMS unavailable for the active key K3KMSEXAMPLE01 \(network\)/)
  })
})

describe('keys in KMS: one Sign for concurrent identical requests', () => {
  it('N concurrent requests for the same policy make one Sign call and get the same signature', async (t) => {
    const { app, emulator } = await kmsApp(t, { keySpec: 'ECC_NIST_P256' })
    // While the first Sign is answered, the other requests find it under way.
    emulator.configureKms({ kmsSignLatencyMs: 50 })
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/popular.mp4' })))
    assert.deepEqual(answers.map((a) => a.statusCode), Array(10).fill(200))
    assert.equal(emulator.kmsSignCount(), 1)
    assert.equal(new Set(answers.map((a) => a.json().url)).size, 1, 'one signature (ECDSA signatures differ per signing)')
    emulator.configureKms({ kmsSignLatencyMs: 0 })
    await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/popular.mp4' })
    assert.equal(emulator.kmsSignCount(), 2, 'nothing is kept once the signing settled (granularity 1 s: no cache)')
  })
})

describe('keys in KMS: no keys directory', () => {
  it('starts and signs with KMS keys only', async (t) => {
    const { created, configInput } = await startKms(t)
    const config = loadConfig({ production: true, input: { auth: { jwt: { secret: TEST_JWT_SECRET } }, distributions: TEST_DISTRIBUTIONS, ...configInput } })
    assert.equal(config.keys.dir, undefined)
    const app = await build(t, { config })
    const keys = (await app.inject({ url: '/v1/keys', headers: bearer() })).json()
    assert.deepEqual(keys.keys.map((k: { keyId: string }) => k.keyId), [KMS_KEY_ID])
    const url = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4' })
    assert.equal(url.statusCode, 200, url.body)
    const signed = urlParams(url.json().url)
    assertVerifies(signed.params, signed.resource, created.publicKeyPem!, 'KMS-only URL')
    app.keyStore.check()
    assert.equal(app.keyStore.status().lastReloadError, null, 'a check without a directory finds nothing to reload')
  })
})

describe('keys in KMS: rotation and the signature cache', () => {
  it('rotates from a file key to the KMS key and back with the active file, as between file keys', async (t) => {
    const { app } = await kmsApp(t, { activeKeyId: RSA_KEY_ID })
    const keyIdOfNext = async () => (await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4' })).json().keyId
    assert.equal(await keyIdOfNext(), RSA_KEY_ID)
    writeFileSync(join(app.config.keys.dir!, 'active'), KMS_KEY_ID)
    app.keyStore.check()
    assert.equal(await keyIdOfNext(), KMS_KEY_ID)
    assert.equal(app.keyStore.status().lastReloadError, null)
    writeFileSync(join(app.config.keys.dir!, 'active'), RSA_KEY_ID)
    app.keyStore.check()
    assert.equal(await keyIdOfNext(), RSA_KEY_ID)
    assert.equal(app.keyStore.status().loaded, 4, 'three file keys and the KMS key')
  })

  it('serves a repeated policy from the signature cache without another Sign', async (t) => {
    const distributions = { demo: { domain: 'd111111abcdef8.cloudfront.net', expiryGranularitySeconds: 60 } }
    const { app, emulator } = await kmsApp(t, { distributions })
    const first = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4' })
    const second = await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4' })
    assert.equal(second.json().url, first.json().url)
    assert.equal(emulator.kmsSignCount(), 1)
  })
})

describe('POST /v1/admin/public-keys with a KMS key', () => {
  it('registers the KMS key\'s public key in CloudFront and answers the public key ID that then signs', async (t) => {
    const { app, emulator, publicKeyPem } = await kmsApp(t)
    const second = emulator.createKmsKey({ keySpec: 'ECC_NIST_P256', alias: 'cf-signer-next' })
    const res = await app.inject({ method: 'POST', url: '/v1/admin/public-keys', headers: bearer(ADMIN), payload: { kmsKeyId: 'alias/cf-signer-next', account: 'main' } })
    assert.equal(res.statusCode, 201, res.body)
    assert.match(res.json().id, /^[A-Z0-9]{6,64}$/)
    assert.ok(samePem(res.json().encodedKey, second.publicKeyPem!), 'the PEM of GetPublicKey\'s DER')
    assert.match(res.json().name, /^kms-/)

    const first = await app.inject({ method: 'POST', url: '/v1/admin/public-keys', headers: bearer(ADMIN), payload: { kmsKeyId: 'alias/cf-signer' } })
    assert.equal(first.statusCode, 201, first.body)
    assert.ok(samePem(first.json().encodedKey, publicKeyPem), 'the default account reaches the first key')
  })

  it('answers 400 for a KMS key that does not exist, an encryption key, or both keyId and kmsKeyId', async (t) => {
    const { app, emulator } = await kmsApp(t)
    emulator.createKmsKey({ keySpec: 'SYMMETRIC_DEFAULT', alias: 'secrets' })
    const send = (payload: object) => app.inject({ method: 'POST', url: '/v1/admin/public-keys', headers: bearer(ADMIN), payload })
    assert.equal((await send({ kmsKeyId: 'alias/missing' })).json().code, 'KMS_KEY_NOT_FOUND')
    assert.equal((await send({ kmsKeyId: 'alias/secrets' })).json().code, 'KMS_KEY_UNSUPPORTED')
    assert.equal((await send({ kmsKeyId: 'alias/cf-signer', keyId: RSA_KEY_ID })).json().code, 'VALIDATION_ERROR')
    assert.equal((await send({ keyId: RSA_KEY_ID, account: 'main' })).json().code, 'VALIDATION_ERROR')
  })
})
