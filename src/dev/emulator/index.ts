// A local CloudFront (2020-05-31) + S3 emulator on one plain node:http port, for tests and development mode.
// API: https://docs.aws.amazon.com/cloudfront/latest/APIReference/ . SigV4 is never checked, so any credentials work.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createCloudFrontService } from './cloudfront.js'
import { ApiError } from './errors.js'
import { createEdgeEmulation } from './functions.js'
import { isKeyValueStoreDataRequest } from './keyvaluestore.js'
import { checkKmsOptions, createKmsService, isKmsRequest, type CreateKmsKeyInput, type CreatedKmsKey, type KmsOptions } from './kms.js'
import type { Reply, Service } from './routing.js'
import { createS3Service } from './s3.js'
import { createState, type AclEntry, toIso } from './state.js'
import { readStateFile, writeStateFile } from './state-file.js'
import { API_PREFIX } from './wire.js'

export interface CloudFrontEmulatorOptions {
  /** Seconds on the emulator's clock before a created or updated distribution reports Deployed (default 0). */
  deploySeconds?: number
  /** Seconds before an invalidation reports Completed (default 0). */
  invalidationSeconds?: number
  /** `post-2020`: RTMP is gone, as on AWS since 31 Dec 2020 (Create → AccessDenied, List empty, Get → 404). */
  rtmpMode?: 'full' | 'post-2020'
  /** Epoch milliseconds; advanceClock() moves the emulator's clock ahead of it. */
  now?: () => number
  /** A JSON file that keeps the world across restarts: read here if it exists, rewritten after each change. */
  stateFile?: string
  /** Milliseconds each KMS Sign waits before answering, without blocking other calls (default 0). */
  kmsSignLatencyMs?: number
  /** Every Nth KMS Sign answers ThrottlingException, as KMS does past its request quota (default 0: never). */
  kmsThrottleSignEvery?: number
  /** How long TestFunction lets a function run (default: CloudFront's budget); tests on a loaded machine raise it. */
  functionTimeBudgetMs?: number
}

export interface FaultSpec {
  /** SDK-style operation name: `CreateDistribution`, `UpdateDistribution`, `PutBucketPolicy`, KMS `Sign`, or `*` for any. */
  operation: string
  /** Error code to answer with, e.g. `Throttling` or `ServiceUnavailable`; without it the call only waits `delayMs`. */
  code?: string
  /** Defaults to 503 for ServiceUnavailable, 500 for InternalError, else 400. */
  status?: number
  message?: string
  /** How many matching calls fail (default 1). */
  times?: number
  /** Wait this long before answering, e.g. to trip a client's request timeout. */
  delayMs?: number
}

interface Fault {
  operation: string
  code?: string
  status: number
  message: string
  remaining: number
  delayMs: number
}

const CONTROL_PREFIX = '/__emulator'
const READ_METHODS = new Set(['GET', 'HEAD'])
const DEFAULT_FAULT_STATUS: Record<string, number> = { ServiceUnavailable: 503, InternalError: 500, InternalFailure: 500 }
const DEFAULT_FAULT_MESSAGE: Record<string, string> = { Throttling: 'Rate exceeded', ServiceUnavailable: 'Service Unavailable' }

export type CloudFrontEmulator = ReturnType<typeof createCloudFrontEmulator>

