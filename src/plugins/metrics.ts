import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Every metric the service exports, on one registry per app instance (tests build many apps). */
export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'cf_signer_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    signaturesIssued: new Counter({
      name: 'cf_signer_signatures_issued_total',
      help: 'Signed URLs, cookie sets and stream names issued',
      labelNames: ['distribution', 'policy', 'algorithm', 'key_id'] as const,
      registers,
    }),
    errors: new Counter({
      name: 'cf_signer_errors_total',
      help: 'Error answers by response code',
      labelNames: ['code', 'status'] as const,
      registers,
    }),
    keysLoaded: new Gauge({ name: 'cf_signer_keys_loaded', help: 'Signing keys currently loaded', registers }),
    keyAge: new Gauge({
      name: 'cf_signer_key_age_seconds',
      help: 'Seconds since each loaded key file was last modified',
      labelNames: ['key_id', 'active'] as const,
      registers,
    }),
    keyReloadFailures: new Counter({
      name: 'cf_signer_key_reload_failures_total',
      help: 'Key files or key sets that failed to load on reload',
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
  }
}

export type Metrics = ReturnType<typeof createMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

async function metricsPlugin(app: FastifyInstance) {
  app.decorate('metrics', createMetrics())
}

export default fp(metricsPlugin, { name: 'metrics' })
