// The emulator as a separate process (`npm run emulator`), driven by the real AWS CLI (botocore).
// CI installs awscli; elsewhere, without `aws` on PATH, these tests are skipped (test/support/tools.ts).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { awsJson, awsVersion, runAws } from '../support/aws-cli.js'
import { startEmulatorProcess } from '../support/emulator.js'
import { needs } from '../support/tools.js'


describe('AWS CLI against the emulator process', needs('aws'), () => {
  let emulator: Awaited<ReturnType<typeof startEmulatorProcess>>

  before(async () => {
    emulator = await startEmulatorProcess()
  })
  after(() => {
    if (emulator.child.exitCode === null) emulator.child.kill('SIGTERM')
  })

  it('finds the aws CLI on PATH', async () => {
    const version = await awsVersion()
    assert.match(version, /aws-cli\//)
  })

  it('creates, lists and gets a distribution, invalidates paths and waits for deployment', async () => {
    const { endpoint } = emulator
    const created = await awsJson(endpoint, ['cloudfront', 'create-distribution', '--origin-domain-name', 'mybucket.s3.amazonaws.com'])
    const id: string = created.Distribution.Id
    assert.match(id, /^E[A-Z0-9]{13}$/)
    assert.match(created.ETag, /^E[A-Z0-9]{13}$/)
    assert.equal(created.Location, `https://cloudfront.amazonaws.com/2020-05-31/distribution/${id}`)
    const origin = created.Distribution.DistributionConfig.Origins.Items[0]
    assert.equal(origin.DomainName, 'mybucket.s3.amazonaws.com')
    assert.deepEqual(origin.S3OriginConfig, { OriginAccessIdentity: '' })
    assert.equal(created.Distribution.DistributionConfig.DefaultCacheBehavior.ForwardedValues.QueryString, false)

    const listed = await awsJson(endpoint, ['cloudfront', 'list-distributions'])
    const summary = listed.DistributionList.Items.find((item: { Id: string }) => item.Id === id)
    assert.equal(summary.DomainName, created.Distribution.DomainName)
    assert.equal(summary.Status, 'Deployed')

    const got = await awsJson(endpoint, ['cloudfront', 'get-distribution', '--id', id])
    assert.equal(got.ETag, created.ETag)
    assert.equal(got.Distribution.Status, 'Deployed')

    const invalidation = await awsJson(endpoint, ['cloudfront', 'create-invalidation', '--distribution-id', id, '--paths', '/a', '/b'])
    assert.deepEqual(invalidation.Invalidation.InvalidationBatch.Paths, { Quantity: 2, Items: ['/a', '/b'] })
    assert.match(invalidation.Invalidation.InvalidationBatch.CallerReference, /^cli-/)
    assert.match(invalidation.Location, new RegExp(`/distribution/${id}/invalidation/I[A-Z0-9]{13}$`))

    const waited = await runAws(endpoint, ['cloudfront', 'wait', 'distribution-deployed', '--id', id])
    assert.equal(waited.code, 0, waited.stderr)
  })

  it('lists buckets with `aws s3 ls` and creates one with `aws s3api create-bucket`', async () => {
    const { endpoint } = emulator
    await awsJson(endpoint, ['s3api', 'create-bucket', '--bucket', 'cli-listed-bucket'])
    const listed = await runAws(endpoint, ['s3', 'ls'])
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d cli-listed-bucket$/m)
  })

  it('maps error responses to botocore errors', async () => {
    const { endpoint } = emulator
    const missing = await runAws(endpoint, ['cloudfront', 'get-distribution', '--id', 'ENOSUCHDIST000'])
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /\(NoSuchDistribution\) when calling the GetDistribution operation/)
    const created = await awsJson(endpoint, ['cloudfront', 'create-distribution', '--origin-domain-name', 'site.example.com'])
    assert.equal(created.Distribution.DistributionConfig.Origins.Items[0].CustomOriginConfig.OriginProtocolPolicy, 'http-only')
    const unconditional = await runAws(endpoint, ['cloudfront', 'delete-distribution', '--id', created.Distribution.Id])
    assert.match(unconditional.stderr, /\(InvalidIfMatchVersion\)/)
    const enabled = await runAws(endpoint, ['cloudfront', 'delete-distribution', '--id', created.Distribution.Id, '--if-match', created.ETag])
    assert.match(enabled.stderr, /\(DistributionNotDisabled\)/)
  })

  it('retries a throttled call injected through the control endpoint', async () => {
    const { endpoint } = emulator
    const response = await fetch(`${endpoint}/__emulator/fault`, {
      method: 'POST',
      body: JSON.stringify({ operation: 'ListDistributions', code: 'Throttling', times: 1 }),
    })
    assert.equal(response.status, 201)
    const listed = await awsJson(endpoint, ['cloudfront', 'list-distributions'])
    assert.ok(listed.DistributionList.Items.length >= 2, 'listed.DistributionList.Items.length >= 2')
  })

  it('exits cleanly on SIGTERM', async () => {
    emulator.child.kill('SIGTERM')
    assert.equal(await emulator.exited, 0)
  })
})
