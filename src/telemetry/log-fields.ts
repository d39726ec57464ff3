import { context, trace } from '@opentelemetry/api'

/** pino's `mixin` while tracing is on: the active span's trace and span IDs on every log line, to find the line's trace. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active())
  // A fresh object each time: pino merges the line's own fields into it.
  if (span === undefined) return {}
  const { traceId, spanId } = span.spanContext()
  return { trace_id: traceId, span_id: spanId }
}
