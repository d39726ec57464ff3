import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Tracing } from '../telemetry/tracing.js'

export interface TracingPluginOptions {
  /** The SDK server.ts started (OTEL_EXPORTER_OTLP_ENDPOINT set); without it the plugin adds nothing. */
  tracing?: Tracing
}

/**
 * @fastify/otel on the whole app: a server span per request, continuing an incoming W3C
 * `traceparent`, active while the request's hooks and handler run (so AWS calls become its children).
 */
async function tracingPlugin(app: FastifyInstance, { tracing }: TracingPluginOptions) {
  if (tracing === undefined) return
  await app.register(tracing.instrumentation.plugin())
}

export default fp(tracingPlugin, { name: 'tracing' })
