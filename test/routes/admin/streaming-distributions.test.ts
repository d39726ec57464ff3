import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GetStreamingDistributionConfigCommand } from '@aws-sdk/client-cloudfront'
import { READ, adminApp, call, cloudFrontClient } from './helpers.js'

const BUCKET_ORIGIN = 'my-video-bucket.s3.amazonaws.com'
const BODY = { origin: { domainName: BUCKET_ORIGIN }, aliases: ['rtmp.example.com'], comment: 'private streaming distribution (rtmp)' }

describe('POST /v1/admin/streaming-distributions', () => {
  it('creates a streaming distribution from an S3 bucket, as the RTMP seed did', async (t) => {
    const { app, endpoint } = await adminApp(t)
    const res = await call(app, 'POST', '/streaming-distributions', { body: BODY })
    assert.equal(res.status, 201)
    assert.match(res.body.domainName, /^s[a-z0-9]+\.cloudfront\.net$/)
    assert.deepEqual(res.body.origins, [{ domainName: BUCKET_ORIGIN, originAccessIdentity: '' }])
    assert.deepEqual(res.body.aliases, ['rtmp.example.com'])
    assert.equal(res.headers.etag, `"${res.body.etag}"`)
    const { StreamingDistributionConfig: config } = await cloudFrontClient(t, endpoint).send(new GetStreamingDistributionConfigCommand({ Id: res.body.id }))
    assert.deepEqual(config?.TrustedSigners, { Enabled: false, Quantity: 0 })
  })

  it('replays the same Idempotency-Key and body (200), refuses another body (409)', async (t) => {
    const { app } = await adminApp(t)
    const headers = { 'idempotency-key': 'rtmp-1' }
    const first = await call(app, 'POST', '/streaming-distributions', { body: BODY, headers })
    const replay = await call(app, 'POST', '/streaming-distributions', { body: BODY, headers })
    assert.deepEqual([replay.status, replay.body.id], [200, first.body.id])
    const other = await call(app, 'POST', '/streaming-distributions', { body: { ...BODY, comment: 'other' }, headers })
    assert.equal(other.status, 409)
    assert.equal(other.body.code, 'StreamingDistributionAlreadyExists')
  })

  it('takes S3 origins only: a custom origin, an OAC or key groups are 400', async (t) => {
    const { app } = await adminApp(t)
    const bodies = [
      { origin: { domainName: 'blog.example.com', customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'http-only' } } },
      { origin: { domainName: BUCKET_ORIGIN, originAccessControlId: 'E1' } },
      { origin: { domainName: BUCKET_ORIGIN }, trustedKeyGroups: ['group'] },
    ]
    for (const body of bodies) {
      const res = await call(app, 'POST', '/streaming-distributions', { body })
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(res.body.code, 'VALIDATION_ERROR')
    }
  })

  it("reports CloudFront's answer when RTMP is gone, as on AWS since 2020", async (t) => {
    const { app } = await adminApp(t, { emulator: { rtmpMode: 'post-2020' } })
    const res = await call(app, 'POST', '/streaming-distributions', { body: BODY })
    assert.equal(res.status, 403)
    assert.equal(res.body.code, 'AccessDenied')
    const list = await call(app, 'GET', '/streaming-distributions', { headers: READ })
    assert.deepEqual(list.body.items, [])
  })
})

describe('/v1/admin/streaming-distributions/{id}', () => {
  it('attaches an OAI and trusted signers, as the RTMP seed\'s modify did', async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/streaming-distributions', { body: BODY })
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'OAI for use on the distribution' } })
    const res = await call(app, 'PATCH', `/streaming-distributions/${created.body.id}`, { body: { origin: { originAccessIdentity: oai.body.id }, trustedSigners: ['self'] } })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.origins, [{ domainName: BUCKET_ORIGIN, originAccessIdentity: oai.body.id }])
    assert.deepEqual(res.body.trustedSigners, ['self'])
    assert.deepEqual(res.body.activeTrustedSigners, [{ awsAccountNumber: 'self', keyPairIds: [] }])
    assert.deepEqual(res.body.aliases, ['rtmp.example.com'])
    const got = await call(app, 'GET', `/streaming-distributions/${created.body.id}`, { headers: READ })
    assert.equal(got.body.etag, res.body.etag)
  })

  it('lists a page at a time', async (t) => {
    const { app } = await adminApp(t)
    const a = await call(app, 'POST', '/streaming-distributions', { body: { origin: { domainName: BUCKET_ORIGIN }, comment: 'a' } })
    const b = await call(app, 'POST', '/streaming-distributions', { body: { origin: { domainName: BUCKET_ORIGIN }, comment: 'b' } })
    const first = await call(app, 'GET', '/streaming-distributions?maxItems=1', { headers: READ })
    assert.deepEqual(first.body.items.map((d: { id: string }) => d.id), [a.body.id])
    const second = await call(app, 'GET', `/streaming-distributions?maxItems=1&marker=${first.body.nextMarker}`, { headers: READ })
    assert.deepEqual(second.body.items.map((d: { id: string }) => d.id), [b.body.id])
  })

  it('needs the disable, wait, delete sequence: 409 StreamingDistributionNotDisabled before', async (t) => {
    const { app, emulator } = await adminApp(t, { emulator: { deploySeconds: 900 } })
    const created = await call(app, 'POST', '/streaming-distributions', { body: BODY })
    const enabled = await call(app, 'DELETE', `/streaming-distributions/${created.body.id}`)
    assert.equal(enabled.status, 409)
    assert.equal(enabled.body.code, 'StreamingDistributionNotDisabled')
    await call(app, 'PATCH', `/streaming-distributions/${created.body.id}`, { body: { enabled: false } })
    const stillDeploying = await call(app, 'DELETE', `/streaming-distributions/${created.body.id}`)
    assert.equal(stillDeploying.body.code, 'StreamingDistributionNotDisabled')
    void emulator.nextCall('GetStreamingDistribution').then(() => emulator.advanceClock(900))
    const waited = await call(app, 'POST', `/streaming-distributions/${created.body.id}/wait`, { body: { timeoutSeconds: 30 } })
    assert.equal(waited.body.status, 'Deployed')
    const deleted = await call(app, 'DELETE', `/streaming-distributions/${created.body.id}`)
    assert.equal(deleted.status, 204)
  })

  it('answers 404 NoSuchStreamingDistribution for an unknown ID', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'GET', '/streaming-distributions/E000000000000', { headers: READ })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'NoSuchStreamingDistribution')
  })
})
