// `stateFile`: the emulator's world survives a restart (the walk-through's restart step), and a file
// that is not an emulator state stops the start with a coded error instead of an empty world.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import {
  CreateCloudFrontOriginAccessIdentityCommand,
  CreateDistributionWithTagsCommand,
  CreateInvalidationCommand,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  GetDistributionCommand,
  GetInvalidationCommand,
  GetKeyGroupCommand,
  ListDistributionsCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudfront'
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { createCloudFrontEmulator, type CloudFrontEmulatorOptions } from '../../src/dev/emulator/index.js'
import { EmulatorStateError } from '../../src/dev/emulator/state-file.js'
import { createCloudFrontClient, createS3Client, generatePublicKeyPem, rejectsWith, uniqueReference, webDistributionConfig } from './helpers.js'

function stateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-emulator-state-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** One emulator life: started on the file, stopped when `use` is done (or the test ends). */
async function withEmulator<T>(t: TestContext, options: CloudFrontEmulatorOptions, use: (clients: ReturnType<typeof clientsFor>) => Promise<T>): Promise<T> {
  const emulator = createCloudFrontEmulator(options)
  t.after(() => emulator.close())
  const clients = clientsFor(await emulator.listen(), emulator)
  try {
    return await use(clients)
  } finally {
    clients.cloudfront.destroy()
    clients.s3.destroy()
    await emulator.close()
  }
}

function clientsFor(endpoint: string, emulator: ReturnType<typeof createCloudFrontEmulator>) {
  return { endpoint, emulator, cloudfront: createCloudFrontClient(endpoint), s3: createS3Client(endpoint) }
}

