// CloudFront Functions and KeyValueStore in the emulator, through the SDK's CloudFront client, plain HTTP for the
// KeyValueStore data plane (its SDK client is not a dependency), and the AWS CLI's test-function.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  CreateDistributionCommand,
  CreateFunctionCommand,
  CreateKeyValueStoreCommand,
  DeleteFunctionCommand,
  DeleteKeyValueStoreCommand,
  DescribeFunctionCommand,
  DescribeKeyValueStoreCommand,
  GetDistributionConfigCommand,
  GetFunctionCommand,
  ListFunctionsCommand,
  ListKeyValueStoresCommand,
  PublishFunctionCommand,
  TestFunctionCommand,
  UpdateDistributionCommand,
  UpdateFunctionCommand,
  type FunctionConfig,
} from '@aws-sdk/client-cloudfront'
import { EDGE_FUNCTION_RUNTIME, EDGE_FUNCTION_SOURCE } from '../../src/edge/function-source.js'
import { createEdgeToken, formatRevocationValue } from '../../src/edge/token.js'
import { AWS_CLI_HOME, awsJson } from '../support/aws-cli.js'
import { needs } from '../support/tools.js'
import { rejectsWith, uniqueReference, useEmulator, webDistributionConfig } from './helpers.js'

const KEY = { id: 'k1', secret: 'emulator-edge-secret-0123456789abcdefghij' }
const FAR = Math.floor(Date.now() / 1000) + 3600
const encode = (text: string) => new TextEncoder().encode(text)

function viewerEvent(token: string) {
  return {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: '2001:db8::1' },
    request: { method: 'GET', uri: '/a.mp4', querystring: { 'cf-edge': { value: token } }, headers: {}, cookies: {} },
  }
}

