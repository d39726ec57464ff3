// The edge layer on one CloudFront distribution: a KeyValueStore with the HMAC keys (and, later, revocations), the
// viewer-request function that reads it, and that function's association with every cache behaviour that requires
// signed requests. All three are named edgeResourceName(distributionId). Every step is idempotent: a deploy that
// fails half-way is finished by sending it again, and a deploy that finds everything in place writes nothing.
import { setTimeout as sleep } from 'node:timers/promises'
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DescribeFunctionCommand,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  GetFunctionCommand,
  PublishFunctionCommand,
  UpdateDistributionCommand,
  UpdateFunctionCommand,
  type CacheBehavior,
  type DefaultCacheBehavior,
  type DistributionConfig,
  type FunctionConfig,
  type FunctionStage,
  type FunctionSummary,
} from '@aws-sdk/client-cloudfront'
import { EDGE_FUNCTION_RUNTIME, EDGE_FUNCTION_SOURCE } from '../edge/function-source.js'
import { edgeResourceName } from '../edge/naming.js'
import { EDGE_KVS_KEY_PREFIX, EDGE_KVS_REVOKED_GRANT_PREFIX, EDGE_KVS_REVOKED_SUB_PREFIX, type EdgeKey } from '../edge/token.js'
import { appError } from '../http/errors.js'
import type { AwsAccount } from './accounts.js'
import { itemsOf, quantified, updateMerging } from './cloudfront.js'
import { codeOf } from './errors.js'
import { deleteKeyValueStore, ensureKeyValueStore, findKeyValueStore, listKvsKeys, updateKvsKeys, type KeyValueStore, type KvsEntry } from './keyvaluestore.js'

const VIEWER_REQUEST = 'viewer-request'
/** A new store is PROVISIONING for seconds before its keys can be written; a deploy waits this long at most. */
const STORE_READY_TIMEOUT_MS = 60_000
const STORE_READY_MAX_DELAY_MS = 5_000
/** How the answers name the default cache behaviour (others by their path pattern). */
export const DEFAULT_BEHAVIOR_LABEL = '*'

export interface EdgeDeployment {
  distributionId: string
  functionName: string
  functionArn: string
  /** The LIVE stage's ETag: unchanged by a deploy that changed nothing. */
  functionEtag: string
  functionStage: 'LIVE'
  keyValueStoreArn: string
  /** The HMAC key IDs now in the store (`hmac:<id>`), sorted. */
  keyIds: string[]
  /** Every cache behaviour the function guards now: those that require signed requests. */
  behaviors: string[]
  /** Behaviours whose association this call added, or removed (one that no longer requires signed requests). */
  behaviorsChanged: string[]
  /** False when everything was already in place and nothing was written. */
  changed: boolean
  /** The distribution's ETag after the change. */
  etag: string
  /** The distribution's status: InProgress after a change until CloudFront has deployed it. */
  status: string
}

export interface EdgeRemoval {
  distributionId: string
  functionName: string
  behaviorsChanged: string[]
  functionDeleted: boolean
  keyValueStoreDeleted: boolean
  changed: boolean
  /** Absent when the distribution itself is gone. */
  etag?: string
  status?: string
}

export interface EdgeState {
  distributionId: string
  functionName: string
  functionArn?: string
  /** The LIVE stage's ETag; absent when the function was never published. */
  functionEtag?: string
  functionStage?: 'LIVE'
  /** CloudFront's: UNPUBLISHED, UNASSOCIATED or DEPLOYED. */
  functionStatus?: string
  keyValueStoreArn?: string
  keyIds: string[]
  /** Revocation entries (grants and subjects) in the store. */
  revocations: number
  behaviors: string[]
  etag: string
  status: string
}

type Behaviour = CacheBehavior | DefaultCacheBehavior

interface Labelled {
  label: string
  behaviour: Behaviour
}

function behavioursOf(config: DistributionConfig): Labelled[] {
  const others = itemsOf(config.CacheBehaviors).map((behaviour) => ({ label: behaviour.PathPattern ?? '', behaviour }))
  return config.DefaultCacheBehavior === undefined ? others : [{ label: DEFAULT_BEHAVIOR_LABEL, behaviour: config.DefaultCacheBehavior }, ...others]
}

