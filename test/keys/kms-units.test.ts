// The KMS pieces that need no KMS: keys.kms validation, the hash algorithm a key signs with, the
// KMS error translation, and one signing for concurrent identical policies with file keys.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import { translateKmsError } from '../../src/aws/kms.js'
import { selectHashAlgorithm } from '../../src/keys/select.js'
import { createMetrics } from '../../src/metrics/registry.js'
import { createPolicySigner, type SignerBackend } from '../../src/signer/signer.js'
import { createKmsSigner } from '../../src/signer/kms.js'
import { loadKeySet, loadSigningKey, type FileSigningKey, type KmsSigningKey, type SigningKey } from '../../src/signing/keys.js'
import { buildPolicy } from '../../src/signing/policy.js'
import { testConfig, TEST_NOW_MS } from '../support/build.js'
import { EC_KEY_ID, EC_PEM, makeKeyDir, RSA_KEY_ID, RSA_PEM } from '../support/keys.js'
import { TEST_JWT_SECRET } from '../support/tokens.js'

const AWS = { accounts: { main: { region: 'us-east-1' }, other: { region: 'eu-west-1' } }, defaultAccount: 'main' }
const KMS_ENTRY = { keyId: 'K3KMSEXAMPLE01', kmsKeyId: 'alias/cf-signer', account: 'main' }

function problemsOf(input: Record<string, unknown>): string[] {
  try {
    loadConfig({ production: true, input: { auth: { jwt: { secret: TEST_JWT_SECRET } }, ...input } })
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    return err.problems
  }
  return []
}

describe('config: keys.kms', () => {
  it('loads with KMS keys only: keys.dir is then optional, and activeKeyId may name a KMS key', () => {
    const config = loadConfig({ production: true, input: { auth: { jwt: { secret: TEST_JWT_SECRET } }, aws: AWS, keys: { kms: [KMS_ENTRY], activeKeyId: KMS_ENTRY.keyId } } })
    assert.equal(config.keys.dir, undefined)
    assert.deepEqual(config.keys.kms, [KMS_ENTRY])
  })

  it('names each bad entry: an unknown account, a repeated keyId, no aws section, a malformed field', () => {
    const problems = problemsOf({
      aws: AWS,
      keys: { kms: [KMS_ENTRY, { ...KMS_ENTRY, account: 'nowhere' }, { ...KMS_ENTRY, keyId: 'K3KMSEXAMPLE02' }] },
    })
    assert.ok(problems.some((p) => p.startsWith('keys.kms[1].keyId: K3KMSEXAMPLE01 is already')), problems.join('\n'))
    assert.ok(problems.some((p) => p.startsWith('keys.kms[1].account: nowhere is not one of aws.accounts')), problems.join('\n'))
    assert.ok(problemsOf({ keys: { kms: [KMS_ENTRY] } }).some((p) => p.startsWith('keys.kms[0]: a KMS key needs an AWS account')), 'no aws section')
    assert.ok(problemsOf({ aws: AWS, keys: { kms: [{ ...KMS_ENTRY, keyId: 'lower' }] } }).some((p) => p.startsWith('keys.kms.0.keyId')), 'the keyId pattern')
    assert.ok(problemsOf({ aws: AWS, keys: { kms: [{ ...KMS_ENTRY, extra: 1 }] } }).some((p) => p.startsWith('keys.kms.0')), 'unknown fields are refused')
  })

  it('still wants keys.dir when there is no KMS key', () => {
    assert.ok(problemsOf({ aws: AWS, keys: {} }).some((p) => p.startsWith('keys.dir: required')), 'keys.dir')
  })
})

const fileKey = { kind: 'file', id: RSA_KEY_ID } as FileSigningKey
const kmsKey = { kind: 'kms', id: 'K3KMSEXAMPLE01' } as KmsSigningKey