/** The KeyValueStore data plane (REST-JSON) at the emulator: what `aws cloudfront-keyvaluestore` sends. */
async function kvsCall(endpoint: string, method: string, path: string, body?: unknown, ifMatch?: string) {
  const response = await fetch(`${endpoint}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(ifMatch !== undefined && { 'if-match': ifMatch }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, etag: response.headers.get('etag') ?? '', errorType: response.headers.get('x-amzn-errortype'), json: text === '' ? {} : JSON.parse(text) }
}

const keysPath = (arn: string, key?: string) => `/key-value-stores/${encodeURIComponent(arn)}/keys${key === undefined ? '' : `/${encodeURIComponent(key)}`}`

describe('emulator: CloudFront Functions and KeyValueStore', () => {
  // A second, not CloudFront's 100 ms: a loaded test machine must not fail a run on speed.
  const context = useEmulator({ functionTimeBudgetMs: 1000 })

  /** A store holding the edge HMAC key, and the edge function associated with it. */
  async function deployEdgeFunction() {
    const { cloudfront, endpoint } = context
    const storeName = uniqueReference('edge-kvs')
    const { KeyValueStore, ETag: storeEtag } = await cloudfront.send(new CreateKeyValueStoreCommand({ Name: storeName, Comment: 'edge' }))
    const arn = KeyValueStore?.ARN ?? ''
    assert.match(arn, /^arn:aws:cloudfront::\d{12}:key-value-store\/[0-9a-f-]{36}$/)
    const described = await kvsCall(endpoint, 'GET', `/key-value-stores/${encodeURIComponent(arn)}`)
    const put = await kvsCall(endpoint, 'PUT', keysPath(arn, `hmac:${KEY.id}`), { Value: KEY.secret }, described.etag)
    assert.equal(put.status, 200, JSON.stringify(put.json))
    const config: FunctionConfig = { Comment: 'edge tokens', Runtime: EDGE_FUNCTION_RUNTIME, KeyValueStoreAssociations: { Quantity: 1, Items: [{ KeyValueStoreARN: arn }] } }
    const name = uniqueReference('edge')
    const created = await cloudfront.send(new CreateFunctionCommand({ Name: name, FunctionConfig: config, FunctionCode: encode(EDGE_FUNCTION_SOURCE) }))
    return { name, arn, storeName, storeEtag: storeEtag ?? '', etag: created.ETag ?? '', dataEtag: put.etag, created }
  }

  it('creates, describes, gets, updates, publishes, lists and deletes a function, with ETags', async () => {
    const { cloudfront } = context
    const { name, created, etag } = await deployEdgeFunction()
    assert.equal(created.FunctionSummary?.Status, 'UNPUBLISHED')
    assert.equal(created.FunctionSummary?.FunctionMetadata?.Stage, 'DEVELOPMENT')
    assert.equal(created.FunctionSummary?.FunctionConfig?.KeyValueStoreAssociations?.Quantity, 1)
    assert.match(created.Location ?? '', new RegExp(`/function/arn:aws:cloudfront::\\d{12}:function/${name}$`))
    const described = await cloudfront.send(new DescribeFunctionCommand({ Name: name }))
    assert.equal(described.ETag, etag)
    const code = await cloudfront.send(new GetFunctionCommand({ Name: name }))
    assert.equal(Buffer.from(code.FunctionCode ?? new Uint8Array()).toString('utf8'), EDGE_FUNCTION_SOURCE)
    await rejectsWith(cloudfront.send(new DescribeFunctionCommand({ Name: name, Stage: 'LIVE' })), 'NoSuchFunctionExists', 404)

    const config = { Comment: 'changed', Runtime: 'cloudfront-js-2.0' as const }
    await rejectsWith(cloudfront.send(new UpdateFunctionCommand({ Name: name, IfMatch: 'EWRONG', FunctionConfig: config, FunctionCode: encode('function handler(e) { return e.request }') })), 'PreconditionFailed', 412)
    const updated = await cloudfront.send(new UpdateFunctionCommand({ Name: name, IfMatch: etag, FunctionConfig: config, FunctionCode: encode(EDGE_FUNCTION_SOURCE) }))
    assert.notEqual(updated.ETag, etag, 'an update makes a new ETag')
    assert.equal(updated.FunctionSummary?.FunctionConfig?.Comment, 'changed')
    const published = await cloudfront.send(new PublishFunctionCommand({ Name: name, IfMatch: updated.ETag }))
    assert.equal(published.FunctionSummary?.Status, 'UNASSOCIATED')
    assert.equal(published.FunctionSummary?.FunctionMetadata?.Stage, 'LIVE')
    const live = await cloudfront.send(new ListFunctionsCommand({ Stage: 'LIVE' }))
    assert.ok(live.FunctionList?.Items?.some((item) => item.Name === name), 'the published function is listed at LIVE')

    await rejectsWith(cloudfront.send(new DeleteFunctionCommand({ Name: name, IfMatch: etag })), 'PreconditionFailed', 412)
    await cloudfront.send(new DeleteFunctionCommand({ Name: name, IfMatch: updated.ETag }))
    await rejectsWith(cloudfront.send(new DescribeFunctionCommand({ Name: name })), 'NoSuchFunctionExists', 404)
  })

  it('refuses a duplicate name, code over 10 KB, an unknown runtime and an unknown key value store', async () => {
    const { cloudfront } = context
    const Name = uniqueReference('limits')
    const FunctionConfig = { Comment: '', Runtime: 'cloudfront-js-2.0' as const }
    await cloudfront.send(new CreateFunctionCommand({ Name, FunctionConfig, FunctionCode: encode('function handler(e) { return e.request }') }))
    await rejectsWith(cloudfront.send(new CreateFunctionCommand({ Name, FunctionConfig, FunctionCode: encode('x') })), 'FunctionAlreadyExists', 409)
    await rejectsWith(cloudfront.send(new CreateFunctionCommand({ Name: `${Name}-big`, FunctionConfig, FunctionCode: encode(`//${'x'.repeat(10_240)}`) })), 'FunctionSizeLimitExceeded', 413)
    await rejectsWith(cloudfront.send(new CreateFunctionCommand({ Name: `${Name}-rt`, FunctionConfig: { Comment: '', Runtime: 'nodejs' as never }, FunctionCode: encode('x') })), 'InvalidArgument', 400)
    const missing = 'arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-4000-8000-000000000000'
    const withStore = { ...FunctionConfig, KeyValueStoreAssociations: { Quantity: 1, Items: [{ KeyValueStoreARN: missing }] } }
    await rejectsWith(cloudfront.send(new CreateFunctionCommand({ Name: `${Name}-kvs`, FunctionConfig: withStore, FunctionCode: encode('x') })), 'EntityNotFound', 404)
  })

  it('TestFunction runs the edge function with the store\'s live content: a valid grant passes, a revoked one is 403', async () => {
    const { cloudfront, endpoint } = context
    const { name, arn, etag, dataEtag } = await deployEdgeFunction()
    const token = createEdgeToken({ grantId: 'grant-1', sub: 'user-1', issuedAt: FAR - 7200, expires: FAR }, KEY)
    const test = () => cloudfront.send(new TestFunctionCommand({ Name: name, IfMatch: etag, EventObject: encode(JSON.stringify(viewerEvent(token))) }))

    const passed = await test()
    assert.equal(passed.TestResult?.FunctionErrorMessage, undefined)
    const passedOutput = JSON.parse(passed.TestResult?.FunctionOutput ?? '{}')
    assert.equal(passedOutput.request?.uri, '/a.mp4', 'a valid grant is handed on')
    assert.ok(Number(passed.TestResult?.ComputeUtilization) >= 1 && Number(passed.TestResult?.ComputeUtilization) <= 100, 'a utilization between 1 and 100')
    assert.equal(passed.TestResult?.FunctionSummary?.Name, name)

    const revoked = await kvsCall(endpoint, 'POST', keysPath(arn), { Puts: [{ Key: 'revoked:g:grant-1', Value: formatRevocationValue({ t: FAR - 3600, x: FAR }) }], Deletes: [] }, dataEtag)
    assert.equal(revoked.status, 200, JSON.stringify(revoked.json))
    const denied = JSON.parse((await test()).TestResult?.FunctionOutput ?? '{}')
    assert.equal(denied.response?.statusCode, 403)
    assert.equal(denied.response?.headers?.['x-edge-deny']?.value, 'revoked-grant')

    await rejectsWith(cloudfront.send(new TestFunctionCommand({ Name: name, IfMatch: 'EWRONG', EventObject: encode('{}') })), 'PreconditionFailed', 412)
    await rejectsWith(cloudfront.send(new TestFunctionCommand({ Name: name, IfMatch: etag, EventObject: encode('not json') })), 'InvalidArgument', 400)
  })

  it('TestFunction keeps the runtime\'s limits: no require, process, fetch or timers, a time budget, console to the logs', async () => {
    const { cloudfront } = context
    const run = async (code: string) => {
      const Name = uniqueReference('limits')
      const created = await cloudfront.send(new CreateFunctionCommand({ Name, FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' }, FunctionCode: encode(code) }))
      const { TestResult } = await cloudfront.send(new TestFunctionCommand({ Name, IfMatch: created.ETag, EventObject: encode(JSON.stringify(viewerEvent('x'))) }))
      return TestResult
    }
    const probe = await run(`function handler(event) {
      console.log('kinds', typeof require, typeof process, typeof fetch, typeof setTimeout);
      return event.request;
    }`)
    assert.deepEqual(probe?.FunctionExecutionLogs, ['kinds undefined undefined undefined undefined'])
    const looping = await run('function handler(event) { while (true) {} }')
    assert.equal(looping?.FunctionErrorMessage, 'The function exceeded its time budget')
    assert.equal(looping?.FunctionOutput, undefined, 'a failed run has no output')
    const network = await run("import http from 'http';\nfunction handler(event) { return event.request }")
    assert.match(looping?.ComputeUtilization ?? '', /^100$/, 'a run over budget uses it all')
    assert.match(network?.FunctionErrorMessage ?? '', /module "http" is not available/)
    const throwing = await run("function handler(event) { throw new TypeError('bad event') }")
    assert.equal(throwing?.FunctionErrorMessage, 'TypeError: bad event')
  })

  it('KeyValueStore control plane: create, describe, list, duplicate, delete with If-Match, refused while a function uses it', async () => {
    const { cloudfront } = context
    const { name: functionName, storeName, storeEtag, etag } = await deployEdgeFunction()
    const described = await cloudfront.send(new DescribeKeyValueStoreCommand({ Name: storeName }))
    assert.equal(described.ETag, storeEtag)
    assert.equal(described.KeyValueStore?.Status, 'READY')
    const listed = await cloudfront.send(new ListKeyValueStoresCommand({}))
    assert.ok(listed.KeyValueStoreList?.Items?.some((store) => store.Name === storeName), 'the store is listed')
    await rejectsWith(cloudfront.send(new CreateKeyValueStoreCommand({ Name: storeName })), 'EntityAlreadyExists', 409)
    await rejectsWith(cloudfront.send(new DeleteKeyValueStoreCommand({ Name: storeName, IfMatch: storeEtag })), 'CannotDeleteEntityWhileInUse', 409)
    await cloudfront.send(new DeleteFunctionCommand({ Name: functionName, IfMatch: etag }))
    await rejectsWith(cloudfront.send(new DeleteKeyValueStoreCommand({ Name: storeName, IfMatch: 'EWRONG' })), 'PreconditionFailed', 412)
    await cloudfront.send(new DeleteKeyValueStoreCommand({ Name: storeName, IfMatch: storeEtag }))
    await rejectsWith(cloudfront.send(new DescribeKeyValueStoreCommand({ Name: storeName })), 'EntityNotFound', 404)
  })

  it('distributions associate published functions only; an associated function is DEPLOYED and cannot be deleted', async () => {
    const { cloudfront } = context
    const Name = uniqueReference('assoc')
    const created = await cloudfront.send(
      new CreateFunctionCommand({ Name, FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' }, FunctionCode: encode('function handler(e) { return e.request }') }),
    )
    const FunctionARN = created.FunctionSummary?.FunctionMetadata?.FunctionARN ?? ''
    const withFunction = (arn: string, EventType: 'viewer-request' | 'origin-request' = 'viewer-request') =>
      webDistributionConfig({
        DefaultCacheBehavior: { ...webDistributionConfig().DefaultCacheBehavior!, FunctionAssociations: { Quantity: 1, Items: [{ FunctionARN: arn, EventType }] } },
      })
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({ DistributionConfig: withFunction(FunctionARN) })), 'InvalidFunctionAssociation', 400)
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({ DistributionConfig: withFunction(`${FunctionARN}-gone`) })), 'NoSuchFunctionExists', 404)
    await cloudfront.send(new PublishFunctionCommand({ Name, IfMatch: created.ETag }))
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({ DistributionConfig: withFunction(FunctionARN, 'origin-request') })), 'InvalidFunctionAssociation', 400)

    const { Distribution, ETag } = await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: withFunction(FunctionARN) }))
    const read = await cloudfront.send(new GetDistributionConfigCommand({ Id: Distribution?.Id }))
    assert.deepEqual(read.DistributionConfig?.DefaultCacheBehavior?.FunctionAssociations, { Quantity: 1, Items: [{ FunctionARN, EventType: 'viewer-request' }] })
    assert.equal((await cloudfront.send(new DescribeFunctionCommand({ Name, Stage: 'LIVE' }))).FunctionSummary?.Status, 'DEPLOYED')
    await rejectsWith(cloudfront.send(new DeleteFunctionCommand({ Name, IfMatch: created.ETag })), 'FunctionInUse', 409)

    const config = read.DistributionConfig!
    config.DefaultCacheBehavior!.FunctionAssociations = { Quantity: 0 }
    await cloudfront.send(new UpdateDistributionCommand({ Id: Distribution?.Id, IfMatch: ETag, DistributionConfig: config }))
    assert.equal((await cloudfront.send(new DescribeFunctionCommand({ Name, Stage: 'LIVE' }))).FunctionSummary?.Status, 'UNASSOCIATED')
    await cloudfront.send(new DeleteFunctionCommand({ Name, IfMatch: created.ETag }))
  })

  it('KeyValueStore data plane: put, get, list with paging, update, delete, each write behind the current ETag', async () => {
    const { endpoint } = context
    const { arn, dataEtag } = await deployEdgeFunction()
    const stale = await kvsCall(endpoint, 'PUT', keysPath(arn, 'a'), { Value: '1' }, 'EOLD')
    assert.equal(stale.status, 409)
    assert.equal(stale.errorType, 'ConflictException')
    const noMatch = await kvsCall(endpoint, 'PUT', keysPath(arn, 'a'), { Value: '1' })
    assert.equal(noMatch.errorType, 'ValidationException')
    const updated = await kvsCall(endpoint, 'POST', keysPath(arn), { Puts: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }, { Key: 'c/d', Value: '3' }], Deletes: [{ Key: `hmac:${KEY.id}` }] }, dataEtag)
    assert.deepEqual(updated.json, { ItemCount: 3, TotalSizeInBytes: 8 }, 'keys and values count: a1 b2 c/d3')
    const got = await kvsCall(endpoint, 'GET', keysPath(arn, 'c/d'))
    assert.deepEqual(got.json, { Key: 'c/d', Value: '3', ItemCount: 3, TotalSizeInBytes: 8 })
    const first = await kvsCall(endpoint, 'GET', `${keysPath(arn)}?MaxResults=2`)
    assert.deepEqual(first.json.Items, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }])
    const second = await kvsCall(endpoint, 'GET', `${keysPath(arn)}?MaxResults=2&NextToken=${first.json.NextToken}`)
    assert.deepEqual(second.json, { Items: [{ Key: 'c/d', Value: '3' }] })
    const removed = await kvsCall(endpoint, 'DELETE', keysPath(arn, 'a'), undefined, updated.etag)
    assert.equal(removed.json.ItemCount, 2)
    const missing = await kvsCall(endpoint, 'GET', keysPath(arn, 'a'))
    assert.equal(missing.status, 404)
    assert.equal(missing.errorType, 'ResourceNotFoundException')
    const store = await kvsCall(endpoint, 'GET', `/key-value-stores/${encodeURIComponent(arn)}`)
    assert.equal(store.etag, removed.etag, 'the store reports the latest data ETag')
    assert.equal(store.json.KvsARN, arn)
    const tooBig = await kvsCall(endpoint, 'PUT', keysPath(arn, 'big'), { Value: 'x'.repeat(1025) }, removed.etag)
    assert.equal(tooBig.errorType, 'ValidationException')
  })
})