describe('the emulator state file', () => {
  it('keeps every resource, invalidation, tag, bucket, policy, object, page marker and the clock across a restart', async (t) => {
    const stateFile = join(stateDir(t), 'nested', 'emulator.json')
    const options = { stateFile, deploySeconds: 60 }
    const before = await withEmulator(t, options, async ({ cloudfront, s3, emulator }) => {
      const oai = (await cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({
        CloudFrontOriginAccessIdentityConfig: { CallerReference: uniqueReference('oai'), Comment: 'kept' },
      }))).CloudFrontOriginAccessIdentity!
      const created = await cloudfront.send(new CreateDistributionWithTagsCommand({
        DistributionConfigWithTags: { DistributionConfig: webDistributionConfig(), Tags: { Items: [{ Key: 'team', Value: 'media' }] } },
      }))
      const second = await cloudfront.send(new CreateDistributionWithTagsCommand({
        DistributionConfigWithTags: { DistributionConfig: webDistributionConfig(), Tags: { Items: [] } },
      }))
      const invalidation = await cloudfront.send(new CreateInvalidationCommand({
        DistributionId: created.Distribution!.Id,
        InvalidationBatch: { CallerReference: uniqueReference('inv'), Paths: { Quantity: 1, Items: ['/videos/*'] } },
      }))
      const publicKey = await cloudfront.send(new CreatePublicKeyCommand({
        PublicKeyConfig: { CallerReference: uniqueReference('key'), Name: 'kept-key', EncodedKey: generatePublicKeyPem() },
      }))
      const keyGroup = await cloudfront.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'kept-group', Items: [publicKey.PublicKey!.Id!] } }))
      await s3.send(new CreateBucketCommand({ Bucket: 'kept-bucket', ObjectOwnership: 'ObjectWriter' }))
      const object = await s3.send(new PutObjectCommand({
        Bucket: 'kept-bucket', Key: 'videos/intro.mp4', Body: Buffer.from([0, 1, 2, 255]), ContentType: 'video/mp4',
        GrantRead: `id="${oai.S3CanonicalUserId}"`,
      }))
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ${oai.Id}` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::kept-bucket/videos/*' }] }
      await s3.send(new PutBucketPolicyCommand({ Bucket: 'kept-bucket', Policy: JSON.stringify(policy) }))
      emulator.advanceClock(30)
      return { oai, created, second, invalidation, keyGroup, objectEtag: object.ETag, policy }
    })

    const file = JSON.parse(readFileSync(stateFile, 'utf8'))
    assert.equal(file.format, 'cf-signer-emulator-state')
    assert.equal(file.version, 1)
    assert.deepEqual(readdirSync(join(stateFile, '..')), ['emulator.json'], 'no temporary file is left beside the state file')

    await withEmulator(t, options, async ({ cloudfront, s3, emulator }) => {
      const id = before.created.Distribution!.Id!
      const got = await cloudfront.send(new GetDistributionCommand({ Id: id }))
      assert.equal(got.ETag, before.created.ETag, 'the same config version')
      assert.equal(got.Distribution!.DomainName, before.created.Distribution!.DomainName)
      assert.equal(got.Distribution!.Status, 'InProgress', 'half of the 60 s deploy has passed on the kept clock')
      emulator.advanceClock(30)
      assert.equal((await cloudfront.send(new GetDistributionCommand({ Id: id }))).Distribution!.Status, 'Deployed')

      const page = await cloudfront.send(new ListDistributionsCommand({ Marker: id }))
      assert.deepEqual(page.DistributionList!.Items!.map((item) => item.Id), [before.second.Distribution!.Id], 'a page marker issued before the restart still works')
      const tags = await cloudfront.send(new ListTagsForResourceCommand({ Resource: before.created.Distribution!.ARN }))
      assert.deepEqual(tags.Tags!.Items, [{ Key: 'team', Value: 'media' }])
      const invalidation = await cloudfront.send(new GetInvalidationCommand({ DistributionId: id, Id: before.invalidation.Invalidation!.Id }))
      assert.deepEqual(invalidation.Invalidation!.InvalidationBatch!.Paths!.Items, ['/videos/*'])
      const keyGroup = await cloudfront.send(new GetKeyGroupCommand({ Id: before.keyGroup.KeyGroup!.Id }))
      assert.equal(keyGroup.ETag, before.keyGroup.ETag)

      assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets!.map((bucket) => bucket.Name), ['kept-bucket'])
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'kept-bucket' }))
      assert.deepEqual(listed.Contents!.map((object) => [object.Key, object.ETag, object.Size]), [['videos/intro.mp4', before.objectEtag, 4]])
      const acl = await s3.send(new GetObjectAclCommand({ Bucket: 'kept-bucket', Key: 'videos/intro.mp4' }))
      assert.ok(acl.Grants!.some((grant) => grant.Grantee?.ID === before.oai.S3CanonicalUserId && grant.Permission === 'READ'), 'the OAI read grant is kept')
      const policy = await s3.send(new GetBucketPolicyCommand({ Bucket: 'kept-bucket' }))
      assert.deepEqual(JSON.parse(policy.Policy!), before.policy)
    })
  })

  it('starts an empty world when the file is missing, writes it at the first change, and not on reads or refused writes', async (t) => {
    const stateFile = join(stateDir(t), 'emulator.json')
    await withEmulator(t, { stateFile }, async ({ s3, endpoint }) => {
      assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], [])
      assert.equal(existsSync(stateFile), false, 'a read writes nothing')
      await s3.send(new CreateBucketCommand({ Bucket: 'first-bucket' }))
      assert.equal(existsSync(stateFile), true, 'the first change writes the file')
      rmSync(stateFile)
      await rejectsWith(s3.send(new CreateBucketCommand({ Bucket: 'first-bucket' })), 'BucketAlreadyOwnedByYou', 409)
      assert.equal(existsSync(stateFile), false, 'a refused write writes nothing')
      const reset = await fetch(`${endpoint}/__emulator/reset`, { method: 'POST' })
      assert.equal(reset.status, 200)
      assert.equal(existsSync(stateFile), true, 'a reset is a change')
    })
    await withEmulator(t, { stateFile }, async ({ s3 }) => {
      assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], [], 'the reset world is what comes back')
    })
  })

  it('refuses a file that is not an emulator state with EMULATOR_STATE_INVALID, naming the file', (t) => {
    const dir = stateDir(t)
    const cases = {
      'not-json.json': 'not json',
      'other-format.json': JSON.stringify({ format: 'something-else', version: 1, state: {} }),
      'newer-version.json': JSON.stringify({ format: 'cf-signer-emulator-state', version: 2, state: {} }),
      'no-collections.json': JSON.stringify({ format: 'cf-signer-emulator-state', version: 1, state: { clockOffsetMs: 0, buckets: [] } }),
    }
    for (const [name, text] of Object.entries(cases)) {
      const stateFile = join(dir, name)
      writeFileSync(stateFile, text)
      assert.throws(
        () => createCloudFrontEmulator({ stateFile }),
        (error: unknown) => error instanceof EmulatorStateError && error.code === 'EMULATOR_STATE_INVALID' && error.message.includes(stateFile),
        name,
      )
    }
  })
})
