import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateDistributionCommand,
  GetDistributionCommand,
  ListDistributionsCommand,
} from '@aws-sdk/client-cloudfront'
import { createCloudFrontClient, rejectsWith, useEmulator, webDistributionConfig } from './helpers.js'

describe('fault injection', () => {
  const context = useEmulator()

  it('lets the SDK (maxAttempts 3) recover from two Throttling answers', async () => {
    const { emulator, endpoint } = context
    const client = createCloudFrontClient(endpoint, { maxAttempts: 3 })
    emulator.injectFault({ operation: 'CreateDistribution', code: 'Throttling', status: 400, message: 'Rate exceeded', times: 2 })
    const created = await client.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    assert.equal(created.$metadata.attempts, 3)
    assert.equal(created.$metadata.httpStatusCode, 201)
    client.destroy()
  })

  it('surfaces Throttling to a client with maxAttempts 1, then serves the next call normally', async () => {
    const { cloudfront, emulator } = context
    emulator.injectFault({ operation: 'ListDistributions', code: 'Throttling' })
    const error = await rejectsWith(cloudfront.send(new ListDistributionsCommand({})), 'Throttling', 400)
    assert.equal(error.message, 'Rate exceeded')
    assert.equal(error.$fault, 'client')
    const listed = await cloudfront.send(new ListDistributionsCommand({}))
    assert.equal(listed.$metadata.httpStatusCode, 200)
  })

  it('only fails the named operation, with a 503 counted as a server fault', async () => {
    const { cloudfront, emulator } = context
    const created = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    emulator.injectFault({ operation: 'GetDistribution', code: 'ServiceUnavailable' })
    await cloudfront.send(new ListDistributionsCommand({}))
    const error = await rejectsWith(cloudfront.send(new GetDistributionCommand({ Id: created.Distribution!.Id })), 'ServiceUnavailable', 503)
    assert.equal(error.$fault, 'server')
  })

  it('delays an answer past the client request timeout', async () => {
    const { emulator, endpoint } = context
    const client = createCloudFrontClient(endpoint, { requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } })
    emulator.injectFault({ operation: 'ListDistributions', delayMs: 1000 })
    await rejectsWith(client.send(new ListDistributionsCommand({})), 'TimeoutError')
    client.destroy()
  })

  it('rejects a fault without an operation, or with neither code nor delay', () => {
    const { emulator } = context
    assert.throws(() => emulator.injectFault({ operation: '', code: 'Throttling' }), TypeError)
    assert.throws(() => emulator.injectFault({ operation: 'ListDistributions' }), TypeError)
    assert.throws(() => emulator.injectFault({ operation: 'ListDistributions', code: 'Throttling', times: 0 }), TypeError)
  })
})

describe('test-control endpoints', () => {
  const context = useEmulator({ deploySeconds: 120 })

  const post = (path: string, body?: unknown) =>
    fetch(`${context.endpoint}/__emulator${path}`, { method: 'POST', ...(body !== undefined && { body: JSON.stringify(body) }) })

  it('injects a fault over HTTP', async () => {
    const response = await post('/fault', { operation: 'ListDistributions', code: 'Throttling', times: 1 })
    assert.equal(response.status, 201)
    await rejectsWith(context.cloudfront.send(new ListDistributionsCommand({})), 'Throttling', 400)
    assert.equal((await context.cloudfront.send(new ListDistributionsCommand({}))).$metadata.httpStatusCode, 200)
    const invalid = await post('/fault', { code: 'Throttling' })
    assert.equal(invalid.status, 400)
    assert.match((await invalid.json() as { error: string }).error, /operation/)
  })

  it('advances the clock over HTTP so a distribution deploys', async () => {
    const { cloudfront } = context
    const created = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    const Id = created.Distribution!.Id
    assert.equal((await cloudfront.send(new GetDistributionCommand({ Id }))).Distribution!.Status, 'InProgress')
    assert.equal((await post('/advance-clock?seconds=120')).status, 200)
    assert.equal((await cloudfront.send(new GetDistributionCommand({ Id }))).Distribution!.Status, 'Deployed')
    assert.equal((await post('/advance-clock?seconds=soon')).status, 400)
  })

  it('resets all state over HTTP, and reports health', async () => {
    const { cloudfront } = context
    await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    assert.ok(((await cloudfront.send(new ListDistributionsCommand({}))).DistributionList!.Quantity ?? 0) > 0, '((await cloudfront.send(new ListDistributionsCommand({}))).DistributionList!.Quantity ?? 0) > 0')
    assert.equal((await post('/reset')).status, 200)
    assert.equal((await cloudfront.send(new ListDistributionsCommand({}))).DistributionList!.Quantity, 0)
    const health = await fetch(`${context.endpoint}/__emulator/health`)
    assert.equal(health.status, 200)
    assert.equal((await health.json() as { status: string }).status, 'ok')
  })
})
