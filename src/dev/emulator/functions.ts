// CloudFront Functions (2020-05-31 REST-XML): create, describe, get, update, publish, list, delete, and TestFunction,
// which really runs the code (function-runtime.ts) against the event with the associated KeyValueStore's live content.
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-functions.html
// Functions live in memory only: the state file does not keep them.
import { ApiError, invalidArgument } from './errors.js'
import { FUNCTION_TIME_BUDGET_MS, runFunction } from './function-runtime.js'
import { cloudFrontXml, createKeyValueStores, readCloudFrontRequest, type KeyValueStores } from './keyvaluestore.js'
import type { EmulatorRequest, Reply, Route } from './routing.js'
import { ACCOUNT_ID, newEtag, toIso } from './state.js'
import { checkIfMatch, PUBLIC_ENDPOINT } from './wire.js'
import { isNode, itemsOf, nodeAt, textOf } from './xml.js'
import type { XmlNode } from './xml-node.js'

const NAME_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/
const RUNTIMES = new Set(['cloudfront-js-1.0', 'cloudfront-js-2.0'])
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-functions
const MAX_CODE_BYTES = 10_240
const MAX_EVENT_BYTES = 40_960
const MAX_FUNCTIONS = 100
const MAX_COMMENT_LENGTH = 128

interface FunctionConfig {
  comment: string
  runtime: string
  keyValueStoreArns: string[]
}

interface FunctionVersion {
  code: string
  config: FunctionConfig
  etag: string
  modifiedAt: number
}

interface StoredFunction {
  name: string
  createdAt: number
  development: FunctionVersion
  live?: FunctionVersion
}

type Stage = 'DEVELOPMENT' | 'LIVE'

export type EdgeEmulation = ReturnType<typeof createEdgeEmulation>

export interface EdgeEmulationOptions {
  timeBudgetMs?: number
  /** Every web distribution's stored config: a function they associate is DEPLOYED and cannot be deleted. */
  distributionConfigs?: () => readonly XmlNode[]
}

const FUNCTION_EVENT_TYPES = new Set(['viewer-request', 'viewer-response'])

/** Functions and KeyValueStores together: a function reads the store it is associated with. */
export function createEdgeEmulation(now: () => number, options: EdgeEmulationOptions = {}) {
  const keyValueStores = createKeyValueStores(now)
  const functions = new Map<string, StoredFunction>()
  keyValueStores.onInUse((arn) =>
    [...functions.values()].some((fn) => [fn.development, fn.live].some((version) => version?.config.keyValueStoreArns.includes(arn))),
  )
  const associatedArns = (): Set<string> => new Set((options.distributionConfigs?.() ?? []).flatMap(functionAssociationsOf).map((association) => association.arn))
  const routes = [
    ...createFunctionRoutes(functions, keyValueStores, now, options.timeBudgetMs ?? FUNCTION_TIME_BUDGET_MS, associatedArns),
    ...keyValueStores.controlRoutes,
  ]
  return {
    /** CloudFront (2020-05-31) routes, relative to the API prefix. */
    routes,
    /** The `cloudfront-keyvaluestore` service. */
    dataPlane: keyValueStores.dataPlane,
    /**
     * What CloudFront checks of a distribution config's FunctionAssociations: each names an existing function that
     * has a LIVE stage, for a viewer event, at most once per event type in a cache behaviour.
     */
    checkDistributionConfig(config: XmlNode): void {
      for (const behaviour of [config.DefaultCacheBehavior, ...itemsOf(config.CacheBehaviors)].map(nodeAt)) {
        const seen = new Set<string>()
        for (const { arn, eventType } of functionAssociationsOf({ DefaultCacheBehavior: behaviour })) {
          if (!FUNCTION_EVENT_TYPES.has(eventType) || seen.has(eventType)) {
            throw new ApiError('InvalidFunctionAssociation', 400, `A CloudFront function can be associated once per behavior with viewer-request or viewer-response, not ${eventType}.`)
          }
          seen.add(eventType)
          const name = arn.startsWith(FUNCTION_ARN_PREFIX) ? arn.slice(FUNCTION_ARN_PREFIX.length) : undefined
          const fn = name === undefined ? undefined : functions.get(name)
          if (fn === undefined) throw new ApiError('NoSuchFunctionExists', 404, `The function ${arn} does not exist.`)
          if (fn.live === undefined) throw new ApiError('InvalidFunctionAssociation', 400, `The function ${fn.name} is not published: associate its LIVE stage.`)
        }
      }
    },
    reset(): void {
      functions.clear()
      keyValueStores.reset()
    },
  }
}

