import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateDistributionCommand,
  CreateInvalidationCommand,
  GetDistributionCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
  waitUntilInvalidationCompleted,
} from '@aws-sdk/client-cloudfront'
import { rejectsWith, uniqueReference, useEmulator, webDistributionConfig } from './helpers.js'

describe('invalidations', () => {
  const context = useEmulator({ invalidationSeconds: 30 })

  async function createDistribution(): Promise<string> {
    const created = await context.cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    return created.Distribution!.Id!
  }

  it('creates, gets and lists invalidations; they complete after invalidationSeconds', async () => {
    const { cloudfront, emulator } = context
    const DistributionId = await createDistribution()
    const batch = { CallerReference: uniqueReference('inv'), Paths: { Quantity: 2, Items: ['/index.html', '/videos/*'] } }
    const created = await cloudfront.send(new CreateInvalidationCommand({ DistributionId, InvalidationBatch: batch }))
    const Id = created.Invalidation!.Id!
    assert.equal(created.$metadata.httpStatusCode, 201)
    assert.match(Id, /^I[A-Z0-9]{13}$/)
    assert.equal(created.Location, `https://cloudfront.amazonaws.com/2020-05-31/distribution/${DistributionId}/invalidation/${Id}`)
    assert.equal(created.Invalidation!.Status, 'InProgress')
    assert.deepEqual(created.Invalidation!.InvalidationBatch!.Paths!.Items, ['/index.html', '/videos/*'])

    const distribution = await cloudfront.send(new GetDistributionCommand({ Id: DistributionId }))
    assert.equal(distribution.Distribution!.InProgressInvalidationBatches, 1)
    const listed = await cloudfront.send(new ListInvalidationsCommand({ DistributionId }))
    assert.deepEqual(listed.InvalidationList!.Items!.map((item) => [item.Id, item.Status]), [[Id, 'InProgress']])

    void emulator.nextCall('GetInvalidation').then(() => emulator.advanceClock(30))
    const waited = await waitUntilInvalidationCompleted({ client: cloudfront, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { DistributionId, Id })
    assert.equal(waited.state, 'SUCCESS')
    assert.equal((await cloudfront.send(new GetInvalidationCommand({ DistributionId, Id }))).Invalidation!.Status, 'Completed')
    assert.equal((await cloudfront.send(new GetDistributionCommand({ Id: DistributionId }))).Distribution!.InProgressInvalidationBatches, 0)
  })

  it('replays the same CallerReference with the same paths and rejects it with different paths', async () => {
    const { cloudfront } = context
    const DistributionId = await createDistribution()
    const CallerReference = uniqueReference('inv')
    const first = await cloudfront.send(new CreateInvalidationCommand({
      DistributionId, InvalidationBatch: { CallerReference, Paths: { Quantity: 1, Items: ['/a'] } },
    }))
    const again = await cloudfront.send(new CreateInvalidationCommand({
      DistributionId, InvalidationBatch: { CallerReference, Paths: { Quantity: 1, Items: ['/a'] } },
    }))
    assert.equal(again.Invalidation!.Id, first.Invalidation!.Id)
    const error = await rejectsWith(cloudfront.send(new CreateInvalidationCommand({
      DistributionId, InvalidationBatch: { CallerReference, Paths: { Quantity: 1, Items: ['/b'] } },
    })), 'InvalidationBatchAlreadyExists')
    assert.equal(error.$fault, 'client')
  })

  it('validates paths and parents, and limits wildcards in progress', async () => {
    const { cloudfront } = context
    const DistributionId = await createDistribution()
    const batch = (Items: string[]) => ({ CallerReference: uniqueReference('inv'), Paths: { Quantity: Items.length, Items } })
    await rejectsWith(cloudfront.send(new CreateInvalidationCommand({ DistributionId, InvalidationBatch: batch(['no-slash']) })), 'InvalidArgument', 400)
    await rejectsWith(cloudfront.send(new CreateInvalidationCommand({ DistributionId, InvalidationBatch: batch(['/a*b']) })), 'InvalidArgument', 400)
    await rejectsWith(cloudfront.send(new CreateInvalidationCommand({ DistributionId: 'ENOSUCHDIST000', InvalidationBatch: batch(['/a']) })), 'NoSuchDistribution', 404)
    await rejectsWith(cloudfront.send(new GetInvalidationCommand({ DistributionId, Id: 'INOSUCHINVAL00' })), 'NoSuchInvalidation', 404)
    await rejectsWith(cloudfront.send(new CreateInvalidationCommand({
      DistributionId, InvalidationBatch: batch(Array.from({ length: 3001 }, (_, index) => `/file-${index}`)),
    })), 'BatchTooLarge', 413)
    await cloudfront.send(new CreateInvalidationCommand({ DistributionId, InvalidationBatch: batch(Array.from({ length: 15 }, (_, index) => `/dir-${index}/*`)) }))
    await rejectsWith(cloudfront.send(new CreateInvalidationCommand({ DistributionId, InvalidationBatch: batch(['/more/*']) })), 'TooManyInvalidationsInProgress', 400)
  })

  it('pages ListInvalidations per distribution', async () => {
    const { cloudfront } = context
    const DistributionId = await createDistribution()
    const ids: string[] = []
    for (const path of ['/1', '/2', '/3']) {
      const created = await cloudfront.send(new CreateInvalidationCommand({
        DistributionId, InvalidationBatch: { CallerReference: uniqueReference('inv'), Paths: { Quantity: 1, Items: [path] } },
      }))
      ids.push(created.Invalidation!.Id!)
    }
    const first = await cloudfront.send(new ListInvalidationsCommand({ DistributionId, MaxItems: 2 }))
    assert.equal(first.InvalidationList!.IsTruncated, true)
    assert.equal(first.InvalidationList!.NextMarker, ids[1])
    const second = await cloudfront.send(new ListInvalidationsCommand({ DistributionId, MaxItems: 2, Marker: first.InvalidationList!.NextMarker }))
    assert.deepEqual(second.InvalidationList!.Items!.map((item) => item.Id), [ids[2]])
    assert.equal(second.InvalidationList!.IsTruncated, false)
  })
})
