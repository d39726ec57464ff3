// Every reference vector in test/fixtures/vectors, reproduced through the real HTTP route: for a canned
// policy the same resource, Expires, Key-Pair-Id and Signature; for a custom one the same policy
// (and, for RSA, the same signature); ECDSA outputs are verified, not compared.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { SIGNED_URL_VECTORS, vectorPublicKey } from '../support/vectors.js'
import { fromCloudFrontBase64 } from '../../src/signing/policy.js'
import { stripSigningParams } from '../../src/signing/resource.js'
import { verifyPolicySignature } from '../../src/signing/verify.js'

const file = SIGNED_URL_VECTORS
const publicKeyFor = vectorPublicKey

// The vectors' clock: a year before the earliest not-before they use, so every expiry lies ahead.
const VECTOR_NOW_MS = Date.UTC(2028, 0, 1)
const VECTOR_CONFIG = {
  distributions: {
    vectors: {
      domain: 'd111111abcdef8.cloudfront.net',
      scheme: 'https',
      allowedPaths: ['/*'],
      defaultTtlSeconds: 300,
      maxTtlSeconds: 80 * 365 * 24 * 3600,
      rtmpDomain: 's5c39gqb8ow64r.cloudfront.net',
    },
  },
}

function params(signed: string): URLSearchParams {
  return new URLSearchParams(signed.slice(signed.indexOf('?') + 1))
}

describe('reference vectors (test/fixtures/vectors)', () => {
  const urlVectors = [...file.vectors, ...file.single_signer].filter((v) => v.kind === 'url')
  assert.ok(urlVectors.length > 100, 'the vector file holds the expected cases')

  it('reproduces every signed-URL vector through POST /v1/signed-urls', async (t) => {
    const app = await build(t, { configInput: VECTOR_CONFIG, now: () => VECTOR_NOW_MS })
    const token = makeToken({ sub: 'vectors', scope: 'sign sign:wildcard' }, { nowMs: VECTOR_NOW_MS })
    for (const v of urlVectors) {
      const body: Record<string, unknown> = { url: v.url, expiresAt: v.date_less_than, keyId: v.key_pair_id }
      if (v.date_greater_than !== null) body.notBefore = v.date_greater_than
      if (v.ip_address !== null) body.ipAddress = v.ip_address
      if (v.policy_resource !== null) body.resource = v.policy_resource
      if (v.hash_algorithm === 'SHA256') body.hashAlgorithm = 'SHA256'
      const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(token), payload: body })
      assert.equal(res.statusCode, 200, `${v.id} (${v.signer}): ${res.body}`)
      const ours = res.json() as { url: string; policy: string; resource: string; keyId: string }
      const theirs = params(v.signed_url)
      const mine = params(ours.url)
      const label = `${v.id} (${v.signer})`

      assert.equal(stripSigningParams(ours.url), stripSigningParams(v.signed_url), `${label}: resource URL`)
      assert.equal(mine.get('Key-Pair-Id'), v.key_pair_id, `${label}: Key-Pair-Id`)
      assert.equal(mine.get('Hash-Algorithm'), theirs.get('Hash-Algorithm'), `${label}: Hash-Algorithm`)
      assert.equal(ours.policy, v.policy_type, `${label}: policy type`)
      const rsa = v.key_pair_id !== 'K3ECDSATEST0001'
      if (v.policy_type === 'canned') {
        assert.equal(mine.get('Expires'), String(v.date_less_than), `${label}: Expires`)
        assert.equal(mine.has('Policy'), false, `${label}: no Policy on a canned URL`)
        if (rsa) assert.equal(mine.get('Signature'), v.signature, `${label}: Signature`)
      } else {
        const ourPolicy = fromCloudFrontBase64(mine.get('Policy')!).toString()
        assert.deepEqual(JSON.parse(ourPolicy), JSON.parse(v.policy), `${label}: policy`)
        // Byte-identical policies (botocore's key order) must give byte-identical RSA signatures.
        if (rsa && ourPolicy === v.policy) assert.equal(mine.get('Signature'), v.signature, `${label}: Signature`)
      }
      const signedPolicy = v.policy_type === 'canned' ? v.policy : fromCloudFrontBase64(mine.get('Policy')!).toString()
      assert.ok(verifyPolicySignature(signedPolicy, mine.get('Signature')!, publicKeyFor(v.key_pair_id), v.hash_algorithm), `${label}: our signature verifies`)
      assert.ok(verifyPolicySignature(v.policy, v.signature, publicKeyFor(v.key_pair_id), v.hash_algorithm), `${label}: the vector itself verifies`)
    }
  })

  it('emits the consensus (botocore) policy bytes for every custom-policy vector', async (t) => {
    const app = await build(t, { configInput: VECTOR_CONFIG, now: () => VECTOR_NOW_MS })
    const token = makeToken({ sub: 'vectors', scope: 'sign sign:wildcard' }, { nowMs: VECTOR_NOW_MS })
    const botocore = file.vectors.filter((v) => v.kind === 'url' && v.signer === 'botocore@deb' && v.policy_type === 'custom')
    assert.ok(botocore.length >= 8, 'botocore.length >= 8')
    for (const v of botocore) {
      const body: Record<string, unknown> = { url: v.url, expiresAt: v.date_less_than, keyId: v.key_pair_id }
      if (v.date_greater_than !== null) body.notBefore = v.date_greater_than
      if (v.ip_address !== null) body.ipAddress = v.ip_address
      if (v.policy_resource !== null) body.resource = v.policy_resource
      const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(token), payload: body })
      const mine = params(res.json().url)
      assert.equal(fromCloudFrontBase64(mine.get('Policy')!).toString(), v.policy, v.id)
      assert.equal(mine.get('Signature'), v.signature, v.id)
    }
  })
})