const FUNCTION_ARN_PREFIX = `arn:aws:cloudfront::${ACCOUNT_ID}:function/`

/** Every FunctionAssociation in a distribution config, default and other cache behaviours. */
function functionAssociationsOf(config: XmlNode): Array<{ arn: string; eventType: string }> {
  return [config.DefaultCacheBehavior, ...itemsOf(config.CacheBehaviors)]
    .flatMap((behaviour) => itemsOf(nodeAt(behaviour).FunctionAssociations))
    .map((association) => ({ arn: textOf(nodeAt(association).FunctionARN), eventType: textOf(nodeAt(association).EventType) }))
}

function createFunctionRoutes(
  functions: Map<string, StoredFunction>,
  stores: KeyValueStores,
  now: () => number,
  timeBudgetMs: number,
  associatedArns: () => Set<string>,
): Route[] {
  const arnOf = (name: string) => `${FUNCTION_ARN_PREFIX}${name}`
  const stageOf = (request: EmulatorRequest, fallback: Stage = 'DEVELOPMENT'): Stage => {
    const stage = request.query.get('Stage') ?? fallback
    if (stage !== 'DEVELOPMENT' && stage !== 'LIVE') throw invalidArgument(`The parameter Stage has an invalid value: ${JSON.stringify(stage)}.`)
    return stage
  }
  const find = (name: string): StoredFunction => {
    const fn = functions.get(name)
    if (fn === undefined) throw new ApiError('NoSuchFunctionExists', 404, `The function ${name} does not exist.`)
    return fn
  }
  const versionOf = (fn: StoredFunction, stage: Stage): FunctionVersion => {
    const version = stage === 'LIVE' ? fn.live : fn.development
    if (version === undefined) throw new ApiError('NoSuchFunctionExists', 404, `The function ${fn.name} has no ${stage} stage.`)
    return version
  }
  const summary = (fn: StoredFunction, stage: Stage) => {
    const version = versionOf(fn, stage)
    const arns = version.config.keyValueStoreArns
    return {
      Name: fn.name,
      Status: fn.live === undefined ? 'UNPUBLISHED' : associatedArns().has(arnOf(fn.name)) ? 'DEPLOYED' : 'UNASSOCIATED',
      FunctionConfig: {
        Comment: version.config.comment,
        Runtime: version.config.runtime,
        ...(arns.length > 0 && {
          KeyValueStoreAssociations: { Quantity: arns.length, Items: { KeyValueStoreAssociation: arns.map((arn) => ({ KeyValueStoreARN: arn })) } },
        }),
      },
      FunctionMetadata: { FunctionARN: arnOf(fn.name), Stage: stage, CreatedTime: toIso(fn.createdAt), LastModifiedTime: toIso(version.modifiedAt) },
    }
  }

  function readConfig(raw: unknown): FunctionConfig {
    if (!isNode(raw)) throw invalidArgument('The parameter FunctionConfig is required.')
    const config = raw as Record<string, unknown>
    const comment = typeof config.Comment === 'string' ? config.Comment : ''
    if (comment.length > MAX_COMMENT_LENGTH) throw invalidArgument(`The parameter Comment is longer than ${MAX_COMMENT_LENGTH} characters.`)
    const runtime = typeof config.Runtime === 'string' ? config.Runtime : ''
    if (!RUNTIMES.has(runtime)) throw invalidArgument(`The parameter Runtime has an invalid value: ${JSON.stringify(runtime)}.`)
    const associations = isNode(config.KeyValueStoreAssociations) ? (config.KeyValueStoreAssociations as Record<string, unknown>) : {}
    const items = isNode(associations.Items) ? (associations.Items as Record<string, unknown>).KeyValueStoreAssociation : []
    const arns = (Array.isArray(items) ? items : []).map((item) => (isNode(item) ? String((item as Record<string, unknown>).KeyValueStoreARN ?? '') : ''))
    if (associations.Quantity !== undefined && Number(associations.Quantity) !== arns.length) {
      throw new ApiError('InconsistentQuantities', 400, 'The value of Quantity and the size of Items in KeyValueStoreAssociations do not match.')
    }
    if (arns.length > 1) throw invalidArgument('A function can be associated with one key value store.')
    if (arns.length > 0 && runtime !== 'cloudfront-js-2.0') throw invalidArgument('Key value stores need the cloudfront-js-2.0 runtime.')
    const unknown = arns.find((arn) => stores.byArn(arn) === undefined)
    if (unknown !== undefined) throw new ApiError('EntityNotFound', 404, `The key value store ${unknown} does not exist.`)
    return { comment, runtime, keyValueStoreArns: arns }
  }

  function readCode(raw: unknown): string {
    if (typeof raw !== 'string' || raw.trim() === '') throw invalidArgument('The parameter FunctionCode is required.')
    const code = Buffer.from(raw, 'base64')
    if (code.length > MAX_CODE_BYTES) throw new ApiError('FunctionSizeLimitExceeded', 413, `The function code is over ${MAX_CODE_BYTES} bytes.`)
    return code.toString('utf8')
  }

  function create(request: EmulatorRequest): Reply {
    const body = readCloudFrontRequest(request.body, 'CreateFunctionRequest')
    const name = typeof body.Name === 'string' ? body.Name : ''
    if (!NAME_PATTERN.test(name)) throw invalidArgument(`The parameter Name has an invalid value: ${JSON.stringify(name)}.`)
    if (functions.has(name)) throw new ApiError('FunctionAlreadyExists', 409, `A function named ${name} already exists.`)
    if (functions.size >= MAX_FUNCTIONS) throw new ApiError('TooManyFunctions', 400, 'You have reached the maximum number of functions.')
    const at = now()
    const fn: StoredFunction = {
      name,
      createdAt: at,
      development: { config: readConfig(body.FunctionConfig), code: readCode(body.FunctionCode), etag: newEtag(), modifiedAt: at },
    }
    functions.set(name, fn)
    return cloudFrontXml(201, 'FunctionSummary', summary(fn, 'DEVELOPMENT'), {
      ETag: fn.development.etag,
      Location: `${PUBLIC_ENDPOINT}/function/${arnOf(name)}`,
    })
  }

  function update(request: EmulatorRequest): Reply {
    const fn = find(request.params.Name ?? '')
    checkIfMatch(request, fn.development)
    const body = readCloudFrontRequest(request.body, 'UpdateFunctionRequest')
    fn.development = { config: readConfig(body.FunctionConfig), code: readCode(body.FunctionCode), etag: newEtag(), modifiedAt: now() }
    // The API model names UpdateFunction's version header `ETtag`, so that is where SDKs read it.
    return cloudFrontXml(200, 'FunctionSummary', summary(fn, 'DEVELOPMENT'), { ETag: fn.development.etag, ETtag: fn.development.etag })
  }

  function publish(request: EmulatorRequest): Reply {
    const fn = find(request.params.Name ?? '')
    checkIfMatch(request, fn.development)
    const at = now()
    fn.live = { ...fn.development, config: structuredClone(fn.development.config), etag: newEtag(), modifiedAt: at }
    return cloudFrontXml(200, 'FunctionSummary', summary(fn, 'LIVE'))
  }

  function list(request: EmulatorRequest): Reply {
    const stage = request.query.has('Stage') ? stageOf(request) : undefined
    const marker = request.query.get('Marker') ?? ''
    const rawMax = request.query.get('MaxItems') ?? '100'
    if (!/^[1-9]\d{0,3}$/.test(rawMax)) throw invalidArgument(`The parameter MaxItems has an invalid value: ${JSON.stringify(rawMax)}.`)
    const listed = [...functions.values()]
      .filter((fn) => stage !== 'LIVE' || fn.live !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name))
      .filter((fn) => fn.name > marker)
    const page = listed.slice(0, Number(rawMax))
    return cloudFrontXml(200, 'FunctionList', {
      ...(listed.length > page.length && { NextMarker: page.at(-1)?.name }),
      MaxItems: Number(rawMax),
      Quantity: page.length,
      ...(page.length > 0 && { Items: { FunctionSummary: page.map((fn) => summary(fn, stage ?? 'DEVELOPMENT')) } }),
    })
  }

  function test(request: EmulatorRequest): Reply {
    const fn = find(request.params.Name ?? '')
    const body = readCloudFrontRequest(request.body, 'TestFunctionRequest')
    const stage = body.Stage === undefined ? 'DEVELOPMENT' : String(body.Stage)
    if (stage !== 'DEVELOPMENT' && stage !== 'LIVE') throw invalidArgument(`The parameter Stage has an invalid value: ${JSON.stringify(stage)}.`)
    const version = versionOf(fn, stage)
    checkIfMatch(request, version)
    const event = readEvent(body.EventObject)
    const arn = version.config.keyValueStoreArns[0]
    const store = arn === undefined ? undefined : stores.byArn(arn)
    const run = runFunction(version.code, event, store?.items ?? new Map(), {
      timeoutMs: timeBudgetMs,
      ...(arn !== undefined && { meta: stores.meta(arn) }),
    })
    const isResponse = isNode(run.output) && (run.output as Record<string, unknown>).statusCode !== undefined
    const reply = cloudFrontXml(200, 'TestResult', {
      FunctionSummary: summary(fn, stage),
      ComputeUtilization: String(Math.min(100, Math.max(1, Math.ceil((run.elapsedMs / timeBudgetMs) * 100)))),
      FunctionExecutionLogs: run.logs.length === 0 ? '' : { member: run.logs },
      ...(run.error !== undefined && { FunctionErrorMessage: run.error }),
      ...(run.error === undefined && { FunctionOutput: JSON.stringify({ [isResponse ? 'response' : 'request']: run.output }) }),
    })
    return { ...reply, readOnly: true }
  }

  return [
    { method: 'POST', pattern: '/function', operation: 'CreateFunction', handle: create },
    { method: 'GET', pattern: '/function', operation: 'ListFunctions', handle: list },
    {
      method: 'GET',
      pattern: '/function/:Name/describe',
      operation: 'DescribeFunction',
      handle: (request) => {
        const fn = find(request.params.Name ?? '')
        const stage = stageOf(request)
        return cloudFrontXml(200, 'FunctionSummary', summary(fn, stage), { ETag: versionOf(fn, stage).etag })
      },
    },
    {
      method: 'GET',
      pattern: '/function/:Name',
      operation: 'GetFunction',
      handle: (request) => {
        const version = versionOf(find(request.params.Name ?? ''), stageOf(request))
        return { status: 200, headers: { 'Content-Type': 'application/octet-stream', ETag: version.etag }, body: version.code }
      },
    },
    { method: 'PUT', pattern: '/function/:Name', operation: 'UpdateFunction', handle: update },
    { method: 'POST', pattern: '/function/:Name/publish', operation: 'PublishFunction', handle: publish },
    { method: 'POST', pattern: '/function/:Name/test', operation: 'TestFunction', handle: test },
    {
      method: 'DELETE',
      pattern: '/function/:Name',
      operation: 'DeleteFunction',
      handle: (request) => {
        const fn = find(request.params.Name ?? '')
        checkIfMatch(request, fn.development)
        if (associatedArns().has(arnOf(fn.name))) {
          throw new ApiError('FunctionInUse', 409, `The function ${fn.name} is associated with a distribution: remove the association first.`)
        }
        functions.delete(fn.name)
        return { status: 204 }
      },
    },
  ]
}

/** The test event, with the members CloudFront always gives a viewer-request function filled in. */
function readEvent(raw: unknown): unknown {
  const text = typeof raw === 'string' ? Buffer.from(raw, 'base64').toString('utf8') : ''
  if (text.length > MAX_EVENT_BYTES) throw invalidArgument(`The EventObject is over ${MAX_EVENT_BYTES} bytes.`)
  let event: unknown
  try {
    event = JSON.parse(text)
  } catch {
    throw invalidArgument('The EventObject is not valid JSON.')
  }
  if (!isNode(event) || !isNode((event as Record<string, unknown>).request)) throw invalidArgument('The EventObject has no request.')
  const { request, viewer, context, version } = event as Record<string, Record<string, unknown>>
  return {
    version: version ?? '1.0',
    context: { eventType: 'viewer-request', ...context },
    viewer: { ip: '198.51.100.1', ...viewer },
    request: { method: 'GET', uri: '/', querystring: {}, headers: {}, cookies: {}, ...request },
  }
}
