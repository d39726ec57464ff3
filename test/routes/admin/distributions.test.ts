import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GetDistributionConfigCommand, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront'
import { CACHING_OPTIMIZED_POLICY_ID } from '../../../src/aws/distributions/web.js'
import { bearer } from '../../support/tokens.js'
import { READ, S3_ORIGIN, adminApp, call, cloudFrontClient } from './helpers.js'

const WEB_BODY = { origin: { domainName: S3_ORIGIN }, comment: 'media', trustedSigners: ['self'] }

describe('POST /v1/admin/distributions', () => {
  it('creates an S3 distribution behind an OAI: 201, Location, ETag in the body and the header', async (t) => {
    const { app, endpoint } = await adminApp(t)
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const res = await call(app, 'POST', '/distributions', {
      body: { origin: { domainName: S3_ORIGIN, originAccessIdentity: oai.body.id }, aliases: ['cdn.example.com'], comment: 'media', defaultRootObject: 'index.html', trustedSigners: ['self'] },
    })
    assert.equal(res.status, 201)
    assert.equal(res.headers.location, `/v1/admin/distributions/${res.body.id}`)
    assert.equal(res.headers.etag, `"${res.body.etag}"`)
    assert.match(res.body.domainName, /^d[a-z0-9]+\.cloudfront\.net$/)
    assert.equal(res.body.status, 'InProgress')
    assert.deepEqual(res.body.aliases, ['cdn.example.com'])
    assert.equal(res.body.origins[0].originAccessIdentity, oai.body.id)
    assert.deepEqual(res.body.activeTrustedSigners, [{ awsAccountNumber: 'self', keyPairIds: [] }])

    // What CloudFront holds: a complete config with the managed cache policy and HTTPS redirect.
    const cf = cloudFrontClient(t, endpoint)
    const { DistributionConfig: config } = await cf.send(new GetDistributionConfigCommand({ Id: res.body.id }))
    assert.equal(config?.DefaultCacheBehavior?.CachePolicyId, CACHING_OPTIMIZED_POLICY_ID)
    assert.equal(config?.DefaultCacheBehavior?.ViewerProtocolPolicy, 'redirect-to-https')
    assert.deepEqual(config?.DefaultCacheBehavior?.TrustedSigners, { Enabled: true, Quantity: 1, Items: ['self'] })
    assert.equal(config?.Origins?.Items?.[0].S3OriginConfig?.OriginAccessIdentity, `origin-access-identity/cloudfront/${oai.body.id}`)
    assert.equal(config?.DefaultRootObject, 'index.html')
  })

  it('creates a custom-origin distribution, as the custom-origin seed did by hand', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/distributions', {
      body: { origin: { domainName: 'blog.example.com', customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'match-viewer' } }, comment: 'blog' },
    })
    assert.equal(res.status, 201)
    assert.deepEqual(res.body.origins[0].customOriginConfig, { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'match-viewer' })
    assert.equal(res.body.origins[0].originAccessIdentity, undefined)
    assert.deepEqual(res.body.trustedSigners, [])
  })

  it('creates a distribution reading its bucket through an origin access control', async (t) => {
    const { app } = await adminApp(t)
    const oac = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac' } })
    assert.equal(oac.status, 201)
    const res = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN, originAccessControlId: oac.body.id } } })
    assert.equal(res.status, 201)
    assert.equal(res.body.origins[0].originAccessControlId, oac.body.id)
    assert.equal(res.body.origins[0].originAccessIdentity, '')
  })

  it('replays a retry with the same Idempotency-Key and body: 200, the same distribution, no second one', async (t) => {
    const { app } = await adminApp(t)
    const headers = { 'idempotency-key': 'create-media-2027-01-15' }
    const first = await call(app, 'POST', '/distributions', { body: WEB_BODY, headers })
    const retry = await call(app, 'POST', '/distributions', { body: WEB_BODY, headers })
    assert.equal(first.status, 201)
    assert.equal(retry.status, 200)
    assert.equal(retry.body.id, first.body.id)
    assert.equal(retry.headers.location, undefined)
    const list = await call(app, 'GET', '/distributions')
    assert.equal(list.body.items.length, 1)
  })

  it('refuses the same Idempotency-Key with a different body: 409 with CloudFront\'s code', async (t) => {
    const { app } = await adminApp(t)
    const headers = { 'idempotency-key': 'create-media-2027-01-15' }
    await call(app, 'POST', '/distributions', { body: WEB_BODY, headers })
    const res = await call(app, 'POST', '/distributions', { body: { ...WEB_BODY, comment: 'something else' }, headers })
    assert.equal(res.status, 409)
    assert.equal(res.body.code, 'DistributionAlreadyExists')
  })

  it('creates a new distribution for each request without an Idempotency-Key', async (t) => {
    const { app } = await adminApp(t)
    const first = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const second = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    assert.equal(second.status, 201)
    assert.notEqual(second.body.id, first.body.id)
  })

  it('answers 409 CNAMEAlreadyExists for an alias another distribution has', async (t) => {
    const { app } = await adminApp(t)
    await call(app, 'POST', '/distributions', { body: { ...WEB_BODY, aliases: ['media.example.com'] } })
    const res = await call(app, 'POST', '/distributions', { body: { ...WEB_BODY, aliases: ['media.example.com'] } })
    assert.equal(res.status, 409)
    assert.equal(res.body.code, 'CNAMEAlreadyExists')
    assert.equal(res.body.error, 'Conflict')
  })

  it("answers 400 with CloudFront's code for a reference CloudFront refuses (an unknown OAI)", async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN, originAccessIdentity: 'E000000000000' } } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'InvalidOriginAccessIdentity')
  })

  it('refuses unknown fields, and an origin with both a custom config and an OAI', async (t) => {
    const { app } = await adminApp(t)
    const unknown = await call(app, 'POST', '/distributions', { body: { ...WEB_BODY, comments: 'typo' } })
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.code, 'VALIDATION_ERROR')
    const mixed = await call(app, 'POST', '/distributions', {
      body: { origin: { domainName: S3_ORIGIN, originAccessIdentity: 'E1', customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'https-only' } } },
    })
    assert.equal(mixed.status, 400)
    assert.equal(mixed.body.code, 'VALIDATION_ERROR')
  })

  it('authenticates before it validates the body, and needs admin:write', async (t) => {
    const { app } = await adminApp(t)
    const anonymous = await app.inject({ method: 'POST', url: '/v1/admin/distributions', payload: { nonsense: true } })
    assert.equal(anonymous.statusCode, 401)
    assert.equal(anonymous.json().code, 'UNAUTHORIZED')
    const reader = await call(app, 'POST', '/distributions', { body: { nonsense: true }, headers: READ })
    assert.equal(reader.status, 403)
    assert.equal(reader.body.code, 'FORBIDDEN_SCOPE')
    const signer = await call(app, 'GET', '/distributions', { headers: bearer() })
    assert.equal(signer.status, 403)
    assert.equal(signer.body.code, 'FORBIDDEN_SCOPE')
  })
})

