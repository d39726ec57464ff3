import type { Span } from '@opentelemetry/api'
import type { FastifyOtelInstrumentation } from '@fastify/otel'
import type { FastifyRequest } from 'fastify'
import { redactUrl } from '../http/logging.js'

export const DEFAULT_SERVICE_NAME = 'cf-signer'
// Probes and scrapes every few seconds would bury the traces worth reading.
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

/** The variables tracing reads (server.ts hands them over); the SDK also honours the other standard OTEL_* ones. */
export interface TracingEnvironment {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string
  OTEL_SERVICE_NAME?: string
}

/** The running SDK: the Fastify plugin to register, and the shutdown that flushes the spans still buffered. */
export interface Tracing {
  instrumentation: FastifyOtelInstrumentation
  shutdown(): Promise<void>
}

/** The OTLP/HTTP traces URL under a base endpoint, as the OpenTelemetry specification builds it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`
}

/**
 * The request span named after the route pattern (`POST /v1/signed-urls`), and its URL attributes
 * redacted as the request log redacts them: a playback token or a signature never reaches a span.
 */
function describeRequestSpan(span: Span, request: FastifyRequest): void {
  const route = request.routeOptions.url
  span.updateName(route !== undefined ? `${request.method} ${route}` : request.method)
  const url = redactUrl(request.url)
  const query = url.indexOf('?')
  span.setAttribute('url.path', query === -1 ? url : url.slice(0, query))
  if (query !== -1) span.setAttribute('url.query', url.slice(query + 1))
}

/**
 * Starts the OpenTelemetry Node SDK with the OTLP/HTTP (JSON) trace exporter when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise starts nothing and answers undefined. The SDK is
 * loaded only then, so a service without tracing never pays for it. Traces only: no OTLP metrics or logs.
 */
export async function startTracing(env: TracingEnvironment): Promise<Tracing | undefined> {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT
  if (endpoint === undefined || endpoint === '') return undefined
  const [{ NodeSDK }, { OTLPTraceExporter }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@fastify/otel'),
  ])
  const instrumentation = new FastifyOtelInstrumentation({
    // One span per request (and the handler's, which carries the request's context past body parsing), not one per hook.
    instrumentHooks: false,
    requestHook: describeRequestSpan,
    ignorePaths: ({ url }) => UNTRACED_PATHS.has(url.split('?')[0]),
  })
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    traceExporter: new OTLPTraceExporter({ url: tracesUrl(endpoint) }),
    instrumentations: [instrumentation],
    metricReaders: [],
    logRecordProcessors: [],
  })
  sdk.start()
  return { instrumentation, shutdown: () => sdk.shutdown() }
}
