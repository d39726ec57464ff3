import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreateCloudFrontOriginAccessIdentityCommand } from '@aws-sdk/client-cloudfront'
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { rejectsWith, uniqueReference, useEmulator } from './helpers.js'

const OWNER_ID = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'

describe('S3 for grants', () => {
  const context = useEmulator()

  async function createIdentity() {
    const created = await context.cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({
      CloudFrontOriginAccessIdentityConfig: { CallerReference: uniqueReference('oai'), Comment: '' },
    }))
    return created.CloudFrontOriginAccessIdentity!
  }

  it('lists every bucket by name with its creation date and the owner (ListBuckets, what `aws s3 ls` calls)', async () => {
    const { s3 } = context
    await s3.send(new CreateBucketCommand({ Bucket: 'zz-listed-bucket' }))
    await s3.send(new CreateBucketCommand({ Bucket: 'aa-listed-bucket' }))
    const listed = await s3.send(new ListBucketsCommand({}))
    const names = (listed.Buckets ?? []).map((bucket) => bucket.Name)
    assert.deepEqual(names, [...names].sort(), 'buckets come back in name order')
    assert.ok(names.includes('aa-listed-bucket') && names.includes('zz-listed-bucket'), `both buckets are listed: ${names.join(', ')}`)
    assert.ok(listed.Buckets?.every((bucket) => bucket.CreationDate instanceof Date), 'every bucket has a creation date')
    assert.equal(listed.Owner?.ID, OWNER_ID)
    const prefixed = await s3.send(new ListBucketsCommand({ Prefix: 'zz-' }))
    assert.deepEqual(prefixed.Buckets?.map((bucket) => bucket.Name), ['zz-listed-bucket'])
  })

  it('puts and gets a bucket policy; a CanonicalUser principal comes back in its OAI ARN form', async () => {
    const { s3, emulator } = context
    const Bucket = 'policy-bucket'
    await s3.send(new CreateBucketCommand({ Bucket }))
    await rejectsWith(s3.send(new GetBucketPolicyCommand({ Bucket })), 'NoSuchBucketPolicy', 404)
    const identity = await createIdentity()
    const policy = {
      Version: '2012-10-17',
      Statement: [{
        Sid: 'OAIRead',
        Effect: 'Allow',
        Principal: { CanonicalUser: identity.S3CanonicalUserId },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${Bucket}/*`,
      }],
    }
    const put = await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(policy) }))
    assert.equal(put.$metadata.httpStatusCode, 204)
    const got = await s3.send(new GetBucketPolicyCommand({ Bucket }))
    const expectedPrincipal = { AWS: `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ${identity.Id}` }
    assert.deepEqual(JSON.parse(got.Policy!).Statement[0].Principal, expectedPrincipal)
    assert.deepEqual((emulator.getBucketPolicy(Bucket) as typeof policy).Statement[0]!.Principal, expectedPrincipal)
  })

  it('rejects malformed policies, unknown principals and foreign resources with MalformedPolicy', async () => {
    const { s3 } = context
    const Bucket = 'strict-bucket'
    await s3.send(new CreateBucketCommand({ Bucket }))
    const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${Bucket}/*` }
    await rejectsWith(s3.send(new PutBucketPolicyCommand({ Bucket, Policy: 'not json' })), 'MalformedPolicy', 400)
    await rejectsWith(s3.send(new PutBucketPolicyCommand({
      Bucket, Policy: JSON.stringify({ Statement: [{ ...statement, Principal: { CanonicalUser: 'f'.repeat(64) } }] }),
    })), 'MalformedPolicy', 400)
    await rejectsWith(s3.send(new PutBucketPolicyCommand({
      Bucket,
      Policy: JSON.stringify({ Statement: [{ ...statement, Principal: { AWS: 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity EMISSING00000' } }] }),
    })), 'MalformedPolicy', 400)
    await rejectsWith(s3.send(new PutBucketPolicyCommand({
      Bucket, Policy: JSON.stringify({ Statement: [{ ...statement, Principal: '*', Resource: 'arn:aws:s3:::other-bucket/*' }] }),
    })), 'MalformedPolicy', 400)
    await rejectsWith(s3.send(new GetBucketPolicyCommand({ Bucket: 'no-such-bucket' })), 'NoSuchBucket', 404)
  })

  it('gets and puts object ACLs by canonical user id once the bucket allows ACLs', async () => {
    const { s3, emulator } = context
    const Bucket = 'acl-bucket'
    await s3.send(new CreateBucketCommand({ Bucket, ObjectOwnership: 'BucketOwnerPreferred' }))
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/intro.mp4', Body: 'video bytes', ContentType: 'video/mp4' }))
    const initial = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'videos/intro.mp4' }))
    assert.equal(initial.Owner!.ID, OWNER_ID)
    assert.deepEqual(initial.Grants, [{ Grantee: { Type: 'CanonicalUser', ID: OWNER_ID, DisplayName: 'emulator' }, Permission: 'FULL_CONTROL' }])

    const identity = await createIdentity()
    await s3.send(new PutObjectAclCommand({
      Bucket,
      Key: 'videos/intro.mp4',
      AccessControlPolicy: {
        Owner: initial.Owner,
        Grants: [...initial.Grants!, { Grantee: { Type: 'CanonicalUser', ID: identity.S3CanonicalUserId }, Permission: 'READ' }],
      },
    }))
    const updated = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'videos/intro.mp4' }))
    assert.deepEqual(updated.Grants!.map((grant) => [grant.Grantee!.Type, grant.Grantee!.ID, grant.Permission]), [
      ['CanonicalUser', OWNER_ID, 'FULL_CONTROL'],
      ['CanonicalUser', identity.S3CanonicalUserId, 'READ'],
    ])

    // The header form replaces the whole ACL.
    await s3.send(new PutObjectAclCommand({ Bucket, Key: 'videos/intro.mp4', GrantRead: `id="${identity.S3CanonicalUserId}"` }))
    assert.deepEqual(emulator.getObjectAcl(Bucket, 'videos/intro.mp4'), [
      { grantee: { type: 'CanonicalUser', id: identity.S3CanonicalUserId }, permission: 'READ' },
    ])
    await rejectsWith(s3.send(new PutObjectAclCommand({ Bucket, Key: 'videos/intro.mp4', GrantRead: `id="${'0'.repeat(64)}"` })), 'InvalidArgument', 400)
    await rejectsWith(s3.send(new GetObjectAclCommand({ Bucket, Key: 'missing.mp4' })), 'NoSuchKey', 404)
  })

  it('refuses ACLs on a bucket with the default BucketOwnerEnforced ownership', async () => {
    const { s3 } = context
    const Bucket = 'enforced-bucket'
    await s3.send(new CreateBucketCommand({ Bucket }))
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a.txt', Body: 'a' }))
    const identity = await createIdentity()
    await rejectsWith(
      s3.send(new PutObjectAclCommand({ Bucket, Key: 'a.txt', GrantRead: `id="${identity.S3CanonicalUserId}"` })),
      'AccessControlListNotSupported',
      400,
    )
  })

  it('lists objects by prefix with ListObjectsV2, paging with continuation tokens', async () => {
    const { s3 } = context
    const Bucket = 'list-bucket'
    await s3.send(new CreateBucketCommand({ Bucket }))
    for (const Key of ['videos/a.mp4', 'videos/b.mp4', 'videos/c.mp4', 'images/x.png']) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }))
    }
    const first = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'videos/', MaxKeys: 2 }))
    assert.deepEqual(first.Contents!.map((object) => object.Key), ['videos/a.mp4', 'videos/b.mp4'])
    assert.equal(first.IsTruncated, true)
    assert.equal(first.Contents![0]!.Size, 'videos/a.mp4'.length)
    const second = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'videos/', ContinuationToken: first.NextContinuationToken }))
    assert.deepEqual(second.Contents!.map((object) => object.Key), ['videos/c.mp4'])
    assert.equal(second.IsTruncated, false)
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }))
    assert.deepEqual(grouped.CommonPrefixes!.map((prefix) => prefix.Prefix), ['images/', 'videos/'])
    await rejectsWith(s3.send(new ListObjectsV2Command({ Bucket: 'missing-bucket' })), 'NoSuchBucket', 404)
    await rejectsWith(s3.send(new PutObjectCommand({ Bucket: 'missing-bucket', Key: 'k', Body: 'v' })), 'NoSuchBucket', 404)
  })
})
