// The rotation under load: two clients keep signing against a real listening server while
// the keys directory is swapped twice (a new active key, then a broken update of that key); every
// answer must be a 200 whose URL verifies with the public key of the key ID it names.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey, type KeyObject } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { verifyPolicySignature } from '../../src/signing/verify.js'
import { build } from '../support/build.js'
import { generatePem, RSA_KEY_ID, RSA_PEM } from '../support/keys.js'
import { makeSecretVolume } from '../support/secret-volume.js'
import { waitFor } from '../support/wait.js'
import { bearer } from '../support/tokens.js'

const NEW_KEY_ID = 'K1ROTATEDKEY01'
const CLIENTS = 2
const MAX_REQUESTS = 1500
const TIME_LIMIT_MS = 20_000
/** Answers to see in each phase before moving on: before the first swap, after it, after the broken one. */
const PER_PHASE = 60

interface Answer {
  status: number
  keyId?: string
  verified: boolean
}

/** Checks a canned-policy URL against the policy CloudFront will rebuild from it. */
function verifyCannedUrl(url: string, publicKeys: Record<string, KeyObject>): { keyId: string; verified: boolean } {
  const query = url.indexOf('?')
  const params = new URLSearchParams(url.slice(query + 1))
  const keyId = params.get('Key-Pair-Id') ?? ''
  const policy = `{"Statement":[{"Resource":"${url.slice(0, query)}","Condition":{"DateLessThan":{"AWS:EpochTime":${params.get('Expires')}}}}]}`
  const publicKey = publicKeys[keyId]
  return { keyId, verified: publicKey !== undefined && verifyPolicySignature(policy, params.get('Signature') ?? '', publicKey, 'SHA1') }
}

describe('POST /v1/signed-urls during key rotation', () => {
  it('keeps answering with valid URLs while the directory is swapped twice, once with a broken key', async (t) => {
    const newPem = generatePem('rsa')
    const publicKeys = { [RSA_KEY_ID]: createPublicKey(RSA_PEM), [NEW_KEY_ID]: createPublicKey(newPem) }
    const secret = makeSecretVolume({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, active: RSA_KEY_ID })
    t.after(secret.cleanup)
    const app = await build(t, { configInput: { keys: { dir: secret.dir, reloadIntervalSeconds: 0.2 } } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const headers = { ...bearer(), 'content-type': 'application/json' }

    const answers: Answer[] = []
    let stop = false
    const started = performance.now()

    async function client(id: number): Promise<void> {
      for (let i = 0; !stop && answers.length < MAX_REQUESTS && performance.now() - started < TIME_LIMIT_MS; i++) {
        const res = await fetch(`${base}/v1/signed-urls`, { method: 'POST', headers, body: JSON.stringify({ distribution: 'demo', path: `/videos/${id}/${i}.mp4` }) })
        const body = (await res.json()) as { url?: string }
        const checked = res.status === 200 && body.url !== undefined ? verifyCannedUrl(body.url, publicKeys) : { keyId: undefined, verified: false }
        answers.push({ status: res.status, ...checked })
      }
    }

    async function rotate(): Promise<void> {
      const time = (what: string, predicate: () => boolean) => waitFor(predicate, TIME_LIMIT_MS, what)
      await time('answers before the rotation', () => answers.length >= PER_PHASE)
      secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${NEW_KEY_ID}.pem`]: newPem, active: NEW_KEY_ID })
      await time('answers signed by the new key', () => answers.filter((a) => a.keyId === NEW_KEY_ID).length >= PER_PHASE)
      // The broken update: the active key's file truncated, so the whole set is refused.
      secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${NEW_KEY_ID}.pem`]: newPem.slice(0, 200), active: NEW_KEY_ID })
      await time('the broken update to be noticed', () => app.keyStore.status().lastReloadError !== null)
      const noticedAt = answers.length
      await time('answers after the broken update', () => answers.length - noticedAt >= PER_PHASE)
      stop = true
    }

    await Promise.all([rotate().finally(() => (stop = true)), ...Array.from({ length: CLIENTS }, (_, id) => client(id))])

    const failed = answers.filter((a) => a.status !== 200 || !a.verified)
    assert.deepEqual(failed, [], 'no failed or unverifiable answer')
    assert.ok(answers.length >= 3 * PER_PHASE, `enough requests (${answers.length})`)
    const seen = new Set(answers.map((a) => a.keyId))
    assert.deepEqual([...seen].sort(), [NEW_KEY_ID, RSA_KEY_ID].sort(), 'both keys signed')
    assert.equal(app.keyStore.active().id, NEW_KEY_ID, 'the last good set stays after the broken update')
    assert.ok(answers.slice(-PER_PHASE).every((a) => a.keyId === NEW_KEY_ID), 'the new key keeps signing after the broken update')

    const ready = await fetch(`${base}/readyz`)
    assert.equal(ready.status, 200)
    const readiness = (await ready.json()) as { keys: { activeKeyId: string; lastReloadError: { code: string; message: string } | null } }
    assert.equal(readiness.keys.activeKeyId, NEW_KEY_ID)
    assert.equal(readiness.keys.lastReloadError?.code, 'KEY_NOT_PEM')
    assert.match(readiness.keys.lastReloadError?.message ?? '', new RegExp(`${NEW_KEY_ID}\\.pem`))
  })
})
