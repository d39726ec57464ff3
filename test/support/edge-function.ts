// The local edge's viewer-request stage (test/support/edge.ts): the cloudfront-js-2.0 event CloudFront builds from a
// viewer's request, and where the function and its KeyValueStore come from (the emulator, read at every request, or
// fixed for a test). https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { DescribeFunctionCommand, GetDistributionConfigCommand, GetFunctionCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront'
import { CloudFrontKeyValueStoreClient, ListKeysCommand } from '@aws-sdk/client-cloudfront-keyvaluestore'
// The data plane signs with SigV4A: the plain-JavaScript signer, as the service's own client uses.
import '@aws-sdk/signature-v4a'
import { matchesWildcard } from '../../src/signing/resource.js'
import { createCloudFrontClient, EMULATOR_CREDENTIALS } from './emulator.js'

/** A query parameter, header or cookie as CloudFront presents it: the first value, and every value when repeated. */
export interface EventValue {
  value: string
  multiValue?: Array<{ value: string }>
}

export interface ViewerRequestEvent {
  version: '1.0'
  context: { distributionDomainName: string; distributionId?: string; eventType: 'viewer-request'; requestId: string }
  viewer: { ip: string }
  request: {
    method: string
    uri: string
    querystring: Record<string, EventValue>
    headers: Record<string, EventValue>
    cookies: Record<string, EventValue>
  }
}

export interface ViewerRequestEventOptions {
  distributionDomainName: string
  distributionId?: string
  /** CloudFront-Viewer-Country as CloudFront adds it (two letters); undefined leaves the header out. */
  country?: string
}

/**
 * The event CloudFront hands a viewer-request function for `request`, as received: header names lower-cased, the
 * Cookie header parsed into `cookies` (and not kept among the headers), query names and values percent-decoded.
 */
export function buildViewerRequestEvent(request: IncomingMessage, options: ViewerRequestEventOptions): ViewerRequestEvent {
  const target = request.url ?? '/'
  const queryAt = target.indexOf('?')
  const headers: Record<string, EventValue> = {}
  const cookies: Record<string, EventValue> = {}
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i].toLowerCase()
    const value = request.rawHeaders[i + 1]
    if (name === 'cookie') for (const [cookie, cookieValue] of parseCookiePairs(value)) addValue(cookies, cookie, cookieValue)
    else addValue(headers, name, value)
  }
  if (options.country !== undefined) headers['cloudfront-viewer-country'] = { value: options.country }
  const querystring: Record<string, EventValue> = {}
  if (queryAt >= 0) {
    for (const pair of target.slice(queryAt + 1).split('&')) {
      if (pair === '') continue
      const equals = pair.indexOf('=')
      const name = equals < 0 ? pair : pair.slice(0, equals)
      addValue(querystring, percentDecode(name), equals < 0 ? '' : percentDecode(pair.slice(equals + 1)))
    }
  }
  return {
    version: '1.0',
    context: {
      distributionDomainName: options.distributionDomainName,
      ...(options.distributionId !== undefined && { distributionId: options.distributionId }),
      eventType: 'viewer-request',
      requestId: randomBytes(30).toString('base64url'),
    },
    viewer: { ip: viewerIp(request.socket.remoteAddress ?? '') },
    request: { method: request.method ?? 'GET', uri: queryAt < 0 ? target : target.slice(0, queryAt), querystring, headers, cookies },
  }
}

function addValue(into: Record<string, EventValue>, name: string, value: string): void {
  const existing = into[name]
  if (existing === undefined) {
    into[name] = { value }
    return
  }
  existing.multiValue ??= [{ value: existing.value }]
  existing.multiValue.push({ value })
}

function parseCookiePairs(header: string): Array<[string, string]> {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])
}

// `+` stays `+`: CloudFront decodes percent escapes only (a form's `+` for space is the origin's business).
function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

// An IPv4 viewer on a dual-stack socket shows as ::ffff:a.b.c.d; CloudFront gives the IPv4 address.
function viewerIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address
}

/** The function a request to `uri` runs and its store's content at that moment; undefined when none is associated. */
export interface ViewerRequestStage {
  code: string
  store: ReadonlyMap<string, string>
}

export type ViewerRequestSource = (uri: string) => Promise<ViewerRequestStage | undefined>

/** A fixed function with a store the test fills (a Map it may change between requests). */
export function fixedViewerRequest(code: string, store: ReadonlyMap<string, string>): ViewerRequestSource {
  return async () => ({ code, store })
}

/**
 * The viewer-request function CloudFront runs for a request to distribution `distributionId` in the emulator, read
 * afresh at every request as a deployed change would reach the edge: the cache behaviour matching the path, its
 * viewer-request function association, the function's LIVE code, and the associated KeyValueStore's keys.
 */
export function emulatorViewerRequest(endpoint: string, distributionId: string): ViewerRequestSource & { destroy: () => void } {
  const cloudFront: CloudFrontClient = createCloudFrontClient(endpoint)
  const keyValueStore = new CloudFrontKeyValueStoreClient({
    region: 'us-east-1',
    credentials: EMULATOR_CREDENTIALS,
    maxAttempts: 1,
    endpointProvider: () => ({ url: new URL(endpoint) }),
  })
  const source = async (uri: string): Promise<ViewerRequestStage | undefined> => {
    const { DistributionConfig: config } = await cloudFront.send(new GetDistributionConfigCommand({ Id: distributionId }))
    const behaviour = config?.CacheBehaviors?.Items?.find((candidate) => matchesWildcard(pathPatternOf(candidate.PathPattern ?? ''), uri)) ?? config?.DefaultCacheBehavior
    const association = behaviour?.FunctionAssociations?.Items?.find((item) => item.EventType === 'viewer-request')
    if (association?.FunctionARN === undefined) return undefined
    const name = association.FunctionARN.slice(association.FunctionARN.lastIndexOf('/') + 1)
    const [fn, described] = await Promise.all([
      cloudFront.send(new GetFunctionCommand({ Name: name, Stage: 'LIVE' })),
      cloudFront.send(new DescribeFunctionCommand({ Name: name, Stage: 'LIVE' })),
    ])
    const code = new TextDecoder().decode(fn.FunctionCode)
    const arn = described.FunctionSummary?.FunctionConfig?.KeyValueStoreAssociations?.Items?.[0]?.KeyValueStoreARN
    const store = new Map<string, string>()
    for (let nextToken: string | undefined, page = 0; arn !== undefined && page < 200; page++) {
      const out = await keyValueStore.send(new ListKeysCommand({ KvsARN: arn, MaxResults: 50, NextToken: nextToken }))
      for (const item of out.Items ?? []) if (item.Key !== undefined) store.set(item.Key, item.Value ?? '')
      nextToken = out.NextToken
      if (nextToken === undefined || nextToken === '') break
    }
    return { code, store }
  }
  return Object.assign(source, {
    destroy: () => {
      cloudFront.destroy()
      keyValueStore.destroy()
    },
  })
}

// A cache behaviour's PathPattern may omit the leading slash; `*` and `?` are its wildcards.
const pathPatternOf = (pattern: string) => (pattern.startsWith('/') ? pattern : `/${pattern}`)