describe('the hash algorithm a key signs with', () => {
  it('a file key: SHA1 unless asked for SHA256', () => {
    assert.equal(selectHashAlgorithm(fileKey, undefined), 'SHA1')
    assert.equal(selectHashAlgorithm(fileKey, 'SHA256'), 'SHA256')
    assert.equal(selectHashAlgorithm(fileKey, 'SHA1'), 'SHA1')
  })

  it('a KMS key: SHA256 by default, and an explicit SHA1 is KMS_REQUIRES_SHA256', () => {
    assert.equal(selectHashAlgorithm(kmsKey, undefined), 'SHA256')
    assert.equal(selectHashAlgorithm(kmsKey, 'SHA256'), 'SHA256')
    assert.throws(() => selectHashAlgorithm(kmsKey, 'SHA1'), { code: 'KMS_REQUIRES_SHA256' })
  })
})

describe('a key set with KMS keys', () => {
  const kms = (id: string) => [id, { kind: 'kms', id } as KmsSigningKey] as const

  it('without a directory: the only KMS key is active; several need activeKeyId, which must name one of them', () => {
    assert.equal(loadKeySet(undefined, { kmsKeys: new Map([kms('K3KMSEXAMPLE01')]) }).set?.active.id, 'K3KMSEXAMPLE01')
    const two = new Map([kms('K3KMSEXAMPLE01'), kms('K3KMSEXAMPLE02')])
    assert.deepEqual(loadKeySet(undefined, { kmsKeys: two }).errors.map((e) => e.code), ['KEY_ACTIVE_UNSET'])
    assert.equal(loadKeySet(undefined, { kmsKeys: two, configuredActiveId: 'K3KMSEXAMPLE02' }).set?.active.id, 'K3KMSEXAMPLE02')
    const missing = loadKeySet(undefined, { kmsKeys: two, configuredActiveId: 'K3NOSUCHKEY01' })
    assert.deepEqual(missing.errors.map((e) => [e.code, e.message]), [['KEY_FILE_MISSING', 'keys.activeKeyId: K3NOSUCHKEY01 is not one of keys.kms (and there is no keys directory)']])
  })

  it('beside a directory: the KMS key joins the file keys; a file with a KMS key\'s ID is KEY_DUPLICATE_ID and the KMS key is used', (t) => {
    const dir = makeKeyDir({ [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    t.after(dir.cleanup)
    const loaded = loadKeySet(dir.dir, { kmsKeys: new Map([kms('K3KMSEXAMPLE01')]), configuredActiveId: 'K3KMSEXAMPLE01' })
    assert.deepEqual([...loaded.set!.keys.keys()].sort(), [RSA_KEY_ID, 'K3KMSEXAMPLE01'].sort())
    assert.deepEqual(loaded.errors, [])
    const clash = loadKeySet(dir.dir, { kmsKeys: new Map([kms(RSA_KEY_ID)]) })
    assert.deepEqual(clash.errors.map((e) => e.code), ['KEY_DUPLICATE_ID'])
    assert.equal(clash.set?.keys.get(RSA_KEY_ID)?.kind, 'kms')
  })
})

describe('KMS errors at the adapter boundary', () => {
  it('throttling, timeouts, network errors and KMS faults are retryable KMS_UNAVAILABLE; the rest are not', () => {
    const cases: Array<[object, string, string, boolean]> = [
      [{ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } }, 'KMS_UNAVAILABLE', 'throttled', true],
      [{ name: 'TimeoutError' }, 'KMS_UNAVAILABLE', 'timeout', true],
      [{ name: 'Error', code: 'ECONNREFUSED' }, 'KMS_UNAVAILABLE', 'network', true],
      [{ name: 'KMSInternalException', $metadata: { httpStatusCode: 500 } }, 'KMS_UNAVAILABLE', 'kms_error', true],
      [{ name: 'NotFoundException', $metadata: { httpStatusCode: 400 } }, 'KMS_KEY_NOT_FOUND', 'not_found', false],
      [{ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }, 'KMS_REQUEST_FAILED', 'refused', false],
      [{ name: 'DisabledException', $metadata: { httpStatusCode: 400 } }, 'KMS_REQUEST_FAILED', 'refused', false],
    ]
    for (const [err, code, reason, retryable] of cases) {
      const coded = translateKmsError(err, 'Sign')
      assert.deepEqual([coded.code, coded.reason, coded.retryable], [code, reason, retryable], JSON.stringify(err))
    }
  })

  it('a refused Sign is not retried and answers KMS_REQUEST_FAILED; a throttled one is retried maxAttempts times with growing jittered waits', async () => {
    const metrics = createMetrics({ now: () => TEST_NOW_MS, processMetrics: false })
    const waits: number[] = []
    let calls = 0
    let failure: unknown = translateKmsError({ name: 'AccessDeniedException' }, 'Sign')
    const kms = {
      sign: async () => {
        calls += 1
        throw failure
      },
      describeKey: async () => ({ keyArn: 'arn', keySpec: 'RSA_2048', keyUsage: 'SIGN_VERIFY', keyState: 'Enabled', createdMs: 0 }),
    }
    const signer = createKmsSigner({ kms, metrics, now: () => TEST_NOW_MS }, { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250, random: () => 1, sleep: async (ms) => void waits.push(ms) })
    const key = { kind: 'kms', id: 'K3KMSEXAMPLE01', algorithm: 'RSA', kms: { account: 'main', keyArn: 'arn:aws:kms:us-east-1:000000000000:key/x' } } as KmsSigningKey
    await assert.rejects(signer.sign('{}', key, 'SHA256'), { code: 'KMS_REQUEST_FAILED' })
    assert.equal(calls, 1)
    failure = translateKmsError({ name: 'ThrottlingException' }, 'Sign')
    await assert.rejects(signer.sign('{}', key, 'SHA256'), (err: { code: string; details: { retryAfterSeconds: number } }) => {
      assert.equal(err.code, 'KMS_UNAVAILABLE')
      assert.equal(err.details.retryAfterSeconds, 1)
      return true
    })
    assert.equal(calls, 5)
    assert.deepEqual(waits, [100, 200, 250])
    await assert.rejects(signer.sign('{}', key, 'SHA1'), { code: 'KMS_REQUIRES_SHA256' })
  })
})

function loadKeys(t: TestContext): Record<string, FileSigningKey> {
  const dir = makeKeyDir({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM })
  t.after(dir.cleanup)
  return { [RSA_KEY_ID]: loadSigningKey(join(dir.dir, `${RSA_KEY_ID}.pem`)), [EC_KEY_ID]: loadSigningKey(join(dir.dir, `${EC_KEY_ID}.pem`)) }
}

describe('signer: one signing for concurrent identical policies, file keys too', () => {
  const distributions = { uncached: { domain: 'd222222abcdef8.cloudfront.net' } }
  const policy = buildPolicy('https://d222222abcdef8.cloudfront.net/videos/popular.mp4', { expires: TEST_NOW_MS / 1000 + 300 })

  for (const backend of ['workers', 'libuv', 'event-loop'] as SignerBackend[]) {
    it(`${backend}: concurrent requests share one ECDSA signature without the cache; later ones sign again`, async (t) => {
      const key: SigningKey = loadKeys(t)[EC_KEY_ID]
      const metrics = createMetrics({ now: () => TEST_NOW_MS, processMetrics: false })
      const signer = createPolicySigner({ metrics, distributions: testConfig(t, { distributions }).distributions, now: () => TEST_NOW_MS }, { backend, workers: 1 })
      t.after(() => signer.close())
      const request = { kind: 'url' as const, policy, key, hashAlgorithm: 'SHA256' as const, distribution: 'uncached' }
      const together = await Promise.all(Array.from({ length: 8 }, () => signer.sign(request)))
      // ECDSA signatures are randomised: equal signatures come from one signing.
      assert.equal(new Set(together.map((s) => s.signature)).size, 1, 'one signing for the concurrent requests')
      const later = await signer.sign(request)
      assert.notEqual(later.signature, together[0].signature, 'nothing kept once the signing settled')
      const other = await Promise.all([signer.sign(request), signer.sign({ ...request, hashAlgorithm: 'SHA1' })])
      assert.notEqual(other[0].signature, other[1].signature, 'another hash algorithm is another signing')
    })
  }
})
