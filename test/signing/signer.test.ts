// The signer (src/signer/signer.ts): every backend gives the reference signers' RSA signatures (the
// vectors) and ECDSA ones that node:crypto verifies; the signature cache serves repeats only where the
// distribution's granularity allows and never across key rotations.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createMetrics } from '../../src/metrics/registry.js'
import { createPolicySigner, type SignerBackend } from '../../src/signer/signer.js'
import { loadSigningKey, type FileSigningKey } from '../../src/signing/keys.js'
import { buildPolicy, type HashAlgorithm, type Policy } from '../../src/signing/policy.js'
import { build, testConfig, TEST_DISTRIBUTIONS, TEST_NOW_MS } from '../support/build.js'
import { EC_KEY_ID, EC_PEM, generatePem, makeKeyDir, RSA_KEY_ID, RSA_PEM } from '../support/keys.js'
import { bearer } from '../support/tokens.js'
import { SIGNED_URL_VECTORS, vectorPublicKey, verifyWithNodeCrypto, type SignedUrlVector } from '../support/vectors.js'

const NOW_SECONDS = TEST_NOW_MS / 1000
const DISTRIBUTIONS = {
  cached: { ...TEST_DISTRIBUTIONS.private, expiryGranularitySeconds: 60 },
  uncached: { ...TEST_DISTRIBUTIONS.private, domain: 'd333333abcdef8.cloudfront.net', expiryGranularitySeconds: 1 },
}

function loadKeys(t: TestContext, files: Record<string, string>): Record<string, FileSigningKey> {
  const dir = makeKeyDir(files)
  t.after(dir.cleanup)
  return Object.fromEntries(Object.keys(files).map((name) => [name.replace(/\.pem$/, ''), loadSigningKey(join(dir.dir, name))]))
}

function createSigner(t: TestContext, backend?: SignerBackend) {
  const metrics = createMetrics({ now: () => TEST_NOW_MS, processMetrics: false })
  const { distributions } = testConfig(t, { distributions: DISTRIBUTIONS })
  const signer = createPolicySigner({ metrics, distributions, now: () => TEST_NOW_MS }, { backend })
  t.after(() => signer.close())
  const cacheCount = async (result: 'hit' | 'miss') =>
    (await metrics.signatureCache.get()).values.find((v) => v.labels.result === result)?.value ?? 0
  return { signer, cacheCount }
}

const policyFor = (path: string, expires = NOW_SECONDS + 300) => buildPolicy(`https://d222222abcdef8.cloudfront.net${path}`, { expires })

/** The reference signers' RSA outputs, canned and custom, SHA1 and SHA256, each with the policy they signed. */
const RSA_VECTORS = [...SIGNED_URL_VECTORS.vectors, ...SIGNED_URL_VECTORS.single_signer].filter((v) => vectorPublicKey(v.key_pair_id).asymmetricKeyType === 'rsa')
const policyOf = (vector: SignedUrlVector): Policy => ({
  type: vector.policy_type,
  resource: JSON.parse(vector.policy).Statement[0].Resource,
  conditions: { expires: vector.date_less_than },
  json: vector.policy,
})
/** Up to three of each kind: canned and custom, SHA1 and SHA256. */
const SAMPLE_VECTORS = ['canned', 'custom'].flatMap((type) =>
  (['SHA1', 'SHA256'] as const).flatMap((hash) => RSA_VECTORS.filter((v) => v.policy_type === type && v.hash_algorithm === hash).slice(0, 3)),
)

