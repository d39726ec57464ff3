import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { SigningKey } from '../signing/keys.js'
import { SERVICE_VERSION } from '../telemetry/build-info.js'

export interface MetricsOptions {
  /** The clock (epoch milliseconds) the key ages are measured with. */
  now: () => number
  /** Adds prom-client's process metrics (CPU, memory, event loop, GC) to the registry. */
  processMetrics: boolean
}

/** Every metric the service exports, on one registry per app instance (tests build many apps). */
export function createMetrics({ now, processMetrics }: MetricsOptions) {
  const registry = new Registry()
  const registers = [registry]
  if (processMetrics) collectDefaultMetrics({ register: registry })
  let loadedKeys: { id: string; modifiedMs: number; active: boolean }[] = []

  const keysLoaded = new Gauge({ name: 'cf_signer_keys_loaded', help: 'Signing keys currently loaded', registers })
  // Always 1: the labels carry the value, so dashboards can join any series to the running version.
  new Gauge({ name: 'cf_signer_build_info', help: 'The running version of cf-signer and of Node.js; always 1', labelNames: ['version', 'node'] as const, registers })
    .set({ version: SERVICE_VERSION, node: process.version }, 1)
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'cf_signer_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    signaturesIssued: new Counter({
      name: 'cf_signer_signatures_issued_total',
      help: 'Signatures issued by kind (url, cookie, stream, query), distribution, policy, algorithm and key ID',
      labelNames: ['kind', 'distribution', 'policy', 'algorithm', 'key_id'] as const,
      registers,
    }),
    errors: new Counter({
      name: 'cf_signer_errors_total',
      help: 'Error answers by response code',
      labelNames: ['code', 'status'] as const,
      registers,
    }),
    keysLoaded,
    keyAge: new Gauge({
      name: 'cf_signer_key_age_seconds',
      help: 'Seconds since each loaded key file was last modified',
      labelNames: ['key_id', 'active'] as const,
      registers,
      // Computed at scrape time so the age keeps growing between reloads.
      collect() {
        this.reset()
        for (const key of loadedKeys) this.set({ key_id: key.id, active: String(key.active) }, Math.max(0, (now() - key.modifiedMs) / 1000))
      },
    }),
    keyReloadFailures: new Counter({
      name: 'cf_signer_key_reload_failures_total',
      help: 'Key files skipped, or key sets kept back, on reload, by reason code',
      labelNames: ['reason'] as const,
      registers,
    }),
    signatureCache: new Counter({
      name: 'cf_signer_signature_cache_total',
      help: 'Signature cache lookups by result (hit ratio = hit / (hit + miss))',
      labelNames: ['result'] as const,
      registers,
    }),
    awsCalls: new Counter({
      name: 'cf_signer_aws_calls_total',
      help: 'Admin calls to AWS by operation and outcome',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    kmsCalls: new Counter({
      name: 'cf_signer_kms_calls_total',
      help: 'Calls to AWS KMS (keys.kms) by operation (Sign, DescribeKey, GetPublicKey) and outcome (ok, throttled, timeout, network, kms_error, not_found, refused)',
      labelNames: ['operation', 'outcome'] as const,
      registers,
    }),
    kmsCallDuration: new Histogram({
      name: 'cf_signer_kms_call_duration_seconds',
      help: 'Latency of each call to AWS KMS by operation, failures included',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    kmsSignFailures: new Counter({
      name: 'cf_signer_kms_sign_failures_total',
      help: 'Signatures KMS could not give, after retries, by answer code (KMS_UNAVAILABLE with reason circuit_open, throttled, timeout...; KMS_REQUEST_FAILED)',
      labelNames: ['code', 'reason'] as const,
      registers,
    }),
    kmsCircuitOpen: new Gauge({
      name: 'cf_signer_kms_circuit_open',
      help: '1 while the circuit for an account\'s KMS is open or probing and KMS signatures fail fast, else 0',
      labelNames: ['account'] as const,
      registers,
    }),
    rateLimitStoreCircuitOpen: new Gauge({
      name: 'cf_signer_rate_limit_store_circuit_open',
      help: '1 while the rate-limit store (Redis) circuit is open or probing and requests skip it, else 0',
      registers,
    }),
    rateLimitStoreCircuitTrips: new Counter({
      name: 'cf_signer_rate_limit_store_circuit_trips_total',
      help: 'Times the rate-limit store circuit opened after consecutive Redis failures',
      registers,
    }),
    rateLimitStoreUnavailable: new Counter({
      name: 'cf_signer_rate_limit_store_unavailable_total',
      help: 'Requests the rate-limit store did not count, by reason (timeout, error, circuit_open); they passed unlimited or got 503 per rateLimit.onStoreFailure',
      labelNames: ['reason'] as const,
      registers,
    }),
    /** Records the key set in use (at start and after each reload that swapped it in). */
    setLoadedKeys(keys: readonly SigningKey[], activeId: string): void {
      loadedKeys = keys.map((key) => ({ id: key.id, modifiedMs: key.modifiedMs, active: key.id === activeId }))
      keysLoaded.set(keys.length)
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** The `code` of an error answer's JSON body, if it has one. */
export function errorCodeOf(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return undefined
  try {
    const code = (JSON.parse(payload) as { code?: unknown }).code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}
