// PUT/GET/DELETE /v1/admin/distributions/{id}/edge against the emulator: the key value store, the function and the
// association on signed behaviours only, idempotent repeats, key rotation, preconditions, conflicts and removal.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import {
  CreateDistributionCommand,
  CreateFunctionCommand,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  DescribeFunctionCommand,
  DescribeKeyValueStoreCommand,
  GetDistributionConfigCommand,
  GetFunctionCommand,
  PublishFunctionCommand,
  TestFunctionCommand,
  UpdateDistributionCommand,
  UpdateFunctionCommand,
  type CacheBehavior,
  type CloudFrontClient,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront'
import type { FastifyInstance } from 'fastify'
import { listKvsKeys, updateKvsKeys } from '../../../src/aws/keyvaluestore.js'
import { EDGE_FUNCTION_SOURCE } from '../../../src/edge/function-source.js'
import { edgeResourceName } from '../../../src/edge/naming.js'
import { createEdgeToken, formatRevocationValue, type EdgeKey } from '../../../src/edge/token.js'
import { build, captureLogs } from '../../support/build.js'
import { generatePublicKeyPem, rejectsWith } from '../../emulator/helpers.js'
import { EMULATOR_CREDENTIALS, READ, WRITE, cloudFrontClient, startEmulator } from './helpers.js'

const K1: EdgeKey = { id: 'k1', secret: 'edge-secret-one-0123456789abcdefghijklmn' }
const K2: EdgeKey = { id: 'k2', secret: 'edge-secret-two-0123456789abcdefghijklmn' }
const POLICY = '658327ea-f89d-4fab-a63d-7e88639e58f6'
const encode = (text: string) => new TextEncoder().encode(text)

/** edge.keysDir as the service reads it: one file per key ID holding its secret. */
function keysDir(t: TestContext, keys: readonly EdgeKey[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'edge-keys-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const key of keys) writeFileSync(join(dir, key.id), `${key.secret}\n`)
  return dir
}

/** The service on `endpoint` with these edge keys (none: no edge section); a new one per rotation step. */
async function edgeApp(t: TestContext, endpoint: string, keys: readonly EdgeKey[], logs?: ReturnType<typeof captureLogs>): Promise<FastifyInstance> {
  return build(t, {
    configInput: {
      aws: { accounts: { test: { region: 'us-east-1', endpoint } }, maxAttempts: 2 },
      ...(keys.length > 0 && { edge: { keysDir: keysDir(t, keys), activeKeyId: keys.at(-1)!.id } }),
    },
    awsCredentials: EMULATOR_CREDENTIALS,
    ...(logs !== undefined && { logLevel: 'info', logStream: logs.stream }),
  })
}

async function edge(app: FastifyInstance, method: 'PUT' | 'GET' | 'DELETE', id: string, headers: Record<string, string> = {}) {
  const response = await app.inject({ method, url: `/v1/admin/distributions/${id}/edge`, headers: { ...WRITE, ...headers } })
  return { status: response.statusCode, body: response.json(), headers: response.headers, text: response.body }
}

function behavior(pathPattern: string, trust: Partial<CacheBehavior> = {}): CacheBehavior {
  return { PathPattern: pathPattern, TargetOriginId: 's3', ViewerProtocolPolicy: 'https-only', CachePolicyId: POLICY, ...trust }
}

/** A distribution whose default behaviour trusts `self`, `/members/*` a key group, and `/public/*` nothing. */
async function signedDistribution(cf: CloudFrontClient, options: { signed?: boolean } = {}): Promise<string> {
  const signed = options.signed ?? true
  const { PublicKey } = await cf.send(new CreatePublicKeyCommand({ PublicKeyConfig: { CallerReference: `pk-${Math.random()}`, Name: `pk${Date.now()}`, EncodedKey: generatePublicKeyPem() } }))
  const { KeyGroup } = await cf.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: `kg${Date.now()}`, Items: [PublicKey!.Id!] } }))
  const config: DistributionConfig = {
    CallerReference: `edge-${Math.random()}`,
    Comment: '',
    Enabled: true,
    Origins: { Quantity: 1, Items: [{ Id: 's3', DomainName: 'media.s3.amazonaws.com', S3OriginConfig: { OriginAccessIdentity: '' } }] },
    DefaultCacheBehavior: {
      TargetOriginId: 's3',
      ViewerProtocolPolicy: 'redirect-to-https',
      CachePolicyId: POLICY,
      ...(signed && { TrustedSigners: { Enabled: true, Quantity: 1, Items: ['self'] } }),
    },
    CacheBehaviors: {
      Quantity: 2,
      Items: [
        behavior('/members/*', signed ? { TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [KeyGroup!.Id!] } } : {}),
        behavior('/public/*'),
      ],
    },
  }
  const { Distribution } = await cf.send(new CreateDistributionCommand({ DistributionConfig: config }))
  return Distribution!.Id!
}