/** A behaviour requires signed requests when it trusts key groups or signers (as distribution-trust.ts reads it). */
function requiresSigning(behaviour: Behaviour): boolean {
  return (behaviour.TrustedKeyGroups?.Enabled === true && itemsOf(behaviour.TrustedKeyGroups).length > 0) ||
    (behaviour.TrustedSigners?.Enabled === true && itemsOf(behaviour.TrustedSigners).length > 0)
}

function viewerRequestFunction(behaviour: Behaviour): string | undefined {
  return itemsOf(behaviour.FunctionAssociations).find((association) => association.EventType === VIEWER_REQUEST)?.FunctionARN
}

/** Our function, by name: its ARN is only known once it exists, and a removal must find it after it is gone. */
function isOurs(arn: string | undefined, functionName: string): boolean {
  return arn !== undefined && arn.endsWith(`:function/${functionName}`)
}

function setViewerRequestFunction(behaviour: Behaviour, arn: string | undefined): void {
  const others = itemsOf(behaviour.FunctionAssociations).filter((association) => association.EventType !== VIEWER_REQUEST)
  behaviour.FunctionAssociations = quantified(arn === undefined ? others : [...others, { FunctionARN: arn, EventType: VIEWER_REQUEST }])
}

/**
 * The behaviours the function must guard, refusing when one of them runs another viewer-request function (a
 * CloudFront function or Lambda@Edge): a behaviour has one, and replacing someone else's would drop its checks.
 */
function guardedBehaviours(config: DistributionConfig, distributionId: string, functionName: string): Labelled[] {
  const signed = behavioursOf(config).filter(({ behaviour }) => requiresSigning(behaviour))
  if (signed.length === 0) {
    throw appError('EDGE_NO_SIGNED_BEHAVIORS', `distribution ${distributionId} has no cache behavior that requires signed requests (trusted key groups or signers): the edge layer guards signed behaviors only`)
  }
  const conflicts = signed.flatMap(({ label, behaviour }) => {
    const fn = viewerRequestFunction(behaviour)
    const lambda = itemsOf(behaviour.LambdaFunctionAssociations).find((association) => association.EventType === VIEWER_REQUEST)?.LambdaFunctionARN
    return [
      ...(fn !== undefined && !isOurs(fn, functionName) ? [{ behavior: label, function: fn }] : []),
      ...(lambda !== undefined ? [{ behavior: label, function: lambda }] : []),
    ]
  })
  if (conflicts.length > 0) {
    const [first] = conflicts
    throw appError('EDGE_FUNCTION_CONFLICT', `cache behavior ${first!.behavior} of distribution ${distributionId} already runs ${first!.function} on viewer-request: remove that association first; nothing was changed`, { conflicts })
  }
  return signed
}

/** Associates `arn` with every signed behaviour and takes it off the others; returns the behaviours it changed. */
function associate(config: DistributionConfig, distributionId: string, functionName: string, arn: string): string[] {
  const guarded = new Set(guardedBehaviours(config, distributionId, functionName).map(({ behaviour }) => behaviour))
  const changed: string[] = []
  for (const { label, behaviour } of behavioursOf(config)) {
    const current = viewerRequestFunction(behaviour)
    if (guarded.has(behaviour) ? current !== arn : isOurs(current, functionName)) {
      setViewerRequestFunction(behaviour, guarded.has(behaviour) ? arn : undefined)
      changed.push(label)
    }
  }
  return changed
}

/** Takes our function off every behaviour; others' associations stay. */
function dissociate(config: DistributionConfig, functionName: string): string[] {
  const changed: string[] = []
  for (const { label, behaviour } of behavioursOf(config)) {
    if (isOurs(viewerRequestFunction(behaviour), functionName)) {
      setViewerRequestFunction(behaviour, undefined)
      changed.push(label)
    }
  }
  return changed
}

interface DistributionState {
  etag: string
  status: string
  config: DistributionConfig
}

async function getDistribution(account: AwsAccount, id: string): Promise<DistributionState> {
  const out = await account.cloudFront.send(new GetDistributionCommand({ Id: id }))
  return { etag: out.ETag ?? '', status: out.Distribution?.Status ?? 'UNKNOWN', config: out.Distribution?.DistributionConfig ?? ({} as DistributionConfig) }
}

