import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { CreateBucketCommand, PutBucketPolicyCommand, PutObjectCommand, type ObjectOwnership } from '@aws-sdk/client-s3'
import { oaiArn } from '../../../src/aws/bucket-access.js'
import { READ, S3_ORIGIN, adminApp, call, s3Client } from './helpers.js'

const BUCKET = 'media-bucket'
const UNRELATED = { Sid: 'KeepMe', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` }

interface Policy {
  Version: string
  Statement: Array<Record<string, unknown>>
}

async function createBucket(t: TestContext, endpoint: string, options: { ownership?: ObjectOwnership; objects?: string[]; policy?: unknown } = {}) {
  const s3 = s3Client(t, endpoint)
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectOwnership: options.ownership }))
  for (const key of options.objects ?? []) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `content of ${key}` }))
  if (options.policy !== undefined) await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(options.policy) }))
}

describe('POST /v1/admin/origin-access-identities', () => {
  it('creates an OAI and answers its ID and S3 canonical user ID', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'OAI for use on the distribution' } })
    assert.equal(res.status, 201)
    assert.match(res.body.id, /^E[A-Z0-9]+$/)
    assert.match(res.body.s3CanonicalUserId, /^[0-9a-f]{64}$/)
    assert.equal(res.body.comment, 'OAI for use on the distribution')
    assert.equal(res.headers.etag, `"${res.body.etag}"`)
  })

  it('answers the original identity for a replay with the same key and comment, 409 for another comment', async (t) => {
    const { app } = await adminApp(t)
    const headers = { 'idempotency-key': 'oai-media' }
    const first = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' }, headers })
    const replay = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' }, headers })
    assert.equal(replay.body.id, first.body.id)
    const list = await call(app, 'GET', '/origin-access-identities', { headers: READ })
    assert.equal(list.body.items.length, 1)
    const other = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'other' }, headers })
    assert.equal(other.status, 409)
    assert.equal(other.body.code, 'CloudFrontOriginAccessIdentityAlreadyExists')
  })
})

describe('GET /v1/admin/origin-access-identities', () => {
  it('lists, gets, and answers 404 for an unknown identity', async (t) => {
    const { app } = await adminApp(t)
    const created = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const list = await call(app, 'GET', '/origin-access-identities', { headers: READ })
    assert.deepEqual(list.body.items, [{ id: created.body.id, s3CanonicalUserId: created.body.s3CanonicalUserId, comment: 'media' }])
    const one = await call(app, 'GET', `/origin-access-identities/${created.body.id}`, { headers: READ })
    assert.equal(one.status, 200)
    assert.equal(one.body.etag, created.body.etag)
    const missing = await call(app, 'GET', '/origin-access-identities/E000000000000', { headers: READ })
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'NoSuchCloudFrontOriginAccessIdentity')
  })
})

describe('DELETE /v1/admin/origin-access-identities/{id}', () => {
  it('answers 409 while a distribution uses the identity, 204 once it does not', async (t) => {
    const { app } = await adminApp(t)
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const distribution = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN, originAccessIdentity: oai.body.id } } })
    const inUse = await call(app, 'DELETE', `/origin-access-identities/${oai.body.id}`)
    assert.equal(inUse.status, 409)
    assert.equal(inUse.body.code, 'CloudFrontOriginAccessIdentityInUse')
    await call(app, 'PATCH', `/distributions/${distribution.body.id}`, { body: { origin: { originAccessIdentity: '' } } })
    const deleted = await call(app, 'DELETE', `/origin-access-identities/${oai.body.id}`)
    assert.equal(deleted.status, 204)
  })
})

describe('POST /v1/admin/origin-access-identities/{id}/grants', () => {
  it('merges one statement into the bucket policy and keeps every other statement', async (t) => {
    const { app, emulator, endpoint } = await adminApp(t)
    await createBucket(t, endpoint, { policy: { Version: '2012-10-17', Statement: [UNRELATED] } })
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const res = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET, prefix: '/videos/' } })
    assert.equal(res.status, 200)
    assert.equal(res.body.changed, true)
    assert.equal(res.body.method, 'policy')
    assert.equal(res.body.prefix, 'videos/')
    assert.equal(res.body.resource, `arn:aws:s3:::${BUCKET}/videos/*`)
    const policy = emulator.getBucketPolicy(BUCKET) as Policy
    assert.equal(policy.Statement.length, 2)
    assert.deepEqual(policy.Statement[0], UNRELATED)
    const added = policy.Statement[1]
    assert.equal(added.Sid, res.body.statementId)
    assert.equal(added.Effect, 'Allow')
    assert.deepEqual(added.Principal, { AWS: oaiArn(oai.body.id) })
    assert.equal(added.Action, 's3:GetObject')
    assert.equal(added.Resource, `arn:aws:s3:::${BUCKET}/videos/*`)
  })

  it('adds nothing for a second identical grant', async (t) => {
    const { app, emulator, endpoint } = await adminApp(t)
    await createBucket(t, endpoint, { policy: { Version: '2012-10-17', Statement: [UNRELATED] } })
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const first = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET } })
    const before = emulator.getBucketPolicy(BUCKET)
    const second = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET, method: 'policy' } })
    assert.equal(second.status, 200)
    assert.equal(second.body.changed, false)
    assert.equal(second.body.statementId, first.body.statementId)
    assert.deepEqual(emulator.getBucketPolicy(BUCKET), before)
    assert.equal((before as Policy).Statement.length, 2)
  })

  it('recognises a grant written with the canonical user ID as the same access', async (t) => {
    const { app, emulator, endpoint } = await adminApp(t)
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const byCanonicalUser = { Sid: 'OAIRead', Effect: 'Allow', Principal: { CanonicalUser: oai.body.s3CanonicalUserId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }
    await createBucket(t, endpoint, { policy: { Version: '2012-10-17', Statement: [byCanonicalUser] } })
    const before = emulator.getBucketPolicy(BUCKET)
    const res = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET } })
    assert.equal(res.body.changed, false)
    assert.deepEqual(emulator.getBucketPolicy(BUCKET), before)
  })

  it('writes a new policy on a bucket that has none', async (t) => {
    const { app, emulator, endpoint } = await adminApp(t)
    await createBucket(t, endpoint)
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const res = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET } })
    assert.equal(res.body.changed, true)
    const policy = emulator.getBucketPolicy(BUCKET) as Policy
    assert.equal(policy.Version, '2012-10-17')
    assert.equal(policy.Statement.length, 1)
  })

  it('the ACL way adds READ for the canonical user on each object under the prefix, once', async (t) => {
    const { app, emulator, endpoint } = await adminApp(t)
    await createBucket(t, endpoint, { ownership: 'BucketOwnerPreferred', objects: ['flvs/video01.flv', 'flvs/video02.flv', 'private/notes.txt'] })
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'streaming' } })
    const res = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET, prefix: 'flvs/', method: 'acl' } })
    assert.equal(res.status, 200)
    assert.deepEqual([res.body.method, res.body.objects, res.body.objectsChanged, res.body.changed], ['acl', 2, 2, true])
    const readers = (key: string) =>
      (emulator.getObjectAcl(BUCKET, key) ?? []).filter((g) => g.permission === 'READ' && g.grantee.type === 'CanonicalUser' && g.grantee.id === oai.body.s3CanonicalUserId)
    assert.equal(readers('flvs/video01.flv').length, 1)
    assert.equal(readers('flvs/video02.flv').length, 1)
    assert.equal(readers('private/notes.txt').length, 0)
    // The owner keeps full control.
    assert.ok(emulator.getObjectAcl(BUCKET, 'flvs/video01.flv')?.some((g) => g.permission === 'FULL_CONTROL'), "emulator.getObjectAcl(BUCKET, 'flvs/video01.flv')?.some((g) => g.permission === 'FULL_CONTROL')")

    const again = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET, prefix: 'flvs/', method: 'acl' } })
    assert.deepEqual([again.body.objects, again.body.objectsChanged, again.body.changed], [2, 0, false])
    assert.equal(readers('flvs/video01.flv').length, 1)
  })

  it("answers S3's 400 AccessControlListNotSupported on a bucket that enforces owner ownership", async (t) => {
    const { app, endpoint } = await adminApp(t)
    await createBucket(t, endpoint, { ownership: 'BucketOwnerEnforced', objects: ['a.mp4'] })
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const res = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: BUCKET, method: 'acl' } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'AccessControlListNotSupported')
  })

  it('answers 404 for an unknown identity or bucket', async (t) => {
    const { app } = await adminApp(t)
    const noOai = await call(app, 'POST', '/origin-access-identities/E000000000000/grants', { body: { bucket: BUCKET } })
    assert.equal(noOai.status, 404)
    assert.equal(noOai.body.code, 'NoSuchCloudFrontOriginAccessIdentity')
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const noBucket = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: 'no-such-bucket' } })
    assert.equal(noBucket.status, 404)
    assert.equal(noBucket.body.code, 'NoSuchBucket')
  })
})

describe('/v1/admin/origin-access-controls', () => {
  it('creates and lists origin access controls', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac', description: 'media bucket' } })
    assert.equal(res.status, 201)
    assert.deepEqual(
      { ...res.body, id: undefined, etag: undefined },
      { id: undefined, etag: undefined, name: 'media-oac', description: 'media bucket', signingProtocol: 'sigv4', signingBehavior: 'always', originType: 's3' },
    )
    const list = await call(app, 'GET', '/origin-access-controls', { headers: READ })
    assert.deepEqual(list.body.items.map((c: { id: string }) => c.id), [res.body.id])
  })

  it('answers a retry with an Idempotency-Key by the same control, and 409 without one', async (t) => {
    const { app } = await adminApp(t)
    const headers = { 'idempotency-key': 'oac-media' }
    const first = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac' }, headers })
    const replay = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac' }, headers })
    assert.deepEqual([replay.status, replay.body.id], [200, first.body.id])
    const other = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac', signingBehavior: 'never' }, headers })
    assert.equal(other.status, 409)
    const noKey = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac' } })
    assert.equal(noKey.status, 409)
    assert.equal(noKey.body.code, 'OriginAccessControlAlreadyExists')
  })

  it("grants the distribution read through the bucket policy, with CloudFront's service principal and AWS:SourceArn", async (t) => {
    const { app, emulator, endpoint } = await adminApp(t)
    await createBucket(t, endpoint, { policy: { Version: '2012-10-17', Statement: [UNRELATED] } })
    const oac = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac' } })
    const distribution = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN, originAccessControlId: oac.body.id } } })
    const body = { bucket: BUCKET, distributionId: distribution.body.id }
    const res = await call(app, 'POST', `/origin-access-controls/${oac.body.id}/grants`, { body })
    assert.equal(res.status, 200)
    assert.equal(res.body.changed, true)
    const policy = emulator.getBucketPolicy(BUCKET) as Policy
    assert.deepEqual(policy.Statement[0], UNRELATED)
    assert.deepEqual(policy.Statement[1], {
      Sid: res.body.statementId,
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${BUCKET}/*`,
      Condition: { StringEquals: { 'AWS:SourceArn': distribution.body.arn } },
    })
    const again = await call(app, 'POST', `/origin-access-controls/${oac.body.id}/grants`, { body })
    assert.equal(again.body.changed, false)
    assert.equal((emulator.getBucketPolicy(BUCKET) as Policy).Statement.length, 2)
  })

  it('answers 404 for an unknown control or distribution', async (t) => {
    const { app, endpoint } = await adminApp(t)
    await createBucket(t, endpoint)
    const oac = await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac' } })
    const noOac = await call(app, 'POST', '/origin-access-controls/E000000000000/grants', { body: { bucket: BUCKET, distributionId: 'E000000000000' } })
    assert.equal(noOac.body.code, 'NoSuchOriginAccessControl')
    const noDistribution = await call(app, 'POST', `/origin-access-controls/${oac.body.id}/grants`, { body: { bucket: BUCKET, distributionId: 'E000000000000' } })
    assert.equal(noDistribution.status, 404)
    assert.equal(noDistribution.body.code, 'NoSuchDistribution')
  })
})
