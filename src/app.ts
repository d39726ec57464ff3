import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import { AjvCompiler } from '@fastify/ajv-compiler'
import pino, { type DestinationStream } from 'pino'
import type { Config } from './config/schema.js'
import { loggerOptions, requestLogger } from './http/logging.js'
import { describeSchemaError, handleClientError, sendFrameworkError } from './http/error-response.js'
import configPlugin from './plugins/config.js'
import errorsPlugin from './plugins/errors.js'
import drainPlugin from './plugins/drain.js'
import keysPlugin from './plugins/keys.js'
import kmsPlugin from './plugins/kms.js'
import authPlugin from './plugins/auth.js'
import signerPlugin from './plugins/signer.js'
import issuerPlugin from './plugins/issuer.js'
import type { SignerOptions } from './signer/signer.js'
import metricsPlugin from './plugins/metrics.js'
import httpSecurityPlugin from './plugins/http-security.js'
import openapiPlugin from './plugins/openapi.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import requestLogPlugin from './plugins/request-log.js'
import awsPlugin from './plugins/aws.js'
import tracingPlugin from './plugins/tracing.js'
import revocationsPlugin from './plugins/revocations.js'
import { traceLogFields } from './telemetry/log-fields.js'
import type { Tracing } from './telemetry/tracing.js'
import type { StaticCredentials } from './aws/accounts.js'
import { opsRoutes } from './routes/ops/index.js'
import { docsRoutes } from './routes/ops/docs.js'
import { signedUrlRoutes } from './routes/v1/signed-urls/index.js'
import { keysRoutes } from './routes/v1/keys/index.js'
import { signedCookieRoutes } from './routes/v1/signed-cookies/index.js'
import { signedQueryRoutes } from './routes/v1/signed-queries/index.js'
import { signedStreamRoutes } from './routes/v1/signed-streams/index.js'
import { playbackRoutes } from './routes/v1/playback/index.js'
import { inspectRoutes } from './routes/v1/inspect/index.js'
import { adminRoutes } from './routes/v1/admin/index.js'
import { revocationRoutes } from './routes/v1/revocations/index.js'

export interface AppOptions {
  config: Config
  /** Clock in epoch milliseconds (tests inject a fixed one). */
  now?: () => number
  /** Log level; 'silent' by default so tests stay quiet. */
  logLevel?: string
  /** Where JSON log lines go (stdout when absent); tests capture them to check for leaks. */
  logStream?: DestinationStream
  prettyLogs?: boolean
  /** Signing backend and cache bounds (the bench compares backends; the defaults serve production). */
  signer?: SignerOptions
  /** AWS credentials for every admin account instead of the standard chain: only the local emulator's dummy ones. */
  awsCredentials?: StaticCredentials
  /** OpenTelemetry, when server.ts started it (OTEL_EXPORTER_OTLP_ENDPOINT): request spans, trace IDs on log lines. */
  tracing?: Tracing
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/

/**
 * Fastify's Ajv, twice: query strings, path parameters and headers are text, so `?expiresIn=300`
 * is coerced to the integer its schema wants; a JSON body has types of its own, so `"300"`, `true` or
 * `[300]` where a number is wanted is a 400, never a silent conversion.
 */
function createValidatorsByPart() {
  const buildAjvValidator = AjvCompiler()
  return function buildValidator(externalSchemas: Parameters<typeof buildAjvValidator>[0], ajvOptions: Parameters<typeof buildAjvValidator>[1] = {}) {
    const coercing = buildAjvValidator(externalSchemas, ajvOptions)
    const strict = buildAjvValidator(externalSchemas, { ...ajvOptions, customOptions: { ...ajvOptions.customOptions, coerceTypes: false } } as typeof ajvOptions)
    // Fastify hands the compiler the route's schema with its part (its types name the schema only).
    const compile: typeof coercing = (route) => ((route as { httpPart?: string }).httpPart === 'body' ? strict : coercing)(route)
    return compile
  }
}

/** Builds the service; it never listens (server.ts does). */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options
  const logOptions = { ...loggerOptions(options.logLevel ?? 'silent', options.prettyLogs ?? false), ...(options.tracing !== undefined && { mixin: traceLogFields }) }
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logStream !== undefined ? pino(logOptions, options.logStream) : pino(logOptions),
    bodyLimit: config.server.bodyLimitBytes,
    // The server timeouts (README, Configuration reference): Node's socket timeout, its keep-alive
    // timeout, and its request and headers timeouts, which answer 408 through handleClientError.
    connectionTimeout: config.server.connectionTimeoutSeconds * 1000,
    keepAliveTimeout: config.server.keepAliveTimeoutSeconds * 1000,
    requestTimeout: config.server.requestTimeoutSeconds * 1000,
    // Node enforces these only when given at construction (Fastify sets requestTimeout afterwards), and
    // checks every 30 s by default: every second keeps them close to exact.
    http: {
      requestTimeout: config.server.requestTimeoutSeconds * 1000,
      headersTimeout: config.server.headersTimeoutSeconds * 1000,
      connectionsCheckingInterval: 1000,
    },
    // What Node's parser refuses gets the usual error shape and headers, not Fastify's bare JSON.
    clientErrorHandler: handleClientError,
    // While the app closes, src/plugins/drain.ts answers 503 SHUTTING_DOWN in the usual shape instead.
    return503OnClosing: false,
    trustProxy: config.server.trustProxy as boolean | string[],
    requestIdHeader: false,
    // One line per request instead of Fastify's two (src/plugins/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLogger,
    // Accept a caller's X-Request-Id when it is sane, so logs can be joined across services.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    // Unknown fields are an error, never silently dropped: a typo like `expiresInn` must fail.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    schemaController: { compilersFactory: { buildValidator: createValidatorsByPart() } },
    schemaErrorFormatter: (errors, dataVar) => new Error(describeSchemaError(errors[0], dataVar)),
    frameworkErrors: sendFrameworkError,
  }) as unknown as FastifyInstance
  // A JSON API: text/plain gets 415 like every other non-JSON type, not a confusing schema error.
  app.removeContentTypeParser('text/plain')

  // First: its onRequest hook opens the request span that every later hook, handler and log line runs in.
  await app.register(tracingPlugin, { tracing: options.tracing })
  await app.register(configPlugin, { config, now: options.now })
  await app.register(requestLogPlugin)
  // Before any route (a route keeps the error handler it was registered under): @fastify/cors adds one.
  await app.register(errorsPlugin)
  await app.register(httpSecurityPlugin)
  await app.register(drainPlugin)
  await app.register(metricsPlugin)
  await app.register(kmsPlugin, { credentials: options.awsCredentials })
  await app.register(keysPlugin)
  await app.register(authPlugin)
  await app.register(signerPlugin, { workers: options.config.signer.workers, ...options.signer })
  await app.register(issuerPlugin)
  await app.register(rateLimitPlugin)
  await app.register(awsPlugin, { credentials: options.awsCredentials })
  await app.register(revocationsPlugin)
  // Before any route: it collects the route schemas as they are registered.
  await app.register(openapiPlugin)

  await app.register(opsRoutes)
  await app.register(docsRoutes)
  await app.register(
    async (v1) => {
      await v1.register(signedUrlRoutes)
      await v1.register(keysRoutes)
      await v1.register(signedCookieRoutes)
      await v1.register(signedQueryRoutes)
      await v1.register(signedStreamRoutes)
      await v1.register(playbackRoutes)
      await v1.register(inspectRoutes)
      await v1.register(adminRoutes, { prefix: '/admin' })
      await v1.register(revocationRoutes)
    },
    { prefix: '/v1' },
  )
  return app
}