describe('signer backends', () => {
  for (const backend of ['event-loop', 'workers', 'libuv'] as const) {
    it(`${backend}: RSA signatures equal the reference signers', ECDSA ones verify, for SHA1 and SHA256`, async (t) => {
      const keys = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM })
      const { signer } = createSigner(t, backend)
      assert.equal(SAMPLE_VECTORS.length, 8, 'three canned and three custom SHA1 vectors, one canned and one custom SHA256')
      for (const vector of SAMPLE_VECTORS) {
        const rsa = await signer.sign({ kind: 'url', policy: policyOf(vector), key: keys[RSA_KEY_ID], hashAlgorithm: vector.hash_algorithm, distribution: 'uncached' })
        assert.equal(rsa.signature, vector.signature, vector.id)
      }
      const ecPublicKey = vectorPublicKey(EC_KEY_ID)
      const policies = [policyFor('/videos/a b+c.mp4'), buildPolicy('https://d222222abcdef8.cloudfront.net/hls/*', { expires: NOW_SECONDS + 60, ipCidr: '192.0.2.0/24' }, true)]
      for (const policy of policies) {
        for (const hashAlgorithm of ['SHA1', 'SHA256'] as HashAlgorithm[]) {
          const ec = await signer.sign({ kind: 'url', policy, key: keys[EC_KEY_ID], hashAlgorithm, distribution: 'uncached' })
          assert.equal(verifyWithNodeCrypto(policy.json, ec.signature, ecPublicKey, hashAlgorithm), true, `ECDSA-${hashAlgorithm} ${policy.json}`)
          assert.deepEqual({ keyId: ec.keyId, hashAlgorithm: ec.hashAlgorithm, policy: ec.policy }, { keyId: EC_KEY_ID, hashAlgorithm, policy })
        }
      }
    })
  }

  it('workers: a batch of concurrent signatures comes back in order, each for its own policy', async (t) => {
    const keys = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const { signer } = createSigner(t, 'workers')
    const vectors = RSA_VECTORS.slice(0, 50)
    assert.equal(vectors.length, 50, 'fifty RSA vectors')
    const grants = await Promise.all(vectors.map((v) => signer.sign({ kind: 'url', policy: policyOf(v), key: keys[RSA_KEY_ID], hashAlgorithm: v.hash_algorithm, distribution: 'uncached' })))
    grants.forEach((grant, i) => assert.equal(grant.signature, vectors[i].signature, vectors[i].id))
  })

  it('workers: a key that cannot sign rejects the call, and the pool keeps serving', async (t) => {
    const keys = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const { signer } = createSigner(t, 'workers')
    const publicOnly = { ...keys[RSA_KEY_ID], privateKey: keys[RSA_KEY_ID].publicKey }
    const [vector] = RSA_VECTORS
    await assert.rejects(signer.sign({ kind: 'url', policy: policyOf(vector), key: publicOnly, hashAlgorithm: vector.hash_algorithm, distribution: 'uncached' }))
    const grant = await signer.sign({ kind: 'url', policy: policyOf(vector), key: keys[RSA_KEY_ID], hashAlgorithm: vector.hash_algorithm, distribution: 'uncached' })
    assert.equal(grant.signature, vector.signature, vector.id)
  })
})

