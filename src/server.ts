import { setTimeout as sleep } from 'node:timers/promises'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config/load.js'
import type { Config } from './config/schema.js'
import { loadShutdownTimings, type ShutdownTimings } from './config/shutdown.js'
import type { CloudFrontEmulator } from './dev/emulator/index.js'
import { developmentBanner } from './dev/banner.js'
import { DEV_DEPLOY_SECONDS, EMULATOR_CREDENTIALS, withLocalCloudFront } from './dev/defaults.js'
import { createDevToken } from './dev/tokens.js'
import { startTracing } from './telemetry/tracing.js'

/** pino-pretty is a development dependency: a build run without NODE_ENV=production logs JSON without it. */
function isInstalled(specifier: string): boolean {
  try {
    import.meta.resolve(specifier)
    return true
  } catch {
    return false
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const
/** A stop signal this soon after the first is the same stop; a later one means "exit now". */
const REPEATED_SIGNAL_WINDOW_MS = 1000

/** The only entry point: read the environment, load the configuration, build the app, listen, shut down gracefully. */
async function main() {
  // Production logs are JSON lines only: node's own warnings (deprecations, the SDK's) go through the
  // logger once it exists, instead of node's plain-text printer on stderr.
  const earlyWarnings: Error[] = []
  let logWarning: (warning: Error) => void = (warning) => earlyWarnings.push(warning)
  process.removeAllListeners('warning')
  process.on('warning', (warning) => logWarning(warning))

  const env = process.env
  const production = env.NODE_ENV === 'production'
  let config: Config
  try {
    config = loadConfig({
      file: env.CONFIG_FILE,
      production,
      overrides: { host: env.HOST || undefined, port: env.PORT ? Number(env.PORT) : undefined, keysDir: env.KEYS_DIR || undefined },
    })
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`cf-signer: ${err.message}`)
      process.exit(1)
    }
    throw err
  }
  let shutdown: ShutdownTimings
  try {
    shutdown = loadShutdownTimings(env)
  } catch (err) {
    console.error(`cf-signer: ${(err as Error).message}`)
    process.exit(1)
  }
  const { graceMs, drainDelayMs } = shutdown

  // Development without an aws section: the admin routes use a local CloudFront emulator in this
  // process, with dummy credentials. Production reaches an emulator only through a configured endpoint.
  let emulator: CloudFrontEmulator | undefined
  if (!production && config.aws === undefined) {
    const { createCloudFrontEmulator } = await import('./dev/emulator/index.js')
    emulator = createCloudFrontEmulator({ deploySeconds: DEV_DEPLOY_SECONDS })
    config = withLocalCloudFront(config, await emulator.listen({ host: '127.0.0.1', port: 0 }))
  }

  // OpenTelemetry only with OTEL_EXPORTER_OTLP_ENDPOINT (README, Tracing); started before the app registers its routes.
  const tracing = await startTracing(env)
  let app
  try {
    app = await buildApp({
      config,
      logLevel: env.LOG_LEVEL ?? 'info',
      prettyLogs: !production && env.LOG_FORMAT !== 'json' && isInstalled('pino-pretty'),
      awsCredentials: emulator !== undefined ? EMULATOR_CREDENTIALS : undefined,
      tracing,
    })
    await app.ready()
  } catch (err) {
    for (const warning of earlyWarnings) console.error(`cf-signer: ${warning.name}: ${warning.message}`)
    // Key and configuration failures name the file and the reason; nothing else is worth a stack here.
    console.error(`cf-signer: cannot start: ${(err as Error).message}`)
    process.exit(1)
  }

  const log = app.log
  logWarning = (warning) => log.warn({ warning: { name: warning.name, code: (warning as NodeJS.ErrnoException).code, message: warning.message } }, 'process warning')
  for (const warning of earlyWarnings.splice(0)) logWarning(warning)

  // Past the grace period close-with-grace exits 1, whatever is still in flight. It also closes on
  // uncaught errors; the stop signals are handled below, so that a stop arriving twice drains once.
  let stopSignal: NodeJS.Signals | undefined
  const closer = closeWithGrace({ delay: graceMs, skip: [...STOP_SIGNALS] }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal: stopSignal, drainDelayMs }, 'shutting down')
    // /readyz answers 503 from now on, and every answer closes its connection (src/plugins/drain.ts).
    // On SIGTERM (the platform's stop) the server keeps answering for the drain delay, while load
    // balancers take the instance out; then it stops accepting, closes idle connections, answers
    // late arrivals 503 SHUTTING_DOWN and lets in-flight requests finish.
    app.draining = true
    if (stopSignal === 'SIGTERM') await sleep(drainDelayMs)
    await app.close()
    await emulator?.close()
    // Flushes the spans still buffered, the shutdown's own included.
    await tracing?.shutdown()
  })
  let stoppedAt = 0
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (stopSignal === undefined) {
        stopSignal = signal
        stoppedAt = performance.now()
        void closer.close()
      } else if (performance.now() - stoppedAt < REPEATED_SIGNAL_WINDOW_MS) {
        // npm and terminals deliver one stop twice (Ctrl-C reaches the whole process group, and npm forwards it).
        app.log.info({ signal }, 'already shutting down')
      } else {
        app.log.error({ signal }, 'second stop signal: exiting now')
        process.exit(1)
      }
    })
  }

  const address = await app.listen({ host: config.server.host, port: config.server.port })
  if (config.development) console.log(developmentBanner(config, address, createDevToken(config), emulator?.url))
  else if (emulator !== undefined) app.log.info({ emulator: emulator.url }, 'admin routes use a local CloudFront emulator (no aws section configured)')
}

await main()
