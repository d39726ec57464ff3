import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'

// A proxy until the SDK starts (if it ever does): spans cost nothing while tracing is off.
const tracer = trace.getTracer('cf-signer')

type Handler = (args: unknown) => Promise<unknown>
interface MiddlewareStack {
  add(middleware: (next: Handler, context: { commandName?: string }) => Handler, options: { step: 'initialize'; priority: 'high'; name: string }): void
}

/**
 * A client span around every SDK command of a client, outside its retries: `CloudFront.ListDistributions`,
 * with the attributes of OpenTelemetry's AWS SDK conventions (rpc.system `aws-api`, rpc.service,
 * rpc.method, cloud.region) and the configured account's name; a failure sets the error status and its code.
 */
export function traceCommands(stack: MiddlewareStack, service: 'CloudFront' | 'S3' | 'KMS' | 'CloudFrontKeyValueStore', attributes: { region: string; account: string }): void {
  stack.add(
    (next, context) => (args) => {
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '')
      const spanAttributes = { 'rpc.system': 'aws-api', 'rpc.service': service, 'rpc.method': operation, 'cloud.region': attributes.region, 'cf_signer.aws.account': attributes.account }
      return tracer.startActiveSpan(`${service}.${operation}`, { kind: SpanKind.CLIENT, attributes: spanAttributes }, async (span) => {
        try {
          return await next(args)
        } catch (err) {
          const code = String((err as { code?: unknown }).code ?? (err as Error).name)
          span.setAttribute('error.type', code)
          span.setStatus({ code: SpanStatusCode.ERROR, message: code })
          throw err
        } finally {
          span.end()
        }
      })
    },
    { step: 'initialize', priority: 'high', name: 'cfSignerTrace' },
  )
}