describe('signature cache', () => {
  it('serves a repeated policy from the cache on a distribution with a granularity above 1 s, and counts the hit', async (t) => {
    const keys = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const { signer, cacheCount } = createSigner(t)
    const request = { kind: 'url' as const, policy: policyFor('/videos/intro.mp4'), key: keys[RSA_KEY_ID], hashAlgorithm: 'SHA1' as const, distribution: 'cached' }
    const first = await signer.sign(request)
    const second = await signer.sign(request)
    assert.deepEqual(second, first)
    assert.equal(await cacheCount('miss'), 1)
    assert.equal(await cacheCount('hit'), 1)
  })

  it('keeps entries apart by hash algorithm and policy', async (t) => {
    const keys = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const { signer, cacheCount } = createSigner(t)
    const key = keys[RSA_KEY_ID]
    const a = await signer.sign({ kind: 'url', policy: policyFor('/a'), key, hashAlgorithm: 'SHA1', distribution: 'cached' })
    const b = await signer.sign({ kind: 'url', policy: policyFor('/a'), key, hashAlgorithm: 'SHA256', distribution: 'cached' })
    const c = await signer.sign({ kind: 'url', policy: policyFor('/a', NOW_SECONDS + 360), key, hashAlgorithm: 'SHA1', distribution: 'cached' })
    assert.equal(new Set([a.signature, b.signature, c.signature]).size, 3)
    assert.equal(verifyWithNodeCrypto(b.policy.json, b.signature, key.publicKey, 'SHA256'), true, 'the SHA256 entry is a SHA256 signature')
    assert.equal(await cacheCount('miss'), 3)
    assert.equal(await cacheCount('hit'), 0)
  })

  it('is off for a distribution with a granularity of 1 s: nothing is looked up or counted', async (t) => {
    const keys = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const { signer, cacheCount } = createSigner(t)
    const request = { kind: 'url' as const, policy: policyFor('/videos/intro.mp4'), key: keys[RSA_KEY_ID], hashAlgorithm: 'SHA1' as const, distribution: 'uncached' }
    const first = await signer.sign(request)
    const second = await signer.sign(request)
    assert.equal(second.signature, first.signature, 'RSA PKCS#1 v1.5 is deterministic')
    assert.equal(await cacheCount('miss'), 0)
    assert.equal(await cacheCount('hit'), 0)
  })

  it('shares one signing between concurrent requests for the same policy', async (t) => {
    const keys = loadKeys(t, { [`${EC_KEY_ID}.pem`]: EC_PEM })
    const { signer, cacheCount } = createSigner(t)
    const request = { kind: 'url' as const, policy: policyFor('/popular.jpg'), key: keys[EC_KEY_ID], hashAlgorithm: 'SHA1' as const, distribution: 'cached' }
    const grants = await Promise.all(Array.from({ length: 10 }, () => signer.sign(request)))
    // ECDSA signatures are randomised: equal ones prove a single signing.
    assert.equal(new Set(grants.map((g) => g.signature)).size, 1)
    assert.equal(await cacheCount('miss'), 1)
    assert.equal(await cacheCount('hit'), 9)
  })

  it('never serves a rotated key (same ID, new key material) the old key\'s signature', async (t) => {
    const old = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })[RSA_KEY_ID]
    const rotated = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: generatePem('rsa') })[RSA_KEY_ID]
    assert.notEqual(rotated.fingerprint, old.fingerprint)
    const { signer, cacheCount } = createSigner(t)
    const policy = policyFor('/videos/intro.mp4')
    const before = await signer.sign({ kind: 'url', policy, key: old, hashAlgorithm: 'SHA1', distribution: 'cached' })
    const after = await signer.sign({ kind: 'url', policy, key: rotated, hashAlgorithm: 'SHA1', distribution: 'cached' })
    assert.notEqual(after.signature, before.signature)
    assert.equal(verifyWithNodeCrypto(policy.json, after.signature, rotated.publicKey, 'SHA1'), true, 'signed with the rotated key')
    assert.equal(await cacheCount('hit'), 0)
  })

  it('does not keep a failed signing, nor a policy that has already expired', async (t) => {
    const key = loadKeys(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })[RSA_KEY_ID]
    const { signer, cacheCount } = createSigner(t)
    const broken = { ...key, privateKey: key.publicKey }
    const policy = policyFor('/a')
    await assert.rejects(signer.sign({ kind: 'url', policy, key: broken, hashAlgorithm: 'SHA1', distribution: 'cached' }))
    await assert.rejects(signer.sign({ kind: 'url', policy, key: broken, hashAlgorithm: 'SHA1', distribution: 'cached' }))
    const expired = policyFor('/b', NOW_SECONDS)
    await signer.sign({ kind: 'url', policy: expired, key, hashAlgorithm: 'SHA1', distribution: 'cached' })
    await signer.sign({ kind: 'url', policy: expired, key, hashAlgorithm: 'SHA1', distribution: 'cached' })
    assert.equal(await cacheCount('hit'), 0)
    assert.equal(await cacheCount('miss'), 4)
  })
})

describe('POST /v1/signed-urls with a cached distribution', () => {
  it('answers a repeated request with the same signed URL, and the metrics show the hit', async (t) => {
    const app = await build(t, { configInput: { distributions: { ...TEST_DISTRIBUTIONS, demo: { ...TEST_DISTRIBUTIONS.demo, expiryGranularitySeconds: 60 } } } })
    const ask = () => app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/intro.mp4' } })
    const [first, second] = [await ask(), await ask()]
    assert.equal(first.statusCode, 200)
    assert.equal(second.json().url, first.json().url)
    assert.equal(first.json().expires % 60, 0)
    const cache = (await app.metrics.signatureCache.get()).values
    assert.deepEqual(Object.fromEntries(cache.map((v) => [v.labels.result, v.value])), { miss: 1, hit: 1 })
  })
})