/** Applies `change` to the distribution's config with the caller's If-Match; `behaviorsChanged` from the attempt that was sent. */
async function updateDistribution(account: AwsAccount, id: string, change: (config: DistributionConfig) => string[], ifMatch: string | undefined) {
  let behaviorsChanged: string[] = []
  let written = false
  const distribution = await updateMerging<DistributionConfig, DistributionState>(
    {
      getConfig: async () => {
        const out = await account.cloudFront.send(new GetDistributionConfigCommand({ Id: id }))
        return { config: out.DistributionConfig!, etag: out.ETag ?? '' }
      },
      put: async (config, etag) => {
        const out = await account.cloudFront.send(new UpdateDistributionCommand({ Id: id, IfMatch: etag, DistributionConfig: config }))
        written = true
        return { etag: out.ETag ?? '', status: out.Distribution?.Status ?? 'UNKNOWN', config }
      },
      get: () => getDistribution(account, id),
    },
    (config) => {
      behaviorsChanged = change(config)
      return config
    },
    ifMatch,
  )
  return { distribution, behaviorsChanged: written ? behaviorsChanged : [], written }
}

function functionConfigFor(distributionId: string, storeArn: string): FunctionConfig {
  return {
    Comment: `cf-signer edge tokens for distribution ${distributionId}`,
    Runtime: EDGE_FUNCTION_RUNTIME,
    KeyValueStoreAssociations: { Quantity: 1, Items: [{ KeyValueStoreARN: storeArn }] },
  }
}

function sameConfig(summary: FunctionSummary | undefined, wanted: FunctionConfig): boolean {
  const config = summary?.FunctionConfig
  const stores = itemsOf(config?.KeyValueStoreAssociations).map((association) => association.KeyValueStoreARN)
  return config?.Comment === wanted.Comment && config?.Runtime === wanted.Runtime &&
    stores.length === 1 && stores[0] === wanted.KeyValueStoreAssociations?.Items?.[0]?.KeyValueStoreARN
}

/** The function at a stage, with its code; undefined when there is no such function or stage. */
async function readFunction(account: AwsAccount, name: string, stage: FunctionStage): Promise<{ summary: FunctionSummary; etag: string; code: string } | undefined> {
  try {
    const described = await account.cloudFront.send(new DescribeFunctionCommand({ Name: name, Stage: stage }))
    const got = await account.cloudFront.send(new GetFunctionCommand({ Name: name, Stage: stage }))
    return { summary: described.FunctionSummary ?? ({} as FunctionSummary), etag: described.ETag ?? '', code: Buffer.from(got.FunctionCode ?? new Uint8Array()).toString('utf8') }
  } catch (err) {
    if (codeOf(err) === 'NoSuchFunctionExists') return undefined
    throw err
  }
}

async function describeFunction(account: AwsAccount, name: string, stage: FunctionStage): Promise<{ summary: FunctionSummary; etag: string } | undefined> {
  try {
    const out = await account.cloudFront.send(new DescribeFunctionCommand({ Name: name, Stage: stage }))
    return { summary: out.FunctionSummary ?? ({} as FunctionSummary), etag: out.ETag ?? '' }
  } catch (err) {
    if (codeOf(err) === 'NoSuchFunctionExists') return undefined
    throw err
  }
}

/**
 * The function with EDGE_FUNCTION_SOURCE and `config` at both stages: created when missing, updated only when its
 * DEVELOPMENT code or config differs, published only when LIVE differs from DEVELOPMENT.
 */
async function ensureFunction(account: AwsAccount, name: string, config: FunctionConfig): Promise<{ arn: string; liveEtag: string; changed: boolean }> {
  const code = new TextEncoder().encode(EDGE_FUNCTION_SOURCE)
  let changed = false
  let development = await readFunction(account, name, 'DEVELOPMENT')
  let developmentEtag = development?.etag ?? ''
  if (development === undefined) {
    try {
      const out = await account.cloudFront.send(new CreateFunctionCommand({ Name: name, FunctionConfig: config, FunctionCode: code }))
      developmentEtag = out.ETag ?? ''
      changed = true
    } catch (err) {
      // Another replica created it between the two calls: carry on with theirs.
      if (codeOf(err) !== 'FunctionAlreadyExists') throw err
      development = await readFunction(account, name, 'DEVELOPMENT')
      if (development === undefined) throw err
      developmentEtag = development.etag
    }
  }
  if (development !== undefined && (development.code !== EDGE_FUNCTION_SOURCE || !sameConfig(development.summary, config))) {
    const out = await account.cloudFront.send(new UpdateFunctionCommand({ Name: name, IfMatch: development.etag, FunctionConfig: config, FunctionCode: code }))
    developmentEtag = out.ETag ?? ''
    changed = true
  }
  const live = await readFunction(account, name, 'LIVE')
  if (live === undefined || live.code !== EDGE_FUNCTION_SOURCE || !sameConfig(live.summary, config)) {
    await account.cloudFront.send(new PublishFunctionCommand({ Name: name, IfMatch: developmentEtag }))
    changed = true
  }
  const published = changed ? await describeFunction(account, name, 'LIVE') : live
  const arn = published?.summary.FunctionMetadata?.FunctionARN
  if (published === undefined || arn === undefined) throw appError('UPSTREAM_ERROR', `CloudFront answered function ${name} without a LIVE stage or ARN`)
  return { arn, liveEtag: published.etag, changed }
}

