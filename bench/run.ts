// `npm run bench`: the real service against a naive baseline and a hello-world ceiling. Each server
// runs in its own process; this process is the load generator (autocannon) and loads one server at a
// time. Prints one table and writes bench/results/latest.json. A benchmark, not a test.
//
// BENCH_DURATION (seconds per run, default 10), BENCH_ROUNDS (default 3; medians are reported),
// BENCH_MEMORY_REQUESTS (default 200000) and BENCH_LOG_LEVEL (the service's, default info) tune it.
// BENCH_EDGE_RUNS (default 200) is the edge function's timed runs per case through the emulator's runner (the
// handler alone runs 50 times as many). BENCH_ONLY runs a part and writes results/partial-<part>.json instead:
// `edge` (the edge rows, the popular-cached row they compare with, the edge function), `edge-function` (no HTTP).
// BENCH_RESULTS names another results file.
import { fork, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { createSigner } from 'fast-jwt'
import { DEFAULT_SIGNER_BACKEND, type SignerBackend } from '../src/signer/signer.js'
import { measureEdgeFunction, REVOCATION_ENTRIES, type EdgeFunctionResult } from './edge-function.js'
import { createPathMix, uniquePath } from './paths.js'

const DURATION_SECONDS = Number(process.env.BENCH_DURATION ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? 200_000)
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info'
const EDGE_RUNS = Number(process.env.BENCH_EDGE_RUNS ?? 200)
const PARTS = {
  edge: 'the edge rows (edge-popular, the edge function) and the popular-cached row they compare with',
  'edge-function': 'the edge function alone (no HTTP)',
} as const
const ONLY = process.env.BENCH_ONLY?.trim() || undefined
if (ONLY !== undefined && !(ONLY in PARTS)) {
  throw new Error(`BENCH_ONLY=${ONLY}: one of ${Object.keys(PARTS).join(', ')} (unset: everything)`)
}
/** What this run measures: everything unless BENCH_ONLY names a part. */
const runs = {
  everything: ONLY === undefined,
  edgeRows: ONLY === undefined || ONLY === 'edge',
  edgeFunction: ONLY === undefined || ONLY === 'edge' || ONLY === 'edge-function',
}
const http = runs.everything || runs.edgeRows
const CONNECTIONS = 64
const WARMUP_SECONDS = Math.min(3, DURATION_SECONDS)
// Long enough for V8's heap to reach its steady sawtooth: before that, RSS grows with garbage not yet collected.
const MEMORY_WARMUP_REQUESTS = 60_000
const BATCH_SIZE = 100
const BACKENDS: SignerBackend[] = ['event-loop', 'workers', 'libuv']

const RSA_KEY_ID = 'KBENCHRSA0000001'
const EC_KEY_ID = 'KBENCHECDSA00001'
// The KMS rows: an ECC key in the local KMS (bench/kms-emulator.ts), each Sign taking this long.
const KMS_KEY_ID = 'KBENCHKMS0000001'
const KMS_ALIAS = 'alias/cf-signer-bench'
const KMS_SIGN_LATENCY_MS = 20
const JWT_SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789'
const UNIQUE_DOMAIN = 'd111111abcdef8.cloudfront.net'
const POPULAR_DOMAIN = 'd222222abcdef8.cloudfront.net'
// The edge rows: the popular distribution with the edge layer on, in a service of its own.
const EDGE_DOMAIN = 'd333333abcdef8.cloudfront.net'
const EDGE_DISTRIBUTION_ID = 'EBENCHEDGE0001'
const EDGE_KEY_ID = 'kbench1'
// Never called while signing: the account the configuration needs for an edge distribution's distributionId.
const UNUSED_AWS_ENDPOINT = 'http://127.0.0.1:9'
const TTL_SECONDS = 300
const GRANULARITY_SECONDS = 60

// A partial run never overwrites latest.json, the full run the README reports.
const RESULTS_FILE = process.env.BENCH_RESULTS ?? fileURLToPath(new URL(ONLY === undefined ? './results/latest.json' : `./results/partial-${ONLY}.json`, import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'cf-signer-bench-'))

// ---- keys and configuration ----

const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
const toPem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString()
const keysDir = join(work, 'keys')
mkdirSync(keysDir)
writeFileSync(join(keysDir, `${RSA_KEY_ID}.pem`), toPem(rsaKey), { mode: 0o600 })
writeFileSync(join(keysDir, `${EC_KEY_ID}.pem`), toPem(ecKey), { mode: 0o600 })

const serviceConfig = {
  auth: { jwt: { secret: JWT_SECRET } },
  keys: { dir: keysDir, activeKeyId: RSA_KEY_ID },
  distributions: {
    unique: { domain: UNIQUE_DOMAIN, allowedPaths: ['/*'], defaultTtlSeconds: TTL_SECONDS },
    popular: { domain: POPULAR_DOMAIN, allowedPaths: ['/*'], defaultTtlSeconds: TTL_SECONDS, expiryGranularitySeconds: GRANULARITY_SECONDS },
  },
}
const edgeKeysDir = join(work, 'edge-keys')
mkdirSync(edgeKeysDir)
writeFileSync(join(edgeKeysDir, EDGE_KEY_ID), randomBytes(32).toString('base64url'), { mode: 0o600 })
const edgeServiceConfig = {
  ...serviceConfig,
  distributions: {
    ...serviceConfig.distributions,
    'popular-edge': { ...serviceConfig.distributions.popular, domain: EDGE_DOMAIN, distributionId: EDGE_DISTRIBUTION_ID, edge: true },
  },
  // The sweep would call the unused endpoint: not within a bench run.
  edge: { keysDir: edgeKeysDir, activeKeyId: EDGE_KEY_ID, revocationSweepSeconds: 86_400 },
  aws: { accounts: { bench: { region: 'us-east-1', endpoint: UNUSED_AWS_ENDPOINT } } },
}
const token = createSigner({ key: JWT_SECRET, algorithm: 'HS256', expiresIn: 3_600_000 })({ sub: 'bench', scope: 'sign' })
const serviceHeaders = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
// A player's folder-grant token: public like any sign token, and allowed to send wildcard resources.
const wildcardToken = createSigner({ key: JWT_SECRET, algorithm: 'HS256', expiresIn: 3_600_000 })({ sub: 'hostile', scope: 'sign sign:wildcard' })
const hostileHeaders = { authorization: `Bearer ${wildcardToken}`, 'content-type': 'application/json' }
/** One request in ten of the hostile mix. */
const HOSTILE_SHARE = 0.1
/**
 * The costliest wildcard request the limits let through: a URL just under CloudFront's 8,192 bytes
 * and a 1,000-character pattern whose literal run defeats a naive string search (a…ab…a), scope and
 * narrowing passed, so the whole URL is matched before the 400 RESOURCE_NOT_COVERING.
 */
const HOSTILE_BODY = JSON.stringify({
  distribution: 'popular',
  path: `/${'a'.repeat(4000)}`,
  query: { q1: 'a'.repeat(2000), q2: 'a'.repeat(2000) },
  resource: `/*${'a'.repeat(480)}b${'a'.repeat(480)}*`,
})

// ---- servers, each in its own process ----

interface Server {
  name: string
  url: string
  pid: number
  ask<T>(type: string): Promise<T>
  close(): Promise<void>
}

async function startServer(name: string, script: string, settings: unknown): Promise<Server> {
  const settingsFile = join(work, `${name}.json`)
  writeFileSync(settingsFile, JSON.stringify(settings), { mode: 0o600 })
  const child: ChildProcess = fork(fileURLToPath(new URL(script, import.meta.url)), [settingsFile], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const reply = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { type: string } & T) => {
        if (message.type !== type) return
        child.off('message', onMessage)
        child.off('exit', onExit)
        resolve(message)
      }
      const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) before answering ${type}`))
      child.on('message', onMessage)
      child.once('exit', onExit)
    })
  const { address } = await reply<{ address: string }>('listening')
  return {
    name,
    url: address,
    pid: child.pid!,
    ask<T>(type: string) {
      const answer = reply<T>(type)
      child.send({ type })
      return answer
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send({ type: 'close' })
      await exited
    },
  }
}

interface ServerStats {
  rss: number
  /** CPU time of the whole process (every thread), microseconds. */
  cpuMicros: number
  heapUsed?: number
  cacheHits?: number
  cacheMisses?: number
  /** The local KMS's Sign calls so far. */
  signCalls?: number
}

const startService = (backend: SignerBackend, name = `service-${backend}`) =>
  startServer(name, './service.ts', { config: serviceConfig, backend, logLevel: LOG_LEVEL })

// ---- scenarios ----

let counter = 0
const pathMix = createPathMix()

interface Scenario {
  id: string
  label: string
  server: Server
  backend?: SignerBackend
  /** The local KMS whose Sign calls this scenario's signatures cost. */
  kms?: Server
  /** Signed URLs per HTTP request (a batch answers many). */
  urlsPerRequest: number
  request: autocannon.Request
}

const postJson = (path: string, headers: Record<string, string>, body: () => unknown): autocannon.Request => ({
  method: 'POST',
  path,
  headers,
  setupRequest: (request) => ({ ...request, body: JSON.stringify(body()) }),
})

function serviceScenarios(server: Server, backend: SignerBackend): Scenario[] {
  return [
    {
      id: `rsa-unique/${backend}`,
      label: 'RSA, unique resources',
      server,
      backend,
      urlsPerRequest: 1,
      request: postJson('/v1/signed-urls', serviceHeaders, () => ({ distribution: 'unique', path: uniquePath(counter++) })),
    },
    {
      id: `ecdsa-unique/${backend}`,
      label: 'ECDSA, unique resources',
      server,
      backend,
      urlsPerRequest: 1,
      request: postJson('/v1/signed-urls', serviceHeaders, () => ({ distribution: 'unique', path: uniquePath(counter++), keyId: EC_KEY_ID })),
    },
  ]
}

function kmsScenarios(server: Server, kms: Server): Scenario[] {
  return [
    {
      id: 'kms-popular',
      label: `KMS ECDSA (${KMS_SIGN_LATENCY_MS} ms Sign), popular mix, ${GRANULARITY_SECONDS} s granularity`,
      server,
      kms,
      urlsPerRequest: 1,
      request: postJson('/v1/signed-urls', serviceHeaders, () => ({ distribution: 'popular', path: pathMix.next(), keyId: KMS_KEY_ID })),
    },
    {
      id: 'kms-unique',
      label: `KMS ECDSA (${KMS_SIGN_LATENCY_MS} ms Sign), unique resources`,
      server,
      kms,
      urlsPerRequest: 1,
      request: postJson('/v1/signed-urls', serviceHeaders, () => ({ distribution: 'unique', path: uniquePath(counter++), keyId: KMS_KEY_ID })),
    },
  ]
}

function cachedScenarios(server: Server, backend: SignerBackend): Scenario[] {
  return [
    {
      id: `popular-cached/${backend}`,
      label: `RSA, popular mix, ${GRANULARITY_SECONDS} s granularity`,
      server,
      backend,
      urlsPerRequest: 1,
      request: postJson('/v1/signed-urls', serviceHeaders, () => ({ distribution: 'popular', path: pathMix.next() })),
    },
    {
      id: `batch-100/${backend}`,
      label: `RSA, batch of ${BATCH_SIZE} unique`,
      server,
      backend,
      urlsPerRequest: BATCH_SIZE,
      request: postJson('/v1/signed-urls/batch', serviceHeaders, () => ({
        items: Array.from({ length: BATCH_SIZE }, () => ({ distribution: 'unique', path: uniquePath(counter++) })),
      })),
    },
  ]
}

/** The popular mix on the edge distribution: every grant carries an edge token. */
function edgeScenarios(server: Server, backend: SignerBackend): Scenario[] {
  return [
    {
      id: `edge-popular/${backend}`,
      label: `RSA, popular mix, ${GRANULARITY_SECONDS} s granularity, edge layer (a token per grant)`,
      server,
      backend,
      urlsPerRequest: 1,
      request: postJson('/v1/signed-urls', serviceHeaders, () => ({ distribution: 'popular-edge', path: pathMix.next() })),
    },
  ]
}

interface Measurement {
  requestsPerSecond: number
  urlsPerSecond: number
  p50Ms: number
  p99Ms: number
  failed: number
  /** The server's CPU time (all its threads) per request: what the work costs, whatever else runs. */
  serverCpuMicrosPerRequest: number
  cacheHits: number
  cacheMisses: number
  /** Sign calls the local KMS served during the run (KMS scenarios). */
  kmsSignCalls: number
  /** Requests answered during the run, whatever the status. */
  answered: number
  /** The machine's 1-minute load average as the run began (this bench alone accounts for about 2). */
  loadAverage: number
}

async function load(scenario: Scenario, limit: { duration: number } | { amount: number }): Promise<Measurement> {
  const loadAverage = loadavg()[0]
  const before = await scenario.server.ask<ServerStats>('stats')
  const kmsBefore = await scenario.kms?.ask<ServerStats>('stats')
  const result = await autocannon({ url: scenario.server.url, connections: CONNECTIONS, ...limit, requests: [scenario.request] })
  const after = await scenario.server.ask<ServerStats>('stats')
  const kmsAfter = await scenario.kms?.ask<ServerStats>('stats')
  const ok = result['2xx']
  return {
    requestsPerSecond: ok / result.duration,
    urlsPerSecond: (ok * scenario.urlsPerRequest) / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failed: result.non2xx + result.errors,
    serverCpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / Math.max(1, result.requests.total),
    cacheHits: (after.cacheHits ?? 0) - (before.cacheHits ?? 0),
    cacheMisses: (after.cacheMisses ?? 0) - (before.cacheMisses ?? 0),
    kmsSignCalls: (kmsAfter?.signCalls ?? 0) - (kmsBefore?.signCalls ?? 0),
    answered: result.requests.total,
    loadAverage,
  }
}

/**
 * The popular mix at full speed with worst-case wildcard requests alongside, paced at HOSTILE_SHARE
 * of all requests (from the popular mix's rate alone in the same round). Measures the normal requests.
 */
async function loadWithHostile(popular: Scenario, popularAloneRequestsPerSecond: number): Promise<Measurement & { hostileRequests: number; hostileRefused: number }> {
  const hostileRate = Math.max(1, Math.round((popularAloneRequestsPerSecond * HOSTILE_SHARE) / (1 - HOSTILE_SHARE)))
  const loadAverage = loadavg()[0]
  const before = await popular.server.ask<ServerStats>('stats')
  const [normal, hostile] = await Promise.all([
    autocannon({ url: popular.server.url, connections: CONNECTIONS, duration: DURATION_SECONDS, requests: [popular.request] }),
    autocannon({
      url: popular.server.url,
      connections: 8,
      overallRate: hostileRate,
      duration: DURATION_SECONDS,
      requests: [{ method: 'POST', path: '/v1/signed-urls', headers: hostileHeaders, body: HOSTILE_BODY }],
    }),
  ])
  const after = await popular.server.ask<ServerStats>('stats')
  const ok = normal['2xx']
  return {
    requestsPerSecond: ok / normal.duration,
    urlsPerSecond: ok / normal.duration,
    p50Ms: normal.latency.p50,
    p99Ms: normal.latency.p99,
    failed: normal.non2xx + normal.errors,
    serverCpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / Math.max(1, normal.requests.total + hostile.requests.total),
    cacheHits: (after.cacheHits ?? 0) - (before.cacheHits ?? 0),
    cacheMisses: (after.cacheMisses ?? 0) - (before.cacheMisses ?? 0),
    kmsSignCalls: 0,
    answered: normal.requests.total,
    loadAverage,
    hostileRequests: hostile.requests.total,
    // Every hostile request must be refused with a code (400), never signed, never a failure.
    hostileRefused: hostile['4xx'],
  }
}

// ---- raw signing speed of this machine: one core, synchronous node:crypto ----

function signaturesPerSecond(signOnce: () => unknown, seconds: number): number {
  let count = 0
  const start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    signOnce()
    count++
  }
  return count / ((performance.now() - start) / 1000)
}

/** Samples a process's resident size (bytes) every 100 ms from /proc (Linux), without disturbing it. */
function sampleRss(pid: number): () => number[] {
  const samples: number[] = []
  const read = () => {
    const status = existsSync(`/proc/${pid}/status`) ? readFileSync(`/proc/${pid}/status`, 'utf8') : ''
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status)
    if (match) samples.push(Number(match[1]) * 1024)
  }
  read()
  const timer = setInterval(read, 100)
  return () => {
    clearInterval(timer)
    read()
    return samples
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// ---- the run ----

async function main() {
  const started = Date.now()
  const policy = Buffer.from(JSON.stringify({ Statement: [{ Resource: `https://${UNIQUE_DOMAIN}${uniquePath(1)}`, Condition: { DateLessThan: { 'AWS:EpochTime': 1_900_000_000 } } }] }))
  const rsaPem = toPem(rsaKey)
  const rawSeconds = Math.min(2, DURATION_SECONDS)
  const raw = runs.everything
    ? {
        rsa: signaturesPerSecond(() => sign('sha1', policy, rsaKey), rawSeconds),
        ecdsa: signaturesPerSecond(() => sign('sha1', policy, ecKey), rawSeconds),
        rsaParsingPemEachTime: signaturesPerSecond(() => sign('sha1', policy, rsaPem), rawSeconds),
      }
    : undefined
  if (raw) console.log(`raw signatures/s (one core, sync node:crypto): RSA-2048 ${raw.rsa.toFixed(0)}, ECDSA P-256 ${raw.ecdsa.toFixed(0)}, RSA parsing the PEM each time ${raw.rsaParsingPemEachTime.toFixed(0)}`)
  if (ONLY !== undefined) console.log(`BENCH_ONLY=${ONLY}: ${PARTS[ONLY as keyof typeof PARTS]}`)

  // The edge function first, before any server runs: this process alone, no HTTP.
  let edgeFunction: { loadAverage: number; results: EdgeFunctionResult[]; table: string } | undefined
  if (runs.edgeFunction) {
    const loadAverage = loadavg()[0]
    const results = await measureEdgeFunction({ runFunctionRuns: EDGE_RUNS, handlerRuns: EDGE_RUNS * 50 })
    const cells = (t: { medianMicros: number; p99Micros: number }) => [t.medianMicros.toFixed(0), t.p99Micros.toFixed(0)]
    const header = ['edge function case', 'runFunction median µs', 'p99 µs', 'in its worker median µs', 'p99 µs', 'handler alone median µs', 'p99 µs']
    const lines = results.map((r) => [r.label, ...cells(r.runFunction), ...cells(r.runFunctionInWorker), ...cells(r.handler)])
    const table = [header, header.map(() => '---'), ...lines].map((c) => `| ${c.join(' | ')} |`).join('\n')
    edgeFunction = { loadAverage, results, table }
    console.log(`edge function (load ${loadAverage.toFixed(1)}): ${results.map((r) => `${r.id} ${r.handler.medianMicros} µs alone, ${r.runFunction.medianMicros} µs via runFunction`).join('; ')}`)
  }

  const naive = runs.everything
    ? await startServer('naive', './naive-server.ts', { domain: UNIQUE_DOMAIN, keyId: RSA_KEY_ID, privateKeyPem: rsaPem, ttlSeconds: TTL_SECONDS })
    : undefined
  const services = new Map<SignerBackend, Server>()
  for (const backend of runs.everything ? BACKENDS : http ? [DEFAULT_SIGNER_BACKEND] : []) services.set(backend, await startService(backend))
  // Its own service, so the file-key rows run exactly as before; KMS reached over HTTP like the real one.
  const kms = runs.everything ? await startServer('kms', './kms-emulator.ts', { signLatencyMs: KMS_SIGN_LATENCY_MS, alias: KMS_ALIAS }) : undefined
  const kmsService = kms
    ? await startServer('service-kms', './service.ts', {
        config: {
          ...serviceConfig,
          aws: { accounts: { local: { region: 'us-east-1', endpoint: kms.url } } },
          keys: { ...serviceConfig.keys, kms: [{ keyId: KMS_KEY_ID, kmsKeyId: KMS_ALIAS, account: 'local' }] },
        },
        backend: DEFAULT_SIGNER_BACKEND,
        logLevel: LOG_LEVEL,
      })
    : undefined
  // Its own service too: the popular-cached row's service stays the one every other row uses.
  const edgeService = runs.edgeRows
    ? await startServer('service-edge', './service.ts', { config: edgeServiceConfig, backend: DEFAULT_SIGNER_BACKEND, logLevel: LOG_LEVEL })
    : undefined

  const scenarios: Scenario[] = []
  if (naive) {
    scenarios.push(
      { id: 'ceiling', label: 'hello world (ceiling)', server: naive, urlsPerRequest: 0, request: { method: 'GET', path: '/hello' } },
      {
        id: 'baseline',
        label: 'baseline: SDK with the PEM string, RSA',
        server: naive,
        urlsPerRequest: 1,
        request: postJson('/sign', { 'content-type': 'application/json' }, () => ({ path: uniquePath(counter++) })),
      },
    )
  }
  if (runs.everything) scenarios.push(...BACKENDS.flatMap((backend) => serviceScenarios(services.get(backend)!, backend)))
  if (http) {
    for (const scenario of cachedScenarios(services.get(DEFAULT_SIGNER_BACKEND)!, DEFAULT_SIGNER_BACKEND)) {
      if (!runs.everything && !scenario.id.startsWith('popular-cached/')) continue
      scenarios.push(scenario)
      // Right after the mix it is compared with, round after round.
      if (edgeService && scenario.id.startsWith('popular-cached/')) scenarios.push(...edgeScenarios(edgeService, DEFAULT_SIGNER_BACKEND))
    }
  }
  if (kms && kmsService) scenarios.push(...kmsScenarios(kmsService, kms))

  for (const scenario of scenarios) await load(scenario, { duration: WARMUP_SECONDS })
  // A signature cache fills at the rate its service is asked: the file-key service's fills within its
  // warm-up, the slower KMS service's needs a whole expiry window to hold what a running one holds.
  if (kms) await load(scenarios.find((s) => s.id === 'kms-popular')!, { duration: GRANULARITY_SECONDS })
  const popularScenario = scenarios.find((s) => s.id === `popular-cached/${DEFAULT_SIGNER_BACKEND}`)
  const hostileScenario: Scenario | undefined =
    runs.everything && popularScenario
      ? { ...popularScenario, id: `popular-hostile/${DEFAULT_SIGNER_BACKEND}`, label: `RSA, popular mix + ${HOSTILE_SHARE * 100}% worst-case wildcard requests (normal ones measured)` }
      : undefined
  const rounds = new Map<string, Measurement[]>([...scenarios, ...(hostileScenario ? [hostileScenario] : [])].map((s) => [s.id, []]))
  const hostileCounts = { requests: 0, refused: 0 }
  const report = (round: number, id: string, measured: Measurement) =>
    console.log(
      `round ${round}/${ROUNDS} ${id.padEnd(24)} ${measured.requestsPerSecond.toFixed(0).padStart(6)} req/s  p99 ${String(measured.p99Ms).padStart(4)} ms` +
        `  ${measured.serverCpuMicrosPerRequest.toFixed(0).padStart(5)} us CPU/req  load ${measured.loadAverage.toFixed(1)}${measured.failed ? `  FAILED ${measured.failed}` : ''}`,
    )
  // Rounds interleave the scenarios, so a noisy minute on the shared machine spreads over all of them.
  for (let round = 1; scenarios.length > 0 && round <= ROUNDS; round++) {
    for (const scenario of scenarios) {
      const measured = await load(scenario, { duration: DURATION_SECONDS })
      rounds.get(scenario.id)!.push(measured)
      report(round, scenario.id, measured)
    }
    if (!hostileScenario || !popularScenario) continue
    // Right after the popular mix alone, against the same service: the two compare within the round.
    const popularAlone = rounds.get(popularScenario.id)!.at(-1)!
    const { hostileRequests, hostileRefused, ...measured } = await loadWithHostile(popularScenario, popularAlone.requestsPerSecond)
    rounds.get(hostileScenario.id)!.push(measured)
    hostileCounts.requests += hostileRequests
    hostileCounts.refused += hostileRefused
    report(round, hostileScenario.id, measured)
  }
  if (hostileScenario) scenarios.push(hostileScenario)
  await naive?.close()
  for (const service of services.values()) await service.close()
  await kmsService?.close()
  await kms?.close()
  await edgeService?.close()

  const mb = (bytes: number) => +(bytes / 1024 / 1024).toFixed(1)
  let memory
  if (runs.everything) {
    // Memory: a fresh service; the worst case for the cache (every request a new entry, on the cached distribution).
    const memoryService = await startService(DEFAULT_SIGNER_BACKEND, 'service-memory')
    const memoryScenario: Scenario = {
      id: 'memory',
      label: 'memory',
      server: memoryService,
      urlsPerRequest: 1,
      request: postJson('/v1/signed-urls', serviceHeaders, () => ({ distribution: 'popular', path: uniquePath(counter++), keyId: EC_KEY_ID })),
    }
    // V8 lets garbage pile up to hundreds of MB before a full collection on this machine, so RSS swings
    // with its cycle; each point is read as it is, then again after a forced full GC (what is retained).
    const stopWarmupSampling = sampleRss(memoryService.pid)
    await load(memoryScenario, { amount: MEMORY_WARMUP_REQUESTS })
    const warmupSamples = stopWarmupSampling()
    const warm = await memoryService.ask<ServerStats>('stats')
    const warmGc = await memoryService.ask<{ rss: number; liveHeap: number }>('gc')
    const stopRunSampling = sampleRss(memoryService.pid)
    const memoryRun = await load(memoryScenario, { amount: MEMORY_REQUESTS })
    const runSamples = stopRunSampling()
    const after = await memoryService.ask<ServerStats>('stats')
    const afterGc = await memoryService.ask<{ rss: number; liveHeap: number }>('gc')
    await memoryService.close()
    memory = {
      requests: MEMORY_REQUESTS,
      warmupRequests: MEMORY_WARMUP_REQUESTS,
      workload: 'ECDSA, unique resources on the 60 s distribution: every request adds a signature-cache entry',
      rssAfterWarmupMb: mb(warm.rss),
      rssAfterMb: mb(after.rss),
      rssAfterWarmupFullGcMb: mb(warmGc.rss),
      rssAfterFullGcMb: mb(afterGc.rss),
      rssGrowthMb: mb(afterGc.rss - warmGc.rss),
      rssGrowthWithoutGcMb: mb(after.rss - warm.rss),
      rssRangeDuringWarmupMb: warmupSamples.length > 0 ? [mb(Math.min(...warmupSamples)), mb(Math.max(...warmupSamples))] : [],
      rssRangeDuringRunMb: runSamples.length > 0 ? [mb(Math.min(...runSamples)), mb(Math.max(...runSamples))] : [],
      heapUsedAfterMb: mb(after.heapUsed!),
      liveHeapAfterWarmupMb: mb(warmGc.liveHeap),
      liveHeapAfterMb: mb(afterGc.liveHeap),
      failed: memoryRun.failed,
    }
  }

  // ---- the table ----
  const summary = scenarios.map((scenario) => {
    const measured = rounds.get(scenario.id)!
    return {
      id: scenario.id,
      label: scenario.label,
      backend: scenario.backend,
      urlsPerRequest: scenario.urlsPerRequest,
      requestsPerSecond: median(measured.map((m) => m.requestsPerSecond)),
      urlsPerSecond: median(measured.map((m) => m.urlsPerSecond)),
      p50Ms: median(measured.map((m) => m.p50Ms)),
      p99Ms: median(measured.map((m) => m.p99Ms)),
      serverCpuMicrosPerUrl: median(measured.map((m) => m.serverCpuMicrosPerRequest)) / Math.max(1, scenario.urlsPerRequest),
      failed: measured.reduce((sum, m) => sum + m.failed, 0),
      rounds: measured,
    }
  })
  const byId = (id: string) => summary.find((s) => s.id === id)!
  // A partial run has no baseline or ceiling: its rows show no ratio to them.
  const baselineUrls = summary.find((s) => s.id === 'baseline')?.urlsPerSecond
  const ceilingRequests = summary.find((s) => s.id === 'ceiling')?.requestsPerSecond
  const rows = summary.map((s) => ({
    ...s,
    ratioToBaseline: baselineUrls === undefined ? undefined : s.urlsPerSecond / baselineUrls,
    ratioToCeiling: ceilingRequests === undefined ? undefined : s.requestsPerSecond / ceilingRequests,
  }))

  const header = ['scenario', 'signer', 'req/s', 'URLs/s', 'p50 ms', 'p99 ms', 'x baseline', 'of ceiling', 'server CPU µs/URL']
  const lines = rows.map((r) => [
    r.label,
    r.backend ?? '-',
    r.requestsPerSecond.toFixed(0),
    r.urlsPerRequest === 0 ? '-' : r.urlsPerSecond.toFixed(0),
    String(r.p50Ms),
    String(r.p99Ms),
    r.id === 'ceiling' || r.ratioToBaseline === undefined ? '-' : `${r.ratioToBaseline.toFixed(1)}x`,
    // A batch request is a hundred URLs: against hello-world requests, only URLs/s compares.
    r.urlsPerRequest > 1 || r.ratioToCeiling === undefined ? '-' : `${(r.ratioToCeiling * 100).toFixed(0)}%`,
    r.urlsPerRequest === 0 ? '-' : r.serverCpuMicrosPerUrl.toFixed(0),
  ])
  const table = [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n')

  const targets: Array<{ target: string; measured: string; met: boolean }> = []
  const percents = (values: number[]) => values.map((k) => `${(k * 100).toFixed(0)}%`).join(', ')
  const popular = popularScenario ? byId(popularScenario.id) : undefined
  if (runs.everything && popular && hostileScenario && memory && baselineUrls !== undefined && ceilingRequests !== undefined) {
    const rsaUnique = byId(`rsa-unique/${DEFAULT_SIGNER_BACKEND}`)
    const ecdsaUnique = byId(`ecdsa-unique/${DEFAULT_SIGNER_BACKEND}`)
    const hostileMix = byId(hostileScenario.id)
    // Paired by round: the host's speed swings between rounds far more than the mix changes it.
    const kept = hostileMix.rounds.map((m, i) => m.requestsPerSecond / popular.rounds[i].requestsPerSecond)
    const keptMedian = median(kept)
    const kmsPopular = byId('kms-popular')
    const kmsUnique = byId('kms-unique')
    const kmsRatios = kmsPopular.rounds.map((m, i) => m.requestsPerSecond / popular.rounds[i].requestsPerSecond)
    const kmsKept = median(kmsRatios)
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
    const kmsCalls = {
      popular: sum(kmsPopular.rounds.map((m) => m.kmsSignCalls)),
      policies: sum(kmsPopular.rounds.map((m) => m.cacheMisses)),
      unique: sum(kmsUnique.rounds.map((m) => m.kmsSignCalls)),
      uniqueRequests: sum(kmsUnique.rounds.map((m) => m.answered)),
    }
    const ratio = (s: { urlsPerSecond: number }) => s.urlsPerSecond / baselineUrls
    targets.push(
      { target: 'RSA unique >= 2.5x baseline', measured: `${ratio(rsaUnique).toFixed(2)}x`, met: ratio(rsaUnique) >= 2.5 },
      { target: 'ECDSA unique >= 8x baseline', measured: `${ratio(ecdsaUnique).toFixed(2)}x`, met: ratio(ecdsaUnique) >= 8 },
      { target: 'popular mix >= 15x baseline', measured: `${ratio(popular).toFixed(2)}x`, met: ratio(popular) >= 15 },
      {
        target: 'popular mix >= 40% of hello world',
        measured: `${((popular.requestsPerSecond / ceilingRequests) * 100).toFixed(0)}%`,
        met: popular.requestsPerSecond / ceilingRequests >= 0.4,
      },
      { target: 'p99 < 50 ms at 64 connections, ECDSA', measured: `${ecdsaUnique.p99Ms} ms`, met: ecdsaUnique.p99Ms < 50 },
      { target: 'p99 < 50 ms at 64 connections, popular mix', measured: `${popular.p99Ms} ms`, met: popular.p99Ms < 50 },
      {
        target: `popular mix with ${HOSTILE_SHARE * 100}% worst-case wildcard requests: normal p99 < 50 ms`,
        measured: `${hostileMix.p99Ms} ms`,
        met: hostileMix.p99Ms < 50,
      },
      {
        target: `popular mix with ${HOSTILE_SHARE * 100}% worst-case wildcard requests: normal throughput >= 80% of the mix alone`,
        measured: `${(keptMedian * 100).toFixed(0)}% (median of the rounds, each against the mix alone in the same round: ${percents(kept)})`,
        met: keptMedian >= 0.8,
      },
      {
        target: 'every worst-case wildcard request answered 4xx (refused with a code, never signed or failed)',
        measured: `${hostileCounts.refused} of ${hostileCounts.requests}`,
        met: hostileCounts.requests > 0 && hostileCounts.refused === hostileCounts.requests,
      },
      {
        target: `KMS (${KMS_SIGN_LATENCY_MS} ms Sign) popular mix >= 50% of the file-key popular mix's req/s`,
        measured: `${(kmsKept * 100).toFixed(0)}% (median of the rounds, each against the file-key mix in the same round: ${percents(kmsRatios)})`,
        met: kmsKept >= 0.5,
      },
      {
        target: 'KMS Sign calls during the popular mix <= distinct policies signed + 1%',
        measured: `${kmsCalls.popular} Sign calls for ${kmsCalls.policies} distinct policies (signature-cache misses)`,
        met: kmsCalls.popular <= kmsCalls.policies * 1.01,
      },
      {
        target: `KMS unique resources: bounded by KMS latency and concurrency (${CONNECTIONS} connections / ${KMS_SIGN_LATENCY_MS} ms = ${(CONNECTIONS * 1000) / KMS_SIGN_LATENCY_MS} req/s at most), one Sign per URL`,
        measured: `${kmsUnique.requestsPerSecond.toFixed(0)} req/s, p99 ${kmsUnique.p99Ms} ms; ${kmsCalls.unique} Sign calls for ${kmsCalls.uniqueRequests} requests`,
        met: kmsCalls.unique <= kmsCalls.uniqueRequests * 1.01,
      },
      {
        target: `RSS growth over ${MEMORY_REQUESTS} requests <= 50 MB (after a full GC)`,
        measured: `${memory.rssGrowthMb} MB (${memory.rssAfterWarmupFullGcMb} -> ${memory.rssAfterFullGcMb} MB)`,
        met: memory.rssGrowthMb <= 50,
      },
    )
  }
  const hitCounts = (measured: Measurement[]) => {
    const counts = { hits: 0, misses: 0 }
    for (const m of measured) {
      counts.hits += m.cacheHits
      counts.misses += m.cacheMisses
    }
    return { hitRatio: counts.hits / Math.max(1, counts.hits + counts.misses), ...counts }
  }
  const cache = popular ? hitCounts(popular.rounds) : undefined

  // The edge layer's extra cost per grant: each round's edge row against the popular mix just before it.
  let edge
  const extra = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`
  if (runs.edgeRows && popular) {
    const edgeRow = byId(`edge-popular/${DEFAULT_SIGNER_BACKEND}`)
    const requestsPerSecondRatios = edgeRow.rounds.map((m, i) => m.requestsPerSecond / popular.rounds[i].requestsPerSecond)
    const serverCpuRatios = edgeRow.rounds.map((m, i) => m.serverCpuMicrosPerRequest / popular.rounds[i].serverCpuMicrosPerRequest)
    edge = {
      distribution: 'popular-edge',
      comparedWith: popular.id,
      requestsPerSecondRatio: median(requestsPerSecondRatios),
      serverCpuMicrosPerRequestRatio: median(serverCpuRatios),
      rounds: edgeRow.rounds.map((m, i) => ({
        requestsPerSecond: m.requestsPerSecond,
        popularRequestsPerSecond: popular.rounds[i].requestsPerSecond,
        requestsPerSecondRatio: requestsPerSecondRatios[i],
        serverCpuMicrosPerRequest: m.serverCpuMicrosPerRequest,
        popularServerCpuMicrosPerRequest: popular.rounds[i].serverCpuMicrosPerRequest,
        serverCpuMicrosPerRequestRatio: serverCpuRatios[i],
      })),
      cache: hitCounts(edgeRow.rounds),
    }
    targets.push(
      {
        target: 'edge layer on the popular mix: server CPU per grant at most 5% over the mix without it',
        measured: `${extra(edge.serverCpuMicrosPerRequestRatio)} CPU µs/request (median of the rounds, each against the mix in the same round: ${serverCpuRatios.map(extra).join(', ')})`,
        met: edge.serverCpuMicrosPerRequestRatio <= 1.05,
      },
      {
        target: 'edge layer on the popular mix: req/s at least 95% of the mix without it',
        measured: `${percents([edge.requestsPerSecondRatio])} (median of the rounds, each against the mix in the same round: ${percents(requestsPerSecondRatios)})`,
        met: edge.requestsPerSecondRatio >= 0.95,
      },
    )
  }
  const loads = [...rows.flatMap((r) => r.rounds.map((m) => m.loadAverage)), ...(edgeFunction ? [edgeFunction.loadAverage] : [])]

  if (rows.length > 0) console.log(`\n${table}\n`)
  if (edgeFunction) {
    console.log(
      `\nedge function: ${REVOCATION_ENTRIES} revocations and the HMAC key in its store; ${EDGE_RUNS} timed runs per case through runFunction ` +
        `(a fresh vm context, the code compiled, the store copied to a worker, every run; "in its worker" is the time it reports itself), ` +
        `${EDGE_RUNS * 50} of the handler alone (compiled once, in-process node:vm, call to settled promise)\n${edgeFunction.table}\n`,
    )
  }
  if (raw) console.log(`raw signatures/s (one core, sync): RSA-2048 ${raw.rsa.toFixed(0)}, ECDSA P-256 ${raw.ecdsa.toFixed(0)}, RSA parsing the PEM each time ${raw.rsaParsingPemEachTime.toFixed(0)}`)
  if (cache) console.log(`popular mix: cache hit ratio ${(cache.hitRatio * 100).toFixed(1)}%; ${(pathMix.share(300) * 100).toFixed(0)}% of its requests go to the 300 most popular of 10,000 paths`)
  if (edge) console.log(`edge popular mix: cache hit ratio ${(edge.cache.hitRatio * 100).toFixed(1)}%`)
  if (loads.length > 0) console.log(`machine load average during the runs: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} (about 2 is this bench alone)`)
  if (memory) {
    console.log(
      `memory over ${MEMORY_REQUESTS} requests after ${MEMORY_WARMUP_REQUESTS} of warm-up: RSS after a full GC ${memory.rssAfterWarmupFullGcMb} -> ${memory.rssAfterFullGcMb} MB ` +
        `(live heap ${memory.liveHeapAfterWarmupMb} -> ${memory.liveHeapAfterMb} MB); read without a GC ${memory.rssAfterWarmupMb} -> ${memory.rssAfterMb} MB, ` +
        `${memory.rssRangeDuringRunMb[0]} to ${memory.rssRangeDuringRunMb[1]} MB during the run`,
    )
  }
  for (const t of targets) console.log(`${t.met ? 'met    ' : 'NOT MET'}  ${t.target}: ${t.measured}`)
  const failures = rows.filter((r) => r.failed > 0)
  if (failures.length > 0 || memory?.failed) console.log(`WARNING: failed requests in ${failures.map((r) => r.id).join(', ')}${memory?.failed ? ' memory' : ''}`)

  mkdirSync(dirname(RESULTS_FILE), { recursive: true })
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        command: ONLY === undefined ? 'npm run bench' : `BENCH_ONLY=${ONLY} npm run bench`,
        ...(ONLY !== undefined && { only: ONLY }),
        machine: { cpus: availableParallelism(), model: cpus()[0]?.model, memoryGb: +(totalmem() / 2 ** 30).toFixed(1), node: process.version },
        settings: { durationSeconds: DURATION_SECONDS, rounds: ROUNDS, connections: CONNECTIONS, serviceLogLevel: LOG_LEVEL, defaultBackend: DEFAULT_SIGNER_BACKEND, edgeRuns: EDGE_RUNS },
        rawSignaturesPerSecond: raw,
        scenarios: rows.map(({ rounds: measured, ...row }) => ({ ...row, rounds: measured })),
        cache,
        hostile: runs.everything ? { share: HOSTILE_SHARE, body: JSON.parse(HOSTILE_BODY), ...hostileCounts } : undefined,
        edge,
        edgeFunction: edgeFunction && {
          revocationEntries: REVOCATION_ENTRIES,
          runFunctionRuns: EDGE_RUNS,
          handlerRuns: EDGE_RUNS * 50,
          runFunction: 'the emulator runner: a fresh vm context, the code compiled, the store copied to its worker thread, waited on synchronously (wall time)',
          runFunctionInWorker: 'the time runFunction reports: compiling and running the code in the fresh context, in the worker',
          handler: 'the handler alone: compiled once in a node:vm context of the runner process, each call timed to its settled promise',
          loadAverage: edgeFunction.loadAverage,
          cases: edgeFunction.results,
          table: edgeFunction.table,
        },
        loadAverage: loads.length > 0 ? { min: Math.min(...loads), max: Math.max(...loads) } : undefined,
        memory,
        targets,
        table: rows.length > 0 ? table : undefined,
        elapsedSeconds: Math.round((Date.now() - started) / 1000),
      },
      null,
      2,
    )}\n`,
  )
  console.log(`\nwrote ${RESULTS_FILE} (${Math.round((Date.now() - started) / 1000)} s)`)
}

try {
  await main()
} finally {
  rmSync(work, { recursive: true, force: true })
}