describe('GET /v1/admin/distributions', () => {
  it('pages with maxItems and nextMarker until the last page', async (t) => {
    const { app } = await adminApp(t)
    const ids = []
    for (const comment of ['one', 'two', 'three']) ids.push((await call(app, 'POST', '/distributions', { body: { ...WEB_BODY, comment } })).body.id)
    const first = await call(app, 'GET', '/distributions?maxItems=2', { headers: READ })
    assert.equal(first.status, 200)
    assert.deepEqual(first.body.items.map((d: { id: string }) => d.id), ids.slice(0, 2))
    assert.equal(typeof first.body.nextMarker, 'string')
    const second = await call(app, 'GET', `/distributions?maxItems=2&marker=${first.body.nextMarker}`, { headers: READ })
    assert.deepEqual(second.body.items.map((d: { id: string }) => d.id), ids.slice(2))
    assert.equal(second.body.nextMarker, undefined)
    assert.equal(second.body.items[0].comment, 'three')
    assert.equal(typeof second.body.items[0].etag, 'string')
  })
})

describe('GET /v1/admin/distributions/{id}', () => {
  it('answers the distribution with its ETag to a reader (admin:write also reads)', async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const res = await call(app, 'GET', `/distributions/${created.body.id}`, { headers: READ })
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 'Deployed')
    assert.equal(res.headers.etag, `"${created.body.etag}"`)
    const writer = await call(app, 'GET', `/distributions/${created.body.id}`)
    assert.equal(writer.status, 200)
  })

  it("answers 404 with CloudFront's NoSuchDistribution", async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'GET', '/distributions/E000000000000', { headers: READ })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'NoSuchDistribution')
    assert.equal(res.body.error, 'Not Found')
  })
})

