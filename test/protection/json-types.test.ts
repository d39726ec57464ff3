import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, TEST_NOW_MS } from '../support/build.js'
import { bearer } from '../support/tokens.js'
import { READ, adminApp, call } from '../routes/admin/helpers.js'

const NOW = TEST_NOW_MS / 1000

describe('JSON bodies are typed strictly, query strings are coerced', () => {
  it('refuses a boolean, a string or an array where a body number is wanted (400 VALIDATION_ERROR)', async (t) => {
    const app = await build(t)
    for (const expiresIn of [true, '0x12C', '300', [300], null]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/signed-urls',
        headers: bearer(),
        payload: { distribution: 'demo', path: '/videos/a.mp4', expiresIn },
      })
      assert.equal(response.statusCode, 400, JSON.stringify(expiresIn))
      assert.equal(response.json().code, 'VALIDATION_ERROR', JSON.stringify(expiresIn))
      assert.match(response.json().message, /^body\.expiresIn /)
    }
    const number = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4', expiresIn: 300 } })
    assert.equal(number.statusCode, 200)
    assert.equal(number.json().expires, NOW + 300)
  })

  it('refuses a number or a boolean where a body string is wanted, and a single value where an array is', async (t) => {
    const app = await build(t)
    for (const payload of [
      { distribution: 'demo', path: 42 },
      { distribution: true, path: '/videos/a.mp4' },
      { distribution: 'demo', path: '/videos/a.mp4', hashAlgorithm: ['SHA256'] },
    ]) {
      const response = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload })
      assert.equal(response.statusCode, 400, JSON.stringify(payload))
      assert.equal(response.json().code, 'VALIDATION_ERROR')
    }
    const batch = await app.inject({ method: 'POST', url: '/v1/signed-urls/batch', headers: bearer(), payload: { items: { distribution: 'demo', path: '/videos/a.mp4' } } })
    assert.equal(batch.statusCode, 400)
    assert.equal(batch.json().code, 'VALIDATION_ERROR')
  })

  it('still reads numbers from the query string (?maxItems=1), and refuses body strings on admin routes too', async (t) => {
    const { app } = await adminApp(t)
    for (let i = 0; i < 2; i++) assert.equal((await call(app, 'POST', '/origin-access-identities', { body: { comment: `oai ${i}` } })).status, 201)
    const page = await call(app, 'GET', '/origin-access-identities?maxItems=1', { headers: READ })
    assert.equal(page.status, 200)
    assert.equal(page.body.items.length, 1)
    assert.ok(page.body.nextMarker, 'page.body.nextMarker')
    const words = await call(app, 'GET', '/origin-access-identities?maxItems=one', { headers: READ })
    assert.equal(words.status, 400)
    assert.equal(words.body.code, 'VALIDATION_ERROR')
    const wait = await call(app, 'POST', '/distributions/E000000000000/wait', { headers: READ, body: { timeoutSeconds: '5' } })
    assert.equal(wait.status, 400)
    assert.equal(wait.body.code, 'VALIDATION_ERROR')
    const patch = await call(app, 'PATCH', '/distributions/E000000000000', { body: { enabled: 'false' } })
    assert.equal(patch.status, 400)
    assert.equal(patch.body.code, 'VALIDATION_ERROR')
  })
})
