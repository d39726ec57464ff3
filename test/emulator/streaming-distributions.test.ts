import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateCloudFrontOriginAccessIdentityCommand,
  CreateDistributionCommand,
  CreateStreamingDistributionCommand,
  CreateStreamingDistributionWithTagsCommand,
  DeleteStreamingDistributionCommand,
  GetStreamingDistributionCommand,
  GetStreamingDistributionConfigCommand,
  ListStreamingDistributionsCommand,
  type StreamingDistributionConfig,
  UpdateStreamingDistributionCommand,
  waitUntilStreamingDistributionDeployed,
} from '@aws-sdk/client-cloudfront'
import { rejectsWith, uniqueReference, useEmulator, webDistributionConfig } from './helpers.js'

function streamingConfig(overrides: Partial<StreamingDistributionConfig> = {}): StreamingDistributionConfig {
  return {
    CallerReference: uniqueReference('rtmp'),
    S3Origin: { DomainName: 'media.s3.amazonaws.com', OriginAccessIdentity: '' },
    Comment: 'legacy streaming',
    TrustedSigners: { Enabled: true, Quantity: 1, Items: ['self'] },
    Enabled: true,
    ...overrides,
  }
}

describe('streaming (RTMP) distributions, full mode', () => {
  const context = useEmulator({ deploySeconds: 60 })

  it('runs the whole lifecycle: create, get, get config, list, disable, wait, delete', async () => {
    const { cloudfront, emulator } = context
    const oai = await cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({
      CloudFrontOriginAccessIdentityConfig: { CallerReference: uniqueReference('oai'), Comment: 'media' },
    }))
    const OriginAccessIdentity = `origin-access-identity/cloudfront/${oai.CloudFrontOriginAccessIdentity!.Id}`
    const created = await cloudfront.send(new CreateStreamingDistributionCommand({
      StreamingDistributionConfig: streamingConfig({ S3Origin: { DomainName: 'media.s3.amazonaws.com', OriginAccessIdentity } }),
    }))
    const streaming = created.StreamingDistribution!
    assert.equal(created.$metadata.httpStatusCode, 201)
    assert.equal(created.Location, `https://cloudfront.amazonaws.com/2020-05-31/streaming-distribution/${streaming.Id}`)
    assert.match(streaming.DomainName!, /^s[a-z0-9]{13}\.cloudfront\.net$/)
    assert.equal(streaming.ARN, `arn:aws:cloudfront::123456789012:streaming-distribution/${streaming.Id}`)
    assert.equal(streaming.Status, 'InProgress')
    assert.deepEqual(streaming.ActiveTrustedSigners, {
      Enabled: true,
      Quantity: 1,
      Items: [{ AwsAccountNumber: 'self', KeyPairIds: { Quantity: 0 } }],
    })
    assert.equal(streaming.StreamingDistributionConfig!.PriceClass, 'PriceClass_All')

    const Id = streaming.Id
    const got = await cloudfront.send(new GetStreamingDistributionCommand({ Id }))
    assert.equal(got.ETag, created.ETag)
    assert.equal(got.StreamingDistribution!.StreamingDistributionConfig!.S3Origin!.OriginAccessIdentity, OriginAccessIdentity)
    const listed = await cloudfront.send(new ListStreamingDistributionsCommand({}))
    const summary = listed.StreamingDistributionList!.Items!.find((item) => item.Id === Id)
    assert.equal(summary?.S3Origin?.DomainName, 'media.s3.amazonaws.com')
    assert.equal(summary?.TrustedSigners?.Items?.[0], 'self')

    const current = await cloudfront.send(new GetStreamingDistributionConfigCommand({ Id }))
    await rejectsWith(cloudfront.send(new UpdateStreamingDistributionCommand({
      Id, StreamingDistributionConfig: current.StreamingDistributionConfig,
    })), 'InvalidIfMatchVersion', 400)
    const disabled = await cloudfront.send(new UpdateStreamingDistributionCommand({
      Id,
      IfMatch: current.ETag,
      StreamingDistributionConfig: { ...current.StreamingDistributionConfig!, Enabled: false },
    }))
    assert.notEqual(disabled.ETag, current.ETag)
    await rejectsWith(cloudfront.send(new DeleteStreamingDistributionCommand({ Id, IfMatch: current.ETag })), 'PreconditionFailed', 412)
    await rejectsWith(cloudfront.send(new DeleteStreamingDistributionCommand({ Id, IfMatch: disabled.ETag })), 'StreamingDistributionNotDisabled', 409)

    void emulator.nextCall('GetStreamingDistribution').then(() => emulator.advanceClock(60))
    const waited = await waitUntilStreamingDistributionDeployed({ client: cloudfront, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { Id })
    assert.equal(waited.state, 'SUCCESS')
    await cloudfront.send(new DeleteStreamingDistributionCommand({ Id, IfMatch: disabled.ETag }))
    await rejectsWith(cloudfront.send(new GetStreamingDistributionCommand({ Id })), 'NoSuchStreamingDistribution', 404)
  })

  it('rejects a reused CallerReference with StreamingDistributionAlreadyExists', async () => {
    const { cloudfront } = context
    const config = streamingConfig()
    const first = await cloudfront.send(new CreateStreamingDistributionCommand({ StreamingDistributionConfig: config }))
    const error = await rejectsWith(
      cloudfront.send(new CreateStreamingDistributionCommand({ StreamingDistributionConfig: config })),
      'StreamingDistributionAlreadyExists',
      409,
    )
    assert.match(error.message, new RegExp(`Already exists: ${first.StreamingDistribution!.Id}$`))
  })

  it('shares CNAME uniqueness with web distributions and validates trusted signers and the OAI', async () => {
    const { cloudfront } = context
    const alias = `${uniqueReference('stream').toLowerCase()}.example.com`
    await cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({ Aliases: { Quantity: 1, Items: [alias] } }),
    }))
    await rejectsWith(cloudfront.send(new CreateStreamingDistributionCommand({
      StreamingDistributionConfig: streamingConfig({ Aliases: { Quantity: 1, Items: [alias] } }),
    })), 'CNAMEAlreadyExists', 409)
    await rejectsWith(cloudfront.send(new CreateStreamingDistributionCommand({
      StreamingDistributionConfig: streamingConfig({ TrustedSigners: { Enabled: true, Quantity: 1, Items: ['not-an-account'] } }),
    })), 'TrustedSignerDoesNotExist', 400)
    await rejectsWith(cloudfront.send(new CreateStreamingDistributionCommand({
      StreamingDistributionConfig: streamingConfig({
        S3Origin: { DomainName: 'media.s3.amazonaws.com', OriginAccessIdentity: 'origin-access-identity/cloudfront/EMISSING00000' },
      }),
    })), 'InvalidOriginAccessIdentity', 400)
  })

  it('creates with tags', async () => {
    const { cloudfront } = context
    const created = await cloudfront.send(new CreateStreamingDistributionWithTagsCommand({
      StreamingDistributionConfigWithTags: { StreamingDistributionConfig: streamingConfig(), Tags: { Items: [{ Key: 'legacy', Value: 'yes' }] } },
    }))
    assert.equal(created.$metadata.httpStatusCode, 201)
    assert.match(created.StreamingDistribution!.Id!, /^E[A-Z0-9]{13}$/)
  })
})

describe('streaming (RTMP) distributions, post-2020 mode', () => {
  const context = useEmulator({ rtmpMode: 'post-2020' })

  it('refuses creation, lists nothing and answers NoSuchStreamingDistribution', async () => {
    const { cloudfront } = context
    await rejectsWith(cloudfront.send(new CreateStreamingDistributionCommand({ StreamingDistributionConfig: streamingConfig() })), 'AccessDenied', 403)
    const listed = await cloudfront.send(new ListStreamingDistributionsCommand({}))
    assert.equal(listed.StreamingDistributionList!.Quantity, 0)
    assert.equal(listed.StreamingDistributionList!.Items, undefined)
    await rejectsWith(cloudfront.send(new GetStreamingDistributionCommand({ Id: 'EDFDVBD632BHDS5' })), 'NoSuchStreamingDistribution', 404)
    await rejectsWith(cloudfront.send(new DeleteStreamingDistributionCommand({ Id: 'EDFDVBD632BHDS5', IfMatch: 'E1' })), 'NoSuchStreamingDistribution', 404)
  })
})
