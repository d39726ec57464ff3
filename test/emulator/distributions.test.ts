import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateDistributionCommand,
  CreateDistributionWithTagsCommand,
  DeleteDistributionCommand,
  DistributionNotDisabled,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  ListTagsForResourceCommand,
  paginateListDistributions,
  UpdateDistributionCommand,
  waitUntilDistributionDeployed,
} from '@aws-sdk/client-cloudfront'
import { rejectsWith, uniqueReference, useEmulator, webDistributionConfig } from './helpers.js'

const CUSTOM_ORIGIN_XML = `<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>blog-20240501</CallerReference>
 <Origins><Quantity>1</Quantity><Items><Origin><Id>blog</Id><DomainName>blog.example.com</DomainName>
  <CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>match-viewer</OriginProtocolPolicy></CustomOriginConfig>
 </Origin></Items></Origins>
 <DefaultCacheBehavior><TargetOriginId>blog</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy>
  <ForwardedValues><QueryString>false</QueryString><Cookies><Forward>none</Forward></Cookies></ForwardedValues><MinTTL>0</MinTTL>
 </DefaultCacheBehavior><Comment>blog &amp; news</Comment><Enabled>true</Enabled></DistributionConfig>`

describe('web distributions', () => {
  const context = useEmulator({ deploySeconds: 300 })

  it('creates, reads, updates and deletes a distribution through the SDK', async () => {
    const { cloudfront, emulator } = context
    const created = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig({ Comment: 'round trip' }) }))
    assert.equal(created.$metadata.httpStatusCode, 201)
    const distribution = created.Distribution!
    assert.match(distribution.Id!, /^E[A-Z0-9]{13}$/)
    assert.match(created.ETag!, /^E[A-Z0-9]{13}$/)
    assert.equal(created.Location, `https://cloudfront.amazonaws.com/2020-05-31/distribution/${distribution.Id}`)
    assert.match(distribution.DomainName!, /^d[a-z0-9]{13}\.cloudfront\.net$/)
    assert.equal(distribution.ARN, `arn:aws:cloudfront::123456789012:distribution/${distribution.Id}`)
    assert.equal(distribution.Status, 'InProgress')
    assert.match(created.$metadata.requestId!, /^[0-9a-f-]{36}$/)

    const got = await cloudfront.send(new GetDistributionCommand({ Id: distribution.Id }))
    assert.equal(got.ETag, created.ETag)
    assert.equal(got.Distribution!.DistributionConfig!.Comment, 'round trip')
    assert.ok(got.Distribution!.LastModifiedTime instanceof Date, 'got.Distribution!.LastModifiedTime instanceof Date')
    // Defaults CloudFront fills in, and lists with Quantity 0 come back without Items.
    const config = got.Distribution!.DistributionConfig!
    assert.equal(config.PriceClass, 'PriceClass_All')
    assert.deepEqual(config.Aliases, { Quantity: 0 })
    assert.equal(config.Origins!.Items![0]!.ConnectionAttempts, 3)
    assert.deepEqual(config.DefaultCacheBehavior!.AllowedMethods!.Items, ['HEAD', 'GET'])

    const fromConfig = await cloudfront.send(new GetDistributionConfigCommand({ Id: distribution.Id }))
    assert.equal(fromConfig.ETag, created.ETag)
    const updated = await cloudfront.send(new UpdateDistributionCommand({
      Id: distribution.Id,
      IfMatch: fromConfig.ETag,
      DistributionConfig: { ...fromConfig.DistributionConfig!, Enabled: false, Comment: 'disabled' },
    }))
    assert.notEqual(updated.ETag, created.ETag)
    assert.equal(updated.Distribution!.Status, 'InProgress')
    assert.equal(updated.Distribution!.DistributionConfig!.Comment, 'disabled')

    await rejectsWith(cloudfront.send(new DeleteDistributionCommand({ Id: distribution.Id, IfMatch: updated.ETag })), 'DistributionNotDisabled', 409)
    emulator.advanceClock(300)
    const deleted = await cloudfront.send(new DeleteDistributionCommand({ Id: distribution.Id, IfMatch: updated.ETag }))
    assert.equal(deleted.$metadata.httpStatusCode, 204)
    await rejectsWith(cloudfront.send(new GetDistributionCommand({ Id: distribution.Id })), 'NoSuchDistribution', 404)
  })

  it('enforces If-Match: missing is InvalidIfMatchVersion, stale is PreconditionFailed, existence is checked first', async () => {
    const { cloudfront } = context
    const created = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    const Id = created.Distribution!.Id
    const DistributionConfig = created.Distribution!.DistributionConfig!
    await rejectsWith(cloudfront.send(new UpdateDistributionCommand({ Id, DistributionConfig })), 'InvalidIfMatchVersion', 400)
    await rejectsWith(cloudfront.send(new UpdateDistributionCommand({ Id, IfMatch: 'E0000000000000', DistributionConfig })), 'PreconditionFailed', 412)
    await rejectsWith(cloudfront.send(new DeleteDistributionCommand({ Id })), 'InvalidIfMatchVersion', 400)
    await rejectsWith(cloudfront.send(new DeleteDistributionCommand({ Id: 'ENOSUCHDIST000' })), 'NoSuchDistribution', 404)
    const first = await cloudfront.send(new UpdateDistributionCommand({ Id, IfMatch: created.ETag, DistributionConfig }))
    // The ETag that was current before the update is now stale.
    await rejectsWith(cloudfront.send(new UpdateDistributionCommand({ Id, IfMatch: created.ETag, DistributionConfig })), 'PreconditionFailed', 412)
    const error = await rejectsWith(cloudfront.send(new DeleteDistributionCommand({ Id, IfMatch: first.ETag })), 'DistributionNotDisabled', 409)
    assert.ok(error instanceof DistributionNotDisabled, 'error instanceof DistributionNotDisabled')
    assert.equal(error.$fault, 'client')
  })

  it('reports Deployed only after deploySeconds on the emulator clock, and an update restarts the deployment', async () => {
    const { cloudfront, emulator } = context
    const created = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    const Id = created.Distribution!.Id
    const status = async () => (await cloudfront.send(new GetDistributionCommand({ Id }))).Distribution!.Status
    emulator.advanceClock(299)
    assert.equal(await status(), 'InProgress')
    emulator.advanceClock(1)
    assert.equal(await status(), 'Deployed')
    const current = await cloudfront.send(new GetDistributionConfigCommand({ Id }))
    await cloudfront.send(new UpdateDistributionCommand({ Id, IfMatch: current.ETag, DistributionConfig: current.DistributionConfig }))
    assert.equal(await status(), 'InProgress')
  })

  it('lets waitUntilDistributionDeployed succeed once the clock passes the deploy delay', async () => {
    const { cloudfront, emulator } = context
    const created = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    void emulator.nextCall('GetDistribution').then(() => emulator.advanceClock(300))
    const result = await waitUntilDistributionDeployed({ client: cloudfront, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { Id: created.Distribution!.Id })
    assert.equal(result.state, 'SUCCESS')
  })

  it('rejects a reused CallerReference with DistributionAlreadyExists naming the existing Id', async () => {
    const { cloudfront } = context
    const config = webDistributionConfig()
    const first = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: config }))
    const error = await rejectsWith(cloudfront.send(new CreateDistributionCommand({ DistributionConfig: config })), 'DistributionAlreadyExists', 409)
    assert.match(error.message, new RegExp(`Already exists: ${first.Distribution!.Id}$`))
  })

  it('rejects an alias that another distribution already uses with CNAMEAlreadyExists, also on update', async () => {
    const { cloudfront } = context
    const alias = `${uniqueReference('cdn').toLowerCase()}.example.com`
    await cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({ Aliases: { Quantity: 1, Items: [alias] } }),
    }))
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({ Aliases: { Quantity: 1, Items: [alias.toUpperCase()] } }),
    })), 'CNAMEAlreadyExists', 409)
    const other = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    await rejectsWith(cloudfront.send(new UpdateDistributionCommand({
      Id: other.Distribution!.Id,
      IfMatch: other.ETag,
      DistributionConfig: { ...other.Distribution!.DistributionConfig!, Aliases: { Quantity: 1, Items: [alias] } },
    })), 'CNAMEAlreadyExists', 409)
  })

  it('validates the config: quantities, origin references, required members, enums and immutable CallerReference', async () => {
    const { cloudfront } = context
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({ Aliases: { Quantity: 2, Items: ['a.example.com'] } }),
    })), 'InconsistentQuantities', 400)
    const base = webDistributionConfig()
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: { ...base, DefaultCacheBehavior: { ...base.DefaultCacheBehavior!, TargetOriginId: 'missing' } },
    })), 'NoSuchOrigin', 404)
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: { ...base, DefaultCacheBehavior: { ...base.DefaultCacheBehavior!, ViewerProtocolPolicy: 'sometimes' as never } },
    })), 'InvalidArgument', 400)
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({
        Origins: { Quantity: 1, Items: [{ Id: 's3-mybucket', DomainName: 'mybucket.s3.amazonaws.com', S3OriginConfig: { OriginAccessIdentity: 'origin-access-identity/cloudfront/ENOTANOAI0000' } }] },
      }),
    })), 'InvalidOriginAccessIdentity', 400)
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({ DistributionConfig: { ...base, Comment: 'x'.repeat(129) } })), 'InvalidArgument', 400)
    const created = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: base }))
    await rejectsWith(cloudfront.send(new UpdateDistributionCommand({
      Id: created.Distribution!.Id,
      IfMatch: created.ETag,
      DistributionConfig: { ...created.Distribution!.DistributionConfig!, CallerReference: 'changed' },
    })), 'IllegalUpdate', 400)
  })

  it('pages ListDistributions with MaxItems and NextMarker, and the SDK paginator walks every page', async () => {
    const { cloudfront, emulator } = context
    emulator.reset()
    const ids: string[] = []
    for (let index = 0; index < 5; index += 1) {
      ids.push((await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))).Distribution!.Id!)
    }
    const first = await cloudfront.send(new ListDistributionsCommand({ MaxItems: 2 }))
    assert.equal(first.DistributionList!.IsTruncated, true)
    assert.equal(first.DistributionList!.Quantity, 2)
    assert.equal(first.DistributionList!.Marker, '')
    assert.equal(first.DistributionList!.NextMarker, ids[1])
    assert.deepEqual(first.DistributionList!.Items!.map((item) => item.Id), ids.slice(0, 2))
    assert.equal(first.DistributionList!.Items![0]!.Origins!.Items![0]!.DomainName, 'mybucket.s3.amazonaws.com')
    const last = await cloudfront.send(new ListDistributionsCommand({ Marker: ids[3], MaxItems: 2 }))
    assert.equal(last.DistributionList!.IsTruncated, false)
    assert.equal(last.DistributionList!.NextMarker, undefined)
    assert.deepEqual(last.DistributionList!.Items!.map((item) => item.Id), [ids[4]])
    const paged: string[] = []
    for await (const page of paginateListDistributions({ client: cloudfront, pageSize: 2 }, {})) {
      paged.push(...(page.DistributionList!.Items ?? []).map((item) => item.Id!))
    }
    assert.deepEqual(paged, ids)
    await rejectsWith(cloudfront.send(new ListDistributionsCommand({ MaxItems: 'many' as never })), 'InvalidArgument', 400)
  })

  it('stores tags sent with CreateDistributionWithTags', async () => {
    const { cloudfront } = context
    const created = await cloudfront.send(new CreateDistributionWithTagsCommand({
      DistributionConfigWithTags: {
        DistributionConfig: webDistributionConfig(),
        Tags: { Items: [{ Key: 'team', Value: 'video' }] },
      },
    }))
    const tags = await cloudfront.send(new ListTagsForResourceCommand({ Resource: created.Distribution!.ARN }))
    assert.deepEqual(tags.Tags!.Items, [{ Key: 'team', Value: 'video' }])
    await rejectsWith(cloudfront.send(new CreateDistributionWithTagsCommand({
      DistributionConfigWithTags: { DistributionConfig: webDistributionConfig(), Tags: { Items: [{ Key: '' }] } },
    })), 'InvalidTagging', 400)
  })

  it('accepts a raw REST body without Content-Type and answers in the wire format', async () => {
    const { endpoint } = context
    const response = await fetch(`${endpoint}/2020-05-31/distribution`, { method: 'POST', body: CUSTOM_ORIGIN_XML })
    assert.equal(response.status, 201)
    assert.equal(response.headers.get('content-type'), 'text/xml')
    assert.match(response.headers.get('x-amzn-requestid')!, /^[0-9a-f-]{36}$/)
    const xml = await response.text()
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Distribution xmlns="http:\/\/cloudfront.amazonaws.com\/doc\/2020-05-31\/">/)
    assert.match(xml, /<Comment>blog &amp; news<\/Comment>/)
    assert.match(xml, /<Aliases><Quantity>0<\/Quantity><\/Aliases>/)
    assert.doesNotMatch(xml, /<Items\s*\/>|<Items><\/Items>/)
    assert.match(xml, /<Origins><Quantity>1<\/Quantity><Items><Origin><Id>blog<\/Id>/)

    const empty = await fetch(`${endpoint}/2020-05-31/distribution`, { method: 'POST' })
    assert.equal(empty.status, 400)
    assert.match(await empty.text(), /<ErrorResponse xmlns="http:\/\/cloudfront.amazonaws.com\/doc\/2020-05-31\/"><Error><Type>Sender<\/Type><Code>MissingBody<\/Code>/)
  })
})
