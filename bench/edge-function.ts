// The viewer-request function's own cost, no HTTP: EDGE_FUNCTION_SOURCE on CloudFront's viewer-request event with a
// KeyValueStore holding the HMAC key and 10,000 revocations, measured two ways. `runFunction` is the emulator's runner
// (a fresh vm context, the code compiled, the store copied to a worker and the answer waited on: every run). `handler`
// is the handler alone, compiled once in a node:vm context of this process, each call timed to its settled promise:
// closer to the function's own compute, which CloudFront budgets (compute utilization, about 1 ms per request).
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { createContext, Script } from 'node:vm'
import { runFunction } from '../src/dev/emulator/function-runtime.js'
import { EDGE_FUNCTION_SOURCE } from '../src/edge/function-source.js'
import {
  createEdgeToken,
  EDGE_DENY_HEADER,
  EDGE_KVS_KEY_PREFIX,
  EDGE_KVS_REVOKED_GRANT_PREFIX,
  EDGE_TOKEN_PARAMETER,
  formatRevocationValue,
  type EdgeKey,
  type EdgeTokenInput,
} from '../src/edge/token.js'

export const REVOCATION_ENTRIES = 10_000

export interface EdgeFunctionCase {
  id: string
  label: string
  /** 'pass' when the function hands the request on, else the deny reason it must answer. */
  expected: string
}

export interface Timing {
  runs: number
  medianMicros: number
  p99Micros: number
}

export interface EdgeFunctionResult extends EdgeFunctionCase {
  /** runFunction's wall time, as the caller waits for it: the worker round trip, store copy, context and compile included. */
  runFunction: Timing
  /** What runFunction reports itself (elapsedMs): compiling and running the code in the worker's fresh context. */
  runFunctionInWorker: Timing
  /** The handler alone, compiled once, in this process's vm context: call to settled promise. */
  handler: Timing
}

interface Prepared extends EdgeFunctionCase {
  event: unknown
}

const KEY: EdgeKey = { id: 'kbench', secret: randomBytes(32).toString('base64url') }
const REVOKED_GRANT = 'revokedGrant0001'

/** A grant id like the service's: 16 base64url characters. */
const grantId = () => randomBytes(12).toString('base64url')

function buildStore(now: number): Map<string, string> {
  const store = new Map([[EDGE_KVS_KEY_PREFIX + KEY.id, KEY.secret]])
  const value = formatRevocationValue({ t: now - 60, x: now + 3600, r: 'bench' })
  store.set(EDGE_KVS_REVOKED_GRANT_PREFIX + REVOKED_GRANT, value)
  while (store.size < REVOCATION_ENTRIES + 1) store.set(EDGE_KVS_REVOKED_GRANT_PREFIX + grantId(), value)
  return store
}

const values = (entries: Record<string, string>) => Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, { value }]))

/** CloudFront's viewer-request event (cloudfront-js-2.0) for a signed URL carrying `token`, as test/edge/function.test.ts builds it. */
function viewerRequest(token: string, signature: string, headers: Record<string, string> = {}) {
  return {
    version: '1.0',
    context: { distributionId: 'EBENCHEDGE0001', distributionDomainName: 'd333333abcdef8.cloudfront.net', eventType: 'viewer-request', requestId: randomBytes(24).toString('base64url') },
    viewer: { ip: '2001:db8:aa:1::9' },
    request: {
      method: 'GET',
      uri: '/images/popular/1.jpg',
      querystring: values({ Expires: '1900000000', Signature: signature, 'Key-Pair-Id': 'KBENCHRSA0000001', [EDGE_TOKEN_PARAMETER]: token }),
      headers: Object.fromEntries(
        Object.entries({ host: 'd333333abcdef8.cloudfront.net', 'user-agent': 'Mozilla/5.0 (bench)', accept: '*/*', 'cloudfront-viewer-country': 'FR', ...headers }).map(([name, value]) => [
          name,
          { value },
        ]),
      ),
      cookies: {},
    },
  }
}

function cases(now: number): Prepared[] {
  // An RSA-2048 CloudFront signature is 344 characters: a bound token hashes one that long.
  const signature = randomBytes(256).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~')
  const grant = (overrides: Partial<EdgeTokenInput> = {}): EdgeTokenInput => ({
    grantId: grantId(),
    sub: 'bench-viewer',
    issuedAt: now,
    expires: now + 3600,
    binding: signature,
    ...overrides,
  })
  const valid = createEdgeToken(grant(), KEY)
  const allRules = createEdgeToken(
    grant({
      referrers: Array.from({ length: 10 }, (_, i) => `*.site${i}.example.com`),
      // AA..ZA, AB..XB: never the viewer's FR.
      countries: { deny: Array.from({ length: 50 }, (_, i) => String.fromCharCode(65 + (i % 26), 65 + Math.floor(i / 26))) },
      ipRanges: [...Array.from({ length: 9 }, (_, i) => `2001:db8:${(i + 1).toString(16)}00::/40`), '2001:db8:aa::/48'],
    }),
    KEY,
  )
  const [version, payload, mac] = valid.split('.')
  return [
    { id: 'allow', label: 'valid token bound to its signature (allow)', expected: 'pass', event: viewerRequest(valid, signature) },
    {
      id: 'allow-all-rules',
      label: 'valid token with every viewer rule at its limit: 10 referrer patterns, 50 denied countries, 10 IPv6 ranges, the last matching (allow)',
      expected: 'pass',
      event: viewerRequest(allRules, signature, { referer: 'https://player.site9.example.com/watch' }),
    },
    { id: 'revoked-grant', label: 'revoked grant (deny revoked-grant)', expected: 'revoked-grant', event: viewerRequest(createEdgeToken(grant({ grantId: REVOKED_GRANT }), KEY), signature) },
    // Three parts and the right version, a payload that is not JSON: refused before any store read or HMAC.
    { id: 'malformed', label: 'malformed token (deny malformed)', expected: 'malformed', event: viewerRequest(`${version}.${payload?.slice(1)}.${mac}`, signature) },
  ]
}

