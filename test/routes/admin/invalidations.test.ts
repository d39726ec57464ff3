import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { READ, S3_ORIGIN, adminApp, call } from './helpers.js'

async function distributionIn(app: Awaited<ReturnType<typeof adminApp>>['app']): Promise<string> {
  return (await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN } } })).body.id
}

describe('POST /v1/admin/distributions/{id}/invalidations', () => {
  it('creates an invalidation: 201 with its ID, status and paths', async (t) => {
    const { app } = await adminApp(t)
    const id = await distributionIn(app)
    const res = await call(app, 'POST', `/distributions/${id}/invalidations`, { body: { paths: ['/videos/intro.mp4', '/hls/*'] } })
    assert.equal(res.status, 201)
    assert.match(res.body.id, /^I[A-Z0-9]+$/)
    assert.equal(res.body.status, 'InProgress')
    assert.deepEqual(res.body.paths, ['/videos/intro.mp4', '/hls/*'])
    assert.equal(res.headers.location, `/v1/admin/distributions/${id}/invalidations/${res.body.id}`)
  })

  it('uses the Idempotency-Key as the CallerReference: a retry answers the same invalidation, other paths 409', async (t) => {
    const { app } = await adminApp(t)
    const id = await distributionIn(app)
    const headers = { 'idempotency-key': 'purge-intro' }
    const first = await call(app, 'POST', `/distributions/${id}/invalidations`, { body: { paths: ['/videos/intro.mp4'] }, headers })
    const replay = await call(app, 'POST', `/distributions/${id}/invalidations`, { body: { paths: ['/videos/intro.mp4'] }, headers })
    assert.equal(replay.body.id, first.body.id)
    assert.equal(replay.body.callerReference, 'purge-intro')
    const other = await call(app, 'POST', `/distributions/${id}/invalidations`, { body: { paths: ['/other'] }, headers })
    assert.equal(other.status, 409)
    assert.equal(other.body.code, 'InvalidationBatchAlreadyExists')
  })

  it('refuses a path that does not start with / before calling CloudFront', async (t) => {
    const { app } = await adminApp(t)
    const id = await distributionIn(app)
    const res = await call(app, 'POST', `/distributions/${id}/invalidations`, { body: { paths: ['videos/intro.mp4'] } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'VALIDATION_ERROR')
  })

  it('answers 404 NoSuchDistribution for an unknown distribution', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/distributions/E000000000000/invalidations', { body: { paths: ['/a'] } })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'NoSuchDistribution')
  })
})

describe('GET /v1/admin/distributions/{id}/invalidations', () => {
  it('lists the invalidations and gets one, Completed once CloudFront is done', async (t) => {
    const { app, emulator } = await adminApp(t, { emulator: { invalidationSeconds: 60 } })
    const id = await distributionIn(app)
    const created = await call(app, 'POST', `/distributions/${id}/invalidations`, { body: { paths: ['/a'] } })
    const list = await call(app, 'GET', `/distributions/${id}/invalidations`, { headers: READ })
    assert.equal(list.status, 200)
    assert.deepEqual(list.body.items.map((i: { id: string; status: string }) => [i.id, i.status]), [[created.body.id, 'InProgress']])
    emulator.advanceClock(60)
    const one = await call(app, 'GET', `/distributions/${id}/invalidations/${created.body.id}`, { headers: READ })
    assert.equal(one.status, 200)
    assert.equal(one.body.status, 'Completed')
    assert.deepEqual(one.body.paths, ['/a'])
  })

  it('answers 404 NoSuchInvalidation for an unknown invalidation', async (t) => {
    const { app } = await adminApp(t)
    const id = await distributionIn(app)
    const res = await call(app, 'GET', `/distributions/${id}/invalidations/I000000000000`, { headers: READ })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'NoSuchInvalidation')
  })
})