export function createCloudFrontEmulator(options: CloudFrontEmulatorOptions = {}) {
  const state = createState({
    deploySeconds: options.deploySeconds ?? 0,
    invalidationSeconds: options.invalidationSeconds ?? 0,
    rtmpMode: options.rtmpMode ?? 'full',
    now: options.now ?? Date.now,
  })
  const { stateFile } = options
  const saved = stateFile === undefined ? undefined : readStateFile(stateFile)
  if (saved !== undefined) state.restore(saved)
  const save = () => {
    if (stateFile !== undefined) writeStateFile(stateFile, state.snapshot())
  }
  const edge = createEdgeEmulation(() => state.now(), {
    timeBudgetMs: options.functionTimeBudgetMs,
    distributionConfigs: () => state.distributions.values().map((distribution) => distribution.config),
  })
  const cloudfront = createCloudFrontService(state, edge.routes, edge.checkDistributionConfig)
  const s3 = createS3Service(state)
  let faults: Fault[] = []
  let callWaiters: Array<{ operation: string; resolve: () => void }> = []
  const closing = new AbortController()
  const kmsOptions: KmsOptions = { signLatencyMs: options.kmsSignLatencyMs ?? 0, throttleSignEvery: options.kmsThrottleSignEvery ?? 0 }
  checkKmsOptions(kmsOptions)
  const kms = createKmsService(state, kmsOptions, closing.signal)
  let baseUrl: string | undefined

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      console.error('cloudfront emulator:', error)
      response.destroy()
    })
  })

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID()
    const url = new URL(request.url ?? '/', 'http://emulator.invalid')
    const body = await readBody(request)
    if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
      send(response, control(request.method ?? 'GET', url, body), { 'x-amzn-RequestId': requestId })
      return
    }
    const isCloudFront = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)
    const service = isKmsRequest(request.headers)
      ? kms.service
      : isKeyValueStoreDataRequest(url.pathname)
        ? edge.dataPlane
        : isCloudFront
          ? cloudfront
          : s3
    const reply = await dispatch(service, request, url, body, requestId)
    if (!READ_METHODS.has(request.method ?? 'GET') && reply.status < 300 && reply.readOnly !== true) save()
    if (closing.signal.aborted) response.destroy()
    else send(response, reply, service.requestIdHeaders(requestId))
  }

  async function dispatch(service: Service, request: IncomingMessage, url: URL, body: Buffer, requestId: string): Promise<Reply> {
    const method = request.method ?? 'GET'
    try {
      const operation = service.resolve(method, url.pathname, url.searchParams, request.headers)
      if (operation === undefined) throw service.unknownOperation(method, url.pathname)
      notifyCall(operation.name)
      const fault = takeFault(operation.name)
      if (fault !== undefined && fault.delayMs > 0) await sleep(fault.delayMs, undefined, { signal: closing.signal })
      if (fault?.code !== undefined) throw new ApiError(fault.code, fault.status, fault.message)
      return await operation.handle({
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body,
        params: operation.params,
      })
    } catch (error) {
      if (error instanceof ApiError) return service.renderError(error, requestId)
      if (!closing.signal.aborted) console.error('cloudfront emulator:', error)
      return service.renderError(new ApiError('InternalError', 500, 'We encountered an internal error. Please try again.'), requestId)
    }
  }

  function notifyCall(operation: string): void {
    const called = callWaiters.filter((waiter) => waiter.operation === operation)
    if (called.length === 0) return
    callWaiters = callWaiters.filter((waiter) => waiter.operation !== operation)
    for (const waiter of called) waiter.resolve()
  }

  /** Resolves when `operation` is next called, before it is handled: tests act on "while a client waits" without sleeping. */
  function nextCall(operation: string): Promise<void> {
    return new Promise((resolve) => callWaiters.push({ operation, resolve }))
  }

  function takeFault(operation: string): Fault | undefined {
    const fault = faults.find((candidate) => candidate.operation === operation || candidate.operation === '*')
    if (fault === undefined) return undefined
    fault.remaining -= 1
    if (fault.remaining === 0) faults = faults.filter((candidate) => candidate !== fault)
    return fault
  }

  function injectFault(spec: FaultSpec): void {
    const times = spec.times ?? 1
    if (typeof spec.operation !== 'string' || spec.operation === '') {
      throw new TypeError('fault.operation must be an operation name such as CreateDistribution')
    }
    if (spec.code === undefined && spec.delayMs === undefined) throw new TypeError('a fault needs a code, a delayMs, or both')
    if (!Number.isInteger(times) || times < 1) throw new TypeError('fault.times must be a positive integer')
    const code = spec.code
    faults.push({
      operation: spec.operation,
      code,
      status: spec.status ?? (code === undefined ? 400 : DEFAULT_FAULT_STATUS[code] ?? 400),
      message: spec.message ?? (code === undefined ? '' : DEFAULT_FAULT_MESSAGE[code] ?? code),
      remaining: times,
      delayMs: spec.delayMs ?? 0,
    })
  }

  /** A KMS key (and alias) made without a client; the answer carries its public key as PEM. */
  function createKmsKey(input: CreateKmsKeyInput): CreatedKmsKey {
    let created: CreatedKmsKey
    try {
      created = kms.createKey(input)
    } catch (error) {
      throw error instanceof ApiError ? new TypeError(`${error.code}: ${error.message}`) : error
    }
    save()
    return created
  }

  /** Changes the Sign latency or throttling while the emulator runs. */
  function configureKms(changes: Pick<CloudFrontEmulatorOptions, 'kmsSignLatencyMs' | 'kmsThrottleSignEvery'>): void {
    kms.configure({
      ...(changes.kmsSignLatencyMs !== undefined && { signLatencyMs: changes.kmsSignLatencyMs }),
      ...(changes.kmsThrottleSignEvery !== undefined && { throttleSignEvery: changes.kmsThrottleSignEvery }),
    })
  }

  function advanceClock(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new TypeError('seconds must be a non-negative number')
    state.advanceClock(seconds)
    save()
  }

  function reset(): void {
    state.reset()
    faults = []
    kms.resetCounters()
    edge.reset()
    save()
  }

  /** Test-control endpoints, so a separate process (the AWS CLI, a child service) can drive the emulator. */
  function control(method: string, url: URL, body: Buffer): Reply {
    const json = (status: number, value: unknown): Reply => ({
      status,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(value),
    })
    const action = `${method} ${url.pathname.slice(CONTROL_PREFIX.length)}`
    try {
      switch (action) {
        case 'GET /health':
          return json(200, { status: 'ok', now: toIso(state.now()) })
        case 'POST /reset':
          reset()
          return json(200, { status: 'reset' })
        case 'POST /advance-clock':
          advanceClock(Number(url.searchParams.get('seconds') ?? Number.NaN))
          return json(200, { now: toIso(state.now()) })
        case 'POST /fault':
          injectFault(JSON.parse(body.toString('utf8') || '{}') as FaultSpec)
          return json(201, { faults: faults.length })
        case 'DELETE /fault':
          faults = []
          return json(200, { faults: 0 })
        case 'GET /kms':
          return json(200, { signCount: kms.signCount(), keys: kms.listKeys() })
        case 'POST /kms/keys':
          return json(201, createKmsKey(JSON.parse(body.toString('utf8') || '{}') as CreateKmsKeyInput))
        case 'POST /kms/options':
          configureKms(JSON.parse(body.toString('utf8') || '{}') as Pick<CloudFrontEmulatorOptions, 'kmsSignLatencyMs' | 'kmsThrottleSignEvery'>)
          return json(200, { kmsSignLatencyMs: kmsOptions.signLatencyMs, kmsThrottleSignEvery: kmsOptions.throttleSignEvery })
        default:
          return json(404, { error: `unknown control endpoint ${action}` })
      }
    } catch (error) {
      return json(400, { error: error instanceof Error ? error.message : String(error) })
    }
  }

  return {
    /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:4566`. */
    async listen({ host = '127.0.0.1', port = 0 }: { host?: string; port?: number } = {}): Promise<string> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const address = server.address() as AddressInfo
      baseUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      return baseUrl
    },
    async close(): Promise<void> {
      closing.abort()
      if (!server.listening) return
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    },
    get url(): string {
      if (baseUrl === undefined) throw new Error('the emulator is not listening; call listen() first')
      return baseUrl
    },
    reset,
    injectFault,
    advanceClock,
    nextCall,
    createKmsKey,
    /** KMS Sign calls answered since the start or the last reset, throttled ones included (injected faults not). */
    kmsSignCount: (): number => kms.signCount(),
    /** Changes the Sign latency or throttling while the emulator runs. */
    configureKms,
    /** The stored bucket policy, parsed; undefined when the bucket has none. */
    getBucketPolicy(bucket: string): unknown {
      const policy = state.buckets.get(bucket)?.policy
      return policy === undefined ? undefined : JSON.parse(policy)
    },
    getObjectAcl(bucket: string, key: string): readonly AclEntry[] | undefined {
      return state.buckets.get(bucket)?.objects.get(key)?.acl
    },
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function send(response: ServerResponse, reply: Reply, headers: Record<string, string>): void {
  const body = reply.body ?? ''
  response.writeHead(reply.status, {
    ...headers,
    ...reply.headers,
    ...(reply.status !== 204 && { 'Content-Length': String(Buffer.byteLength(body)) }),
  })
  response.end(reply.status === 204 ? undefined : body)
}