function verdict(output: unknown): string {
  const answer = output as { statusCode?: number; headers?: Record<string, { value: string }> } | undefined
  if (answer === undefined || answer === null) return 'no answer'
  if (answer.statusCode === undefined) return 'pass'
  return answer.headers?.[EDGE_DENY_HEADER]?.value ?? `status ${answer.statusCode}`
}

function timing(samplesMs: number[]): Timing {
  const sorted = [...samplesMs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]
  const micros = (ms: number) => +(ms * 1000).toFixed(1)
  return { runs: sorted.length, medianMicros: micros(median), p99Micros: micros(p99) }
}

// The `cloudfront` and `crypto` modules as the emulator's runtime offers them (function-runtime.ts BOOTSTRAP): store
// reads answered as promises, digests by node:crypto.
const MODULES = String.raw`
var cf = { kvs: function () { return {
  get: function (key) { var v = __host.lookup(String(key)); if (v === undefined) { var e = new Error('The key ' + key + ' is not in the KeyValueStore'); e.name = 'KeyNotFound'; return Promise.reject(e); } return Promise.resolve(v); },
  exists: function (key) { return Promise.resolve(__host.lookup(String(key)) !== undefined); },
  meta: function () { return Promise.resolve({}); }
}; } };
function __mac(kind, algorithm, key) {
  var data = '';
  var self = { update: function (chunk) { data += String(chunk); return self; }, digest: function (encoding) { return __host.digest(kind, algorithm, key, data, encoding); } };
  return self;
}
var crypto = {
  createHash: function (algorithm) { return __mac('hash', String(algorithm), ''); },
  createHmac: function (algorithm, key) { return __mac('hmac', String(algorithm), String(key)); }
};
`

function compileHandler(store: ReadonlyMap<string, string>): (event: unknown) => Promise<unknown> {
  const digest = (kind: string, algorithm: string, key: string, data: string, encoding: 'hex' | 'base64' | 'base64url') =>
    (kind === 'hmac' ? createHmac(algorithm, Buffer.from(key, 'utf8')) : createHash(algorithm)).update(data, 'utf8').digest(encoding)
  const context = createContext({ __host: { lookup: (key: string) => store.get(key), digest } }, { codeGeneration: { strings: false, wasm: false } })
  // The source's two import lines become the modules above; the rest runs as shipped.
  const code = EDGE_FUNCTION_SOURCE.replace(/^import \w+ from '[^']+';$/gm, '')
  new Script(`${MODULES}\n${code}\n;globalThis.__handler = handler;`, { filename: 'edge-function.js' }).runInContext(context)
  return context.__handler as (event: unknown) => Promise<unknown>
}

export interface EdgeFunctionOptions {
  /** Timed runs per case through runFunction, after a tenth as many untimed. */
  runFunctionRuns: number
  /** Timed handler calls per case, after a tenth as many untimed (the JIT's warm-up). */
  handlerRuns: number
}

const warmup = (runs: number) => Math.max(10, Math.ceil(runs / 10))

/** Every case measured both ways; throws when a run's verdict is not the expected one (a bench of the wrong path is worthless). */
export async function measureEdgeFunction(options: EdgeFunctionOptions): Promise<EdgeFunctionResult[]> {
  const now = Math.floor(Date.now() / 1000)
  const store = buildStore(now)
  const handler = compileHandler(store)
  const results: EdgeFunctionResult[] = []
  for (const { event, ...testCase } of cases(now)) {
    const check = (output: unknown, how: string) => {
      const got = verdict(output)
      if (got !== testCase.expected) throw new Error(`edge function bench, ${testCase.id} via ${how}: expected ${testCase.expected}, got ${got}`)
    }
    const wall: number[] = []
    const inWorker: number[] = []
    for (let run = 0; run < warmup(options.runFunctionRuns) + options.runFunctionRuns; run++) {
      const started = performance.now()
      // The verdict, not a budget: a loaded machine may take longer than CloudFront's 100 ms default here.
      const answer = runFunction(EDGE_FUNCTION_SOURCE, event, store, { timeoutMs: 5000 })
      const elapsed = performance.now() - started
      if (answer.error !== undefined) throw new Error(`edge function bench, ${testCase.id} via runFunction: ${answer.error}`)
      check(answer.output, 'runFunction')
      if (run >= warmup(options.runFunctionRuns)) {
        wall.push(elapsed)
        inWorker.push(answer.elapsedMs)
      }
    }
    const alone: number[] = []
    for (let run = 0; run < warmup(options.handlerRuns) + options.handlerRuns; run++) {
      const started = performance.now()
      const output = await handler(event)
      const elapsed = performance.now() - started
      check(output, 'handler')
      if (run >= warmup(options.handlerRuns)) alone.push(elapsed)
    }
    results.push({ ...testCase, runFunction: timing(wall), runFunctionInWorker: timing(inWorker), handler: timing(alone) })
  }
  return results
}