/** Behaviour label → its viewer-request function ARN (undefined: none). */
async function viewerRequestFunctions(cf: CloudFrontClient, id: string): Promise<Record<string, string | undefined>> {
  const { DistributionConfig: config } = await cf.send(new GetDistributionConfigCommand({ Id: id }))
  const of = (b: { FunctionAssociations?: { Items?: Array<{ EventType?: string; FunctionARN?: string }> } } | undefined) =>
    b?.FunctionAssociations?.Items?.find((a) => a.EventType === 'viewer-request')?.FunctionARN
  return Object.fromEntries([['*', of(config?.DefaultCacheBehavior)], ...(config?.CacheBehaviors?.Items ?? []).map((b) => [b.PathPattern, of(b)])])
}

function auditLines(logs: ReturnType<typeof captureLogs>): Array<Record<string, unknown>> {
  return logs.text().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit === true)
}

function viewerEvent(token: string) {
  return { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '198.51.100.7' }, request: { method: 'GET', uri: '/members/a.mp4', querystring: { 'cf-edge': { value: token } }, headers: {}, cookies: {} } }
}

describe('PUT /v1/admin/distributions/{id}/edge', () => {
  it('creates the store with the keys, the function at LIVE and its association on signed behaviours only; a repeat changes nothing', async (t) => {
    const logs = captureLogs()
    const { endpoint } = await startEmulator(t, { functionTimeBudgetMs: 1000 })
    const app = await edgeApp(t, endpoint, [K1], logs)
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    const name = edgeResourceName(id)

    const first = await edge(app, 'PUT', id)
    assert.equal(first.status, 200, first.text)
    assert.equal(first.body.functionName, name)
    assert.equal(first.body.functionStage, 'LIVE')
    assert.deepEqual(first.body.keyIds, ['k1'])
    assert.deepEqual(first.body.behaviors, ['*', '/members/*'])
    assert.deepEqual(first.body.behaviorsChanged, ['*', '/members/*'])
    assert.equal(first.body.changed, true)
    assert.equal(first.body.status, 'InProgress')
    assert.equal(first.headers.etag, `"${first.body.etag}"`)

    // What CloudFront holds: the key under hmac:, the source at LIVE, the association on the two signed behaviours.
    const account = app.aws.resolve(undefined)
    assert.deepEqual(await listKvsKeys(account, first.body.keyValueStoreArn), [{ key: 'hmac:k1', value: K1.secret }])
    const live = await cf.send(new GetFunctionCommand({ Name: name, Stage: 'LIVE' }))
    assert.equal(Buffer.from(live.FunctionCode!).toString('utf8'), EDGE_FUNCTION_SOURCE)
    const described = await cf.send(new DescribeFunctionCommand({ Name: name, Stage: 'LIVE' }))
    assert.equal(described.ETag, first.body.functionEtag)
    assert.equal(described.FunctionSummary?.Status, 'DEPLOYED')
    assert.equal(described.FunctionSummary?.FunctionConfig?.KeyValueStoreAssociations?.Items?.[0]?.KeyValueStoreARN, first.body.keyValueStoreArn)
    assert.deepEqual(await viewerRequestFunctions(cf, id), { '*': first.body.functionArn, '/members/*': first.body.functionArn, '/public/*': undefined })

    const again = await edge(app, 'PUT', id, { 'if-match': first.headers.etag as string })
    assert.equal(again.status, 200, again.text)
    assert.equal(again.body.changed, false)
    assert.deepEqual(again.body.behaviorsChanged, [])
    assert.deepEqual(again.body.behaviors, ['*', '/members/*'])
    assert.equal(again.body.functionEtag, first.body.functionEtag, 'no new publish')
    assert.equal(again.body.etag, first.body.etag, 'no distribution update')

    assert.deepEqual(auditLines(logs).map((line) => `${line.action} ${line.outcome} ${line.resourceId}`), [`edge.deploy success ${id}`, `edge.deploy success ${id}`])
    for (const text of [first.text, again.text, logs.text()]) assert.ok(!text.includes(K1.secret), 'the secret is in no answer or log')
  })

  it('runs at LIVE as CloudFront would: a valid edge token passes, a revoked grant is 403; GET counts the revocation, never a secret', async (t) => {
    const logs = captureLogs()
    const { endpoint } = await startEmulator(t, { functionTimeBudgetMs: 1000 })
    const app = await edgeApp(t, endpoint, [K1], logs)
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    const deployed = await edge(app, 'PUT', id)
    assert.equal(deployed.status, 200, deployed.text)
    const now = Math.floor(Date.now() / 1000)
    const token = createEdgeToken({ grantId: 'grant-live-1', sub: 'viewer-1', issuedAt: now - 60, expires: now + 3600 }, K1)
    const run = async () => {
      const { TestResult } = await cf.send(
        new TestFunctionCommand({ Name: deployed.body.functionName, Stage: 'LIVE', IfMatch: deployed.body.functionEtag, EventObject: encode(JSON.stringify(viewerEvent(token))) }),
      )
      assert.equal(TestResult?.FunctionErrorMessage, undefined)
      return JSON.parse(TestResult?.FunctionOutput ?? '{}')
    }
    assert.equal((await run()).request?.uri, '/members/a.mp4', 'a valid token is handed on')

    const account = app.aws.resolve(undefined)
    await updateKvsKeys(account, deployed.body.keyValueStoreArn, { puts: [{ key: 'revoked:g:grant-live-1', value: formatRevocationValue({ t: now, x: now + 3600 }) }] })
    const denied = await run()
    assert.equal(denied.response?.statusCode, 403)
    assert.equal(denied.response?.headers?.['x-edge-deny']?.value, 'revoked-grant')

    const state = await edge(app, 'GET', id, READ)
    assert.equal(state.status, 200, state.text)
    assert.deepEqual(
      { keyIds: state.body.keyIds, revocations: state.body.revocations, behaviors: state.body.behaviors, functionEtag: state.body.functionEtag, functionStatus: state.body.functionStatus },
      { keyIds: ['k1'], revocations: 1, behaviors: ['*', '/members/*'], functionEtag: deployed.body.functionEtag, functionStatus: 'DEPLOYED' },
    )
    assert.equal(state.body.keyValueStoreArn, deployed.body.keyValueStoreArn)
    assert.equal(state.headers.etag, `"${deployed.body.etag}"`)
    assert.ok(!state.text.includes(K1.secret) && !logs.text().includes(K1.secret), 'the secret is in no answer or log')
  })

  it('rotates the HMAC key: a second key joins the store, then the old one is deleted, the function and distribution untouched', async (t) => {
    const { endpoint } = await startEmulator(t)
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    const before = await edge(await edgeApp(t, endpoint, [K1]), 'PUT', id)
    assert.equal(before.status, 200, before.text)

    const bothApp = await edgeApp(t, endpoint, [K1, K2])
    const both = await edge(bothApp, 'PUT', id)
    assert.equal(both.status, 200, both.text)
    assert.equal(both.body.changed, true)
    assert.deepEqual(both.body.keyIds, ['k1', 'k2'])
    const account = bothApp.aws.resolve(undefined)
    assert.deepEqual((await listKvsKeys(account, both.body.keyValueStoreArn, 'hmac:')).map((entry) => entry.key), ['hmac:k1', 'hmac:k2'])
    assert.equal(both.body.functionEtag, before.body.functionEtag, 'the function reads keys at run time: no publish')
    assert.equal(both.body.etag, before.body.etag, 'no distribution update')

    const after = await edge(await edgeApp(t, endpoint, [K2]), 'PUT', id)
    assert.equal(after.status, 200, after.text)
    assert.deepEqual(after.body.keyIds, ['k2'])
    assert.deepEqual(await listKvsKeys(account, after.body.keyValueStoreArn, 'hmac:'), [{ key: 'hmac:k2', value: K2.secret }])
  })

  it('puts back the function when its code drifted: updated and published again, the association kept', async (t) => {
    const { endpoint } = await startEmulator(t)
    const app = await edgeApp(t, endpoint, [K1])
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    const first = await edge(app, 'PUT', id)
    const name = edgeResourceName(id)
    const development = await cf.send(new DescribeFunctionCommand({ Name: name }))
    const drifted = await cf.send(
      new UpdateFunctionCommand({ Name: name, IfMatch: development.ETag, FunctionConfig: development.FunctionSummary!.FunctionConfig!, FunctionCode: encode('function handler(e) { return e.request }') }),
    )
    await cf.send(new PublishFunctionCommand({ Name: name, IfMatch: drifted.ETag }))

    const again = await edge(app, 'PUT', id)
    assert.equal(again.status, 200, again.text)
    assert.equal(again.body.changed, true)
    assert.notEqual(again.body.functionEtag, first.body.functionEtag, 'published again')
    assert.equal(again.body.etag, first.body.etag, 'the association names the same ARN: no distribution update')
    const live = await cf.send(new GetFunctionCommand({ Name: name, Stage: 'LIVE' }))
    assert.equal(Buffer.from(live.FunctionCode!).toString('utf8'), EDGE_FUNCTION_SOURCE)
  })

  it('takes the function off a behaviour that no longer requires signed requests', async (t) => {
    const { endpoint } = await startEmulator(t)
    const app = await edgeApp(t, endpoint, [K1])
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    const first = await edge(app, 'PUT', id)
    const { DistributionConfig: config, ETag } = await cf.send(new GetDistributionConfigCommand({ Id: id }))
    config!.CacheBehaviors!.Items![0]!.TrustedKeyGroups = { Enabled: false, Quantity: 0 }
    await cf.send(new UpdateDistributionCommand({ Id: id, IfMatch: ETag, DistributionConfig: config }))

    const again = await edge(app, 'PUT', id)
    assert.equal(again.status, 200, again.text)
    assert.deepEqual(again.body.behaviorsChanged, ['/members/*'])
    assert.deepEqual(again.body.behaviors, ['*'])
    assert.deepEqual(await viewerRequestFunctions(cf, id), { '*': first.body.functionArn, '/members/*': undefined, '/public/*': undefined })
  })

  it('refuses a stale If-Match with 412 before writing anything', async (t) => {
    const { endpoint } = await startEmulator(t)
    const app = await edgeApp(t, endpoint, [K1])
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    const res = await edge(app, 'PUT', id, { 'if-match': '"E0000STALE"' })
    assert.equal(res.status, 412, res.text)
    assert.equal(res.body.code, 'PreconditionFailed')
    await rejectsWith(cf.send(new DescribeFunctionCommand({ Name: edgeResourceName(id) })), 'NoSuchFunctionExists', 404)
    await rejectsWith(cf.send(new DescribeKeyValueStoreCommand({ Name: edgeResourceName(id) })), 'EntityNotFound', 404)
  })

  it('refuses with 409 EDGE_FUNCTION_CONFLICT when a signed behaviour runs another viewer-request function, and changes nothing', async (t) => {
    const logs = captureLogs()
    const { endpoint } = await startEmulator(t)
    const app = await edgeApp(t, endpoint, [K1], logs)
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    const created = await cf.send(
      new CreateFunctionCommand({ Name: 'someone-elses', FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' }, FunctionCode: encode('function handler(e) { return e.request }') }),
    )
    await cf.send(new PublishFunctionCommand({ Name: 'someone-elses', IfMatch: created.ETag }))
    const otherArn = created.FunctionSummary!.FunctionMetadata!.FunctionARN!
    const { DistributionConfig: config, ETag } = await cf.send(new GetDistributionConfigCommand({ Id: id }))
    config!.CacheBehaviors!.Items![0]!.FunctionAssociations = { Quantity: 1, Items: [{ EventType: 'viewer-request', FunctionARN: otherArn }] }
    const updated = await cf.send(new UpdateDistributionCommand({ Id: id, IfMatch: ETag, DistributionConfig: config }))

    const res = await edge(app, 'PUT', id)
    assert.equal(res.status, 409, res.text)
    assert.equal(res.body.code, 'EDGE_FUNCTION_CONFLICT')
    assert.match(res.body.message, /\/members\/\*/)
    assert.ok(res.body.message.includes(otherArn), 'the message names the other function')
    await rejectsWith(cf.send(new DescribeFunctionCommand({ Name: edgeResourceName(id) })), 'NoSuchFunctionExists', 404)
    await rejectsWith(cf.send(new DescribeKeyValueStoreCommand({ Name: edgeResourceName(id) })), 'EntityNotFound', 404)
    const after = await cf.send(new GetDistributionConfigCommand({ Id: id }))
    assert.equal(after.ETag, updated.ETag, 'the distribution is untouched')
    assert.deepEqual(auditLines(logs).map((line) => `${line.action} ${line.outcome} ${line.code}`), ['edge.deploy failure EDGE_FUNCTION_CONFLICT'])
  })

  it('refuses a distribution without signed behaviours (409 EDGE_NO_SIGNED_BEHAVIORS) and a service without edge keys (409 EDGE_NOT_CONFIGURED)', async (t) => {
    const { endpoint } = await startEmulator(t)
    const cf = cloudFrontClient(t, endpoint)
    const unsigned = await signedDistribution(cf, { signed: false })
    const res = await edge(await edgeApp(t, endpoint, [K1]), 'PUT', unsigned)
    assert.equal(res.status, 409, res.text)
    assert.equal(res.body.code, 'EDGE_NO_SIGNED_BEHAVIORS')
    await rejectsWith(cf.send(new DescribeKeyValueStoreCommand({ Name: edgeResourceName(unsigned) })), 'EntityNotFound', 404)

    const signed = await signedDistribution(cf)
    const unconfigured = await edge(await edgeApp(t, endpoint, []), 'PUT', signed)
    assert.equal(unconfigured.status, 409, unconfigured.text)
    assert.equal(unconfigured.body.code, 'EDGE_NOT_CONFIGURED')
  })

  it('needs admin:write', async (t) => {
    const { endpoint } = await startEmulator(t)
    const app = await edgeApp(t, endpoint, [K1])
    const res = await edge(app, 'PUT', 'E1234567890ABC', READ)
    assert.equal(res.status, 403)
    assert.equal(res.body.code, 'FORBIDDEN_SCOPE')
  })
})

describe('GET and DELETE /v1/admin/distributions/{id}/edge', () => {
  it('GET answers 409 EDGE_NOT_DEPLOYED before a deploy', async (t) => {
    const { endpoint } = await startEmulator(t)
    const app = await edgeApp(t, endpoint, [K1])
    const id = await signedDistribution(cloudFrontClient(t, endpoint))
    const res = await edge(app, 'GET', id, READ)
    assert.equal(res.status, 409, res.text)
    assert.equal(res.body.code, 'EDGE_NOT_DEPLOYED')
  })

  it('DELETE takes off our association (others stay), the function and the store; a repeat answers changed: false', async (t) => {
    const logs = captureLogs()
    const { endpoint } = await startEmulator(t)
    const app = await edgeApp(t, endpoint, [K1], logs)
    const cf = cloudFrontClient(t, endpoint)
    const id = await signedDistribution(cf)
    // Someone else's viewer-response function on the default behaviour: ours sits beside it, and it stays.
    const other = await cf.send(
      new CreateFunctionCommand({ Name: 'headers', FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' }, FunctionCode: encode('function handler(e) { return e.response }') }),
    )
    await cf.send(new PublishFunctionCommand({ Name: 'headers', IfMatch: other.ETag }))
    const otherArn = other.FunctionSummary!.FunctionMetadata!.FunctionARN!
    const { DistributionConfig: config, ETag } = await cf.send(new GetDistributionConfigCommand({ Id: id }))
    config!.DefaultCacheBehavior!.FunctionAssociations = { Quantity: 1, Items: [{ EventType: 'viewer-response', FunctionARN: otherArn }] }
    await cf.send(new UpdateDistributionCommand({ Id: id, IfMatch: ETag, DistributionConfig: config }))

    const deployed = await edge(app, 'PUT', id)
    assert.equal(deployed.status, 200, deployed.text)
    const stale = await edge(app, 'DELETE', id, { 'if-match': '"E0000STALE"' })
    assert.equal(stale.status, 412, stale.text)

    const removed = await edge(app, 'DELETE', id, { 'if-match': deployed.headers.etag as string })
    assert.equal(removed.status, 200, removed.text)
    assert.deepEqual(
      { changed: removed.body.changed, functionDeleted: removed.body.functionDeleted, keyValueStoreDeleted: removed.body.keyValueStoreDeleted, behaviorsChanged: removed.body.behaviorsChanged },
      { changed: true, functionDeleted: true, keyValueStoreDeleted: true, behaviorsChanged: ['*', '/members/*'] },
    )
    assert.equal(removed.headers.etag, `"${removed.body.etag}"`)
    assert.deepEqual(await viewerRequestFunctions(cf, id), { '*': undefined, '/members/*': undefined, '/public/*': undefined })
    const { DistributionConfig: after } = await cf.send(new GetDistributionConfigCommand({ Id: id }))
    assert.deepEqual(after?.DefaultCacheBehavior?.FunctionAssociations?.Items, [{ EventType: 'viewer-response', FunctionARN: otherArn }])
    await rejectsWith(cf.send(new DescribeFunctionCommand({ Name: edgeResourceName(id) })), 'NoSuchFunctionExists', 404)
    await rejectsWith(cf.send(new DescribeKeyValueStoreCommand({ Name: edgeResourceName(id) })), 'EntityNotFound', 404)

    const repeat = await edge(app, 'DELETE', id)
    assert.equal(repeat.status, 200, repeat.text)
    assert.equal(repeat.body.changed, false)
    assert.equal(repeat.body.etag, removed.body.etag, 'no distribution update')
    assert.equal((await edge(app, 'GET', id, READ)).body.code, 'EDGE_NOT_DEPLOYED')
    assert.deepEqual(
      auditLines(logs).map((line) => `${line.action} ${line.outcome} ${line.statusCode}`),
      ['edge.deploy success 200', 'edge.remove failure 412', 'edge.remove success 200', 'edge.remove success 200'],
    )
  })
})