describe('PATCH /v1/admin/distributions/{id}', () => {
  it('changes only the fields sent and keeps the rest (aliases, signers, CloudFront-only settings)', async (t) => {
    const { app, endpoint } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: { ...WEB_BODY, aliases: ['media.example.com'] } })
    const cf = cloudFrontClient(t, endpoint)
    // Someone sets a field the service does not model; a PATCH must not drop it.
    const current = await cf.send(new GetDistributionConfigCommand({ Id: created.body.id }))
    await cf.send(new UpdateDistributionCommand({ Id: created.body.id, IfMatch: current.ETag, DistributionConfig: { ...current.DistributionConfig!, PriceClass: 'PriceClass_100' } }))

    const res = await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { comment: 'renamed' } })
    assert.equal(res.status, 200)
    assert.equal(res.body.comment, 'renamed')
    assert.deepEqual(res.body.aliases, ['media.example.com'])
    assert.deepEqual(res.body.trustedSigners, ['self'])
    assert.equal(res.headers.etag, `"${res.body.etag}"`)
    const after = await cf.send(new GetDistributionConfigCommand({ Id: created.body.id }))
    assert.equal(after.DistributionConfig?.PriceClass, 'PriceClass_100')
    assert.equal(after.ETag, res.body.etag)
  })

  it('attaches an OAI, trusted key groups and signers by account ID', async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN } } })
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const key = await call(app, 'POST', '/public-keys', { body: { keyId: 'K2JCJMDEHXQW5F' } })
    const group = await call(app, 'POST', '/key-groups', { body: { name: 'signers', publicKeyIds: [key.body.id] } })
    const res = await call(app, 'PATCH', `/distributions/${created.body.id}`, {
      body: { origin: { originAccessIdentity: oai.body.id }, trustedKeyGroups: [group.body.id], trustedSigners: ['self', '084307701560'] },
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.origins[0].originAccessIdentity, oai.body.id)
    assert.deepEqual(res.body.trustedKeyGroups, [group.body.id])
    assert.deepEqual(res.body.activeTrustedKeyGroups, [{ keyGroupId: group.body.id, keyPairIds: [key.body.id] }])
    assert.deepEqual(res.body.trustedSigners, ['self', '084307701560'])
  })

  it('re-reads and retries when someone else changed the distribution meanwhile (PreconditionFailed)', async (t) => {
    const { app, emulator } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    emulator.injectFault({ operation: 'UpdateDistribution', code: 'PreconditionFailed', status: 412, times: 1 })
    const res = await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { enabled: false } })
    assert.equal(res.status, 200)
    assert.equal(res.body.enabled, false)
    assert.equal((await app.metrics.awsCalls.get()).values.find((v) => v.labels.operation === 'UpdateDistribution' && v.labels.outcome === 'PreconditionFailed')?.value, 1)
  })

  it('answers 412 PreconditionFailed once the bounded retries are spent', async (t) => {
    const { app, emulator } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    emulator.injectFault({ operation: 'UpdateDistribution', code: 'PreconditionFailed', status: 412, times: 50 })
    const res = await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { enabled: false } })
    assert.equal(res.status, 412)
    assert.equal(res.body.code, 'PreconditionFailed')
  })

  it("takes the caller's If-Match as a precondition: a stale one is 412, never retried", async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { comment: 'changed by someone else' } })
    const res = await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { comment: 'mine' }, headers: { 'if-match': `"${created.body.etag}"` } })
    assert.equal(res.status, 412)
    assert.equal(res.body.code, 'PreconditionFailed')
  })

  it('sends nothing when the change changes nothing (the ETag stays)', async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const res = await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { comment: 'media' } })
    assert.equal(res.status, 200)
    assert.equal(res.body.etag, created.body.etag)
  })

  it('answers 404 NoSuchDistribution for an unknown ID', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'PATCH', '/distributions/E000000000000', { body: { enabled: false } })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'NoSuchDistribution')
  })
})