describe('emulator: `aws cloudfront test-function`', needs('aws'), () => {
  // A second, not CloudFront's 100 ms: a loaded test machine must not fail a run on speed.
  const context = useEmulator({ functionTimeBudgetMs: 1000 })

  it('answers a revoked grant 403 and passes a valid one', async () => {
    const { cloudfront, endpoint } = context
    const { KeyValueStore } = await cloudfront.send(new CreateKeyValueStoreCommand({ Name: uniqueReference('cli-kvs') }))
    const arn = KeyValueStore?.ARN ?? ''
    const current = await kvsCall(endpoint, 'GET', `/key-value-stores/${encodeURIComponent(arn)}`)
    const puts = [{ Key: `hmac:${KEY.id}`, Value: KEY.secret }, { Key: 'revoked:g:grant-revoked', Value: formatRevocationValue({ t: FAR - 3600, x: FAR, r: 'test' }) }]
    assert.equal((await kvsCall(endpoint, 'POST', keysPath(arn), { Puts: puts }, current.etag)).status, 200)
    const Name = uniqueReference('cli-edge')
    const { ETag } = await cloudfront.send(
      new CreateFunctionCommand({
        Name,
        FunctionConfig: { Comment: '', Runtime: EDGE_FUNCTION_RUNTIME, KeyValueStoreAssociations: { Quantity: 1, Items: [{ KeyValueStoreARN: arn }] } },
        FunctionCode: encode(EDGE_FUNCTION_SOURCE),
      }),
    )
    // fileb:// hands the CLI raw bytes whichever CLI major version (v1 takes blobs raw, v2 as base64).
    const eventFile = (grantId: string) => {
      const path = join(AWS_CLI_HOME, `${grantId}.json`)
      writeFileSync(path, JSON.stringify(viewerEvent(createEdgeToken({ grantId, sub: 'cli-user', issuedAt: FAR - 7200, expires: FAR }, KEY))))
      return `fileb://${path}`
    }
    const [revoked, valid] = await Promise.all(
      ['grant-revoked', 'grant-valid'].map((grantId) =>
        awsJson(endpoint, ['cloudfront', 'test-function', '--name', Name, '--if-match', ETag ?? '', '--event-object', eventFile(grantId)]),
      ),
    )
    const denied = JSON.parse(revoked.TestResult.FunctionOutput)
    assert.equal(denied.response.statusCode, 403)
    assert.equal(denied.response.headers['x-edge-deny'].value, 'revoked-grant')
    assert.equal(JSON.parse(valid.TestResult.FunctionOutput).request.uri, '/a.mp4', 'the valid grant is handed on')
  })
})
