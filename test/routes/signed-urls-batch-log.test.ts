import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, captureLogs } from '../support/build.js'
import { EC_KEY_ID, RSA_KEY_ID } from '../support/keys.js'
import { bearer } from '../support/tokens.js'

describe('POST /v1/signed-urls/batch', () => {
  it('logs one line for the whole batch: counts, distributions, keys, policies, grant IDs, expiry range, error codes, never a URL', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    const items = [
      { distribution: 'demo', path: '/videos/a.mp4' },
      { distribution: 'demo', path: '/videos/b.mp4', keyId: EC_KEY_ID, expiresIn: 600 },
      { distribution: 'demo', path: '/videos/c.mp4', notBefore: 0 },
      { distribution: 'demo', path: '/admin/x' },
    ]
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items } })
    assert.equal(res.statusCode, 200)
    const answered = res.json().items as Array<{ url?: string; expires?: number; error?: { code: string } }>
    assert.equal(answered[3].error?.code, 'FORBIDDEN_PATH')

    const lines = logs.text().trim().split('\n').map((line) => JSON.parse(line))
    assert.equal(lines.filter((l) => l.msg === 'signed url').length, 0)
    const batch = lines.filter((l) => l.msg === 'signed url batch')
    assert.equal(batch.length, 1)
    assert.deepEqual(
      { signed: batch[0].signed, failed: batch[0].failed, errors: batch[0].errors, distributions: batch[0].distributions },
      { signed: 3, failed: 1, errors: { FORBIDDEN_PATH: 1 }, distributions: ['demo'] },
    )
    assert.deepEqual(new Set(batch[0].keyIds), new Set([RSA_KEY_ID, EC_KEY_ID]))
    assert.deepEqual(new Set(batch[0].policies), new Set(['canned', 'custom']))
    assert.deepEqual(batch[0].expires, { min: answered[0].expires, max: answered[1].expires })
    assert.deepEqual(batch[0].grantIds, answered.slice(0, 3).map((item) => (item as { grantId: string }).grantId), 'the signed items\' grant IDs, in order')
    for (const item of answered.slice(0, 3)) assert.ok(!logs.text().includes(new URL(item.url!).search.slice(1)), 'no signed query in the logs')
  })
})

describe('POST /v1/signed-urls/batch: grant IDs in the log', () => {
  it('names at most the first 100 signed items\' grant IDs', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    const items = Array.from({ length: 120 }, (_, i) => ({ distribution: 'demo', path: `/videos/${i}.mp4` }))
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items } })
    assert.equal(res.statusCode, 200)
    const answered = res.json().items as Array<{ grantId: string }>
    assert.equal(new Set(answered.map((item) => item.grantId)).size, 120, 'every item its own grant')
    const batch = logs.text().trim().split('\n').map((line) => JSON.parse(line)).find((l) => l.msg === 'signed url batch')
    assert.deepEqual(batch.grantIds, answered.slice(0, 100).map((item) => item.grantId))
  })
})