describe('DELETE /v1/admin/distributions/{id}', () => {
  it('answers 409 DistributionNotDisabled while enabled, then deletes once disabled and deployed', async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const refused = await call(app, 'DELETE', `/distributions/${created.body.id}`)
    assert.equal(refused.status, 409)
    assert.equal(refused.body.code, 'DistributionNotDisabled')

    await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { enabled: false } })
    const waited = await call(app, 'POST', `/distributions/${created.body.id}/wait`)
    assert.equal(waited.body.status, 'Deployed')
    const deleted = await call(app, 'DELETE', `/distributions/${created.body.id}`)
    assert.equal(deleted.status, 204)
    assert.equal(deleted.body, undefined)
    const gone = await call(app, 'GET', `/distributions/${created.body.id}`)
    assert.equal(gone.status, 404)
  })

  it("sends the caller's If-Match when given: a stale one is 412 PreconditionFailed", async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/distributions', { body: { ...WEB_BODY, enabled: false } })
    await call(app, 'PATCH', `/distributions/${created.body.id}`, { body: { comment: 'newer' } })
    const res = await call(app, 'DELETE', `/distributions/${created.body.id}`, { headers: { 'if-match': created.body.etag } })
    assert.equal(res.status, 412)
    assert.equal(res.body.code, 'PreconditionFailed')
  })
})

describe('POST /v1/admin/distributions/{id}/wait', () => {
  it('answers the distribution once CloudFront reports Deployed', async (t) => {
    const { app, emulator } = await adminApp(t, { emulator: { deploySeconds: 600 } })
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const waiting = call(app, 'POST', `/distributions/${created.body.id}/wait`, { body: { timeoutSeconds: 30 }, headers: READ })
    void emulator.nextCall('GetDistribution').then(() => emulator.advanceClock(600))
    const res = await waiting
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 'Deployed')
    assert.equal(res.headers.etag, `"${res.body.etag}"`)
  })

  it('answers 504 WAIT_TIMEOUT naming the last status when the time is up', async (t) => {
    const { app } = await adminApp(t, { emulator: { deploySeconds: 3600 } })
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const res = await call(app, 'POST', `/distributions/${created.body.id}/wait`, { body: { timeoutSeconds: 1 } })
    assert.equal(res.status, 504)
    assert.equal(res.body.code, 'WAIT_TIMEOUT')
    assert.match(res.body.message, /InProgress/)
  })

  it('refuses a timeout above aws.wait.maxTimeoutSeconds', async (t) => {
    const { app } = await adminApp(t, { aws: { wait: { maxTimeoutSeconds: 60, defaultTimeoutSeconds: 30 } } })
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const res = await call(app, 'POST', `/distributions/${created.body.id}/wait`, { body: { timeoutSeconds: 61 } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'VALIDATION_ERROR')
  })

  it('streams progress as server-sent events with Accept: text/event-stream', async (t) => {
    const { app, emulator } = await adminApp(t, { emulator: { deploySeconds: 600 } })
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    void emulator.nextCall('GetDistribution').then(() => emulator.advanceClock(600))
    const res = await app.inject({
      method: 'POST',
      url: `/v1/admin/distributions/${created.body.id}/wait`,
      headers: { ...READ, accept: 'text/event-stream' },
      payload: { timeoutSeconds: 30 },
    })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^text\/event-stream/)
    const events = res.body.trim().split('\n\n').map((block) => ({ event: block.split('\n')[0].slice(7), data: JSON.parse(block.split('\n')[1].slice(6)) }))
    assert.deepEqual(events[0], { event: 'status', data: { status: 'InProgress', elapsedSeconds: 0 } })
    assert.equal(events.at(-1)?.event, 'deployed')
    assert.equal(events.at(-1)?.data.id, created.body.id)
  })

  it('ends the stream with an error event naming WAIT_TIMEOUT', async (t) => {
    const { app } = await adminApp(t, { emulator: { deploySeconds: 3600 } })
    const created = await call(app, 'POST', '/distributions', { body: WEB_BODY })
    const res = await app.inject({
      method: 'POST',
      url: `/v1/admin/distributions/${created.body.id}/wait`,
      headers: { ...READ, accept: 'text/event-stream' },
      payload: { timeoutSeconds: 1 },
    })
    const last = res.body.trim().split('\n\n').at(-1)!.split('\n')
    assert.equal(last[0], 'event: error')
    assert.equal(JSON.parse(last[1].slice(6)).code, 'WAIT_TIMEOUT')
  })

  it('answers 404 at once for an unknown distribution', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/distributions/E000000000000/wait', { body: { timeoutSeconds: 30 } })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'NoSuchDistribution')
  })
})