/** The store once READY: its keys cannot be written while PROVISIONING. */
async function waitUntilReady(account: AwsAccount, store: KeyValueStore): Promise<KeyValueStore> {
  const deadline = performance.now() + STORE_READY_TIMEOUT_MS
  let delayMs = 500
  while (store.status !== 'READY') {
    if (store.status !== 'PROVISIONING') throw appError('UPSTREAM_ERROR', `key value store ${store.name} is ${store.status}: remove the edge layer and deploy it again`)
    if (performance.now() + delayMs > deadline) throw appError('WAIT_TIMEOUT', `key value store ${store.name} is still PROVISIONING: send the PUT again`, { lastStatus: store.status })
    await sleep(delayMs)
    delayMs = Math.min(delayMs * 2, STORE_READY_MAX_DELAY_MS)
    const current = await findKeyValueStore(account, store.name)
    if (current === undefined) throw appError('UPSTREAM_ERROR', `key value store ${store.name} disappeared while provisioning`)
    store = current
  }
  return store
}

/** Puts every configured key as `hmac:<id>` whose value differs, deletes the `hmac:` keys no longer configured. */
async function syncKeys(account: AwsAccount, storeArn: string, keys: readonly EdgeKey[]): Promise<boolean> {
  const present = new Map((await listKvsKeys(account, storeArn, EDGE_KVS_KEY_PREFIX)).map((entry) => [entry.key, entry.value]))
  const wanted = new Map(keys.map((key) => [EDGE_KVS_KEY_PREFIX + key.id, key.secret]))
  const puts: KvsEntry[] = [...wanted].filter(([key, secret]) => present.get(key) !== secret).map(([key, value]) => ({ key, value }))
  const deletes = [...present.keys()].filter((key) => !wanted.has(key))
  if (puts.length === 0 && deletes.length === 0) return false
  await updateKvsKeys(account, storeArn, { puts, deletes })
  return true
}

/**
 * Deploys the edge layer on a distribution (see the file's comment). Checks first, writes after: a distribution
 * without a signed behaviour (409 EDGE_NO_SIGNED_BEHAVIORS), a signed behaviour that runs another viewer-request
 * function (409 EDGE_FUNCTION_CONFLICT) or a stale If-Match (412) changes nothing.
 */
export async function deployEdge(account: AwsAccount, distributionId: string, options: { keys: readonly EdgeKey[]; ifMatch?: string }): Promise<EdgeDeployment> {
  if (options.keys.length === 0) throw appError('EDGE_NOT_CONFIGURED', 'no edge HMAC key is configured (edge.keysDir)')
  const name = edgeResourceName(distributionId)
  const current = await account.cloudFront.send(new GetDistributionConfigCommand({ Id: distributionId }))
  if (options.ifMatch !== undefined && options.ifMatch !== current.ETag) {
    throw appError('PreconditionFailed', `If-Match ${options.ifMatch} is not the distribution's current ETag; nothing was changed`)
  }
  guardedBehaviours(current.DistributionConfig ?? ({} as DistributionConfig), distributionId, name)

  const ensured = await ensureKeyValueStore(account, name, `cf-signer edge keys and revocations for distribution ${distributionId}`)
  const store = await waitUntilReady(account, ensured.store)
  const storeCreated = ensured.created
  const keysChanged = await syncKeys(account, store.arn, options.keys)
  const fn = await ensureFunction(account, name, functionConfigFor(distributionId, store.arn))
  const { distribution, behaviorsChanged, written } = await updateDistribution(account, distributionId, (config) => associate(config, distributionId, name, fn.arn), options.ifMatch)
  return {
    distributionId,
    functionName: name,
    functionArn: fn.arn,
    functionEtag: fn.liveEtag,
    functionStage: 'LIVE',
    keyValueStoreArn: store.arn,
    keyIds: options.keys.map((key) => key.id).sort(),
    behaviors: behavioursOf(distribution.config).filter(({ behaviour }) => viewerRequestFunction(behaviour) === fn.arn).map(({ label }) => label),
    behaviorsChanged,
    changed: storeCreated || keysChanged || fn.changed || written,
    etag: distribution.etag,
    status: distribution.status,
  }
}

/**
 * Takes the edge layer off a distribution: our association off every behaviour (others' stay), then the function,
 * then the store with its keys and revocations. Nothing left to remove answers `changed: false`. A distribution
 * that no longer exists is skipped, so its edge resources can still be cleaned up. CloudFront may refuse the
 * function's deletion (409 FunctionInUse) until the distribution change has deployed: send the DELETE again.
 */
export async function removeEdge(account: AwsAccount, distributionId: string, ifMatch?: string): Promise<EdgeRemoval> {
  const name = edgeResourceName(distributionId)
  let update: Awaited<ReturnType<typeof updateDistribution>> | undefined
  try {
    update = await updateDistribution(account, distributionId, (config) => dissociate(config, name), ifMatch)
  } catch (err) {
    if (codeOf(err) !== 'NoSuchDistribution' || ifMatch !== undefined) throw err
  }
  let functionDeleted = false
  const fn = await describeFunction(account, name, 'DEVELOPMENT')
  if (fn !== undefined) {
    try {
      await account.cloudFront.send(new DeleteFunctionCommand({ Name: name, IfMatch: fn.etag }))
      functionDeleted = true
    } catch (err) {
      if (codeOf(err) !== 'NoSuchFunctionExists') throw err
    }
  }
  const keyValueStoreDeleted = await deleteKeyValueStore(account, name)
  return {
    distributionId,
    functionName: name,
    behaviorsChanged: update?.behaviorsChanged ?? [],
    functionDeleted,
    keyValueStoreDeleted,
    changed: (update?.written ?? false) || functionDeleted || keyValueStoreDeleted,
    ...(update !== undefined && { etag: update.distribution.etag, status: update.distribution.status }),
  }
}

/** What is deployed: 409 EDGE_NOT_DEPLOYED when neither the function nor the store exists. Never a secret. */
export async function describeEdge(account: AwsAccount, distributionId: string): Promise<EdgeState> {
  const name = edgeResourceName(distributionId)
  const distribution = await getDistribution(account, distributionId)
  const [development, live, store] = await Promise.all([
    describeFunction(account, name, 'DEVELOPMENT'),
    describeFunction(account, name, 'LIVE'),
    findKeyValueStore(account, name),
  ])
  if (development === undefined && store === undefined) {
    throw appError('EDGE_NOT_DEPLOYED', `the edge layer is not deployed on distribution ${distributionId} (PUT /v1/admin/distributions/${distributionId}/edge deploys it)`)
  }
  const keys = store === undefined ? [] : (await listKvsKeys(account, store.arn)).map((entry) => entry.key)
  return {
    distributionId,
    functionName: name,
    ...(development !== undefined && {
      functionArn: development.summary.FunctionMetadata?.FunctionARN,
      functionStatus: (live ?? development).summary.Status,
    }),
    ...(live !== undefined && { functionEtag: live.etag, functionStage: 'LIVE' as const }),
    ...(store !== undefined && { keyValueStoreArn: store.arn }),
    keyIds: keys.filter((key) => key.startsWith(EDGE_KVS_KEY_PREFIX)).map((key) => key.slice(EDGE_KVS_KEY_PREFIX.length)).sort(),
    revocations: keys.filter((key) => key.startsWith(EDGE_KVS_REVOKED_GRANT_PREFIX) || key.startsWith(EDGE_KVS_REVOKED_SUB_PREFIX)).length,
    behaviors: behavioursOf(distribution.config).filter(({ behaviour }) => isOurs(viewerRequestFunction(behaviour), name)).map(({ label }) => label),
    etag: distribution.etag,
    status: distribution.status,
  }
}
