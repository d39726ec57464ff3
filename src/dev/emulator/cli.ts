// `npm run emulator -- [options]`: runs the emulator alone until SIGINT/SIGTERM; `--help` lists the options.
import { parseArgs } from 'node:util'
import { EMULATOR_CREDENTIALS } from '../defaults.js'
import { createCloudFrontEmulator } from './index.js'
import { EmulatorStateError } from './state-file.js'

/** Exit status for a command line the emulator cannot run (unknown option, bad value), as most CLIs use. */
const USAGE_EXIT = 2

/** Every option, once: parseArgs reads them and --help prints them, so neither can drift from the other. */
const OPTIONS = {
  host: { type: 'string', value: '<address>', default: '127.0.0.1', help: 'address to listen on' },
  port: { type: 'string', value: '<port>', default: '4566', help: 'port to listen on; 0 picks a free one (the URL is printed)' },
  'deploy-seconds': { type: 'string', value: '<seconds>', default: '0', help: 'how long a created or changed distribution reports InProgress before Deployed' },
  'invalidation-seconds': { type: 'string', value: '<seconds>', default: '0', help: 'how long an invalidation reports InProgress before Completed' },
  'rtmp-mode': { type: 'string', value: 'full|post-2020', default: 'full', help: 'post-2020: streaming (RTMP) distributions are gone, as on AWS since the end of 2020' },
  'state-file': { type: 'string', value: '<path>', default: undefined, help: 'keep the world in this JSON file: read at start, rewritten after each change (default: in memory only)' },
  'kms-sign-latency-ms': { type: 'string', value: '<ms>', default: '0', help: 'milliseconds each KMS Sign waits before answering (other calls go on meanwhile)' },
  'kms-throttle-sign-every': { type: 'string', value: '<n>', default: '0', help: 'every Nth KMS Sign answers ThrottlingException; 0 never throttles' },
  help: { type: 'boolean', short: 'h', value: '', default: undefined, help: 'print this help and exit' },
} as const

/** A command-line mistake: printed with its stable code and the hint to run --help. */
class UsageError extends Error {
  constructor(readonly code: 'EMULATOR_UNKNOWN_OPTION' | 'EMULATOR_INVALID_OPTION', message: string) {
    super(message)
  }
}

function helpText(): string {
  const rows = Object.entries(OPTIONS).map(([name, option]) => {
    const flag = `${'short' in option ? `-${option.short}, ` : '    '}--${name}${option.value === '' ? '' : ` ${option.value}`}`
    const fallback = option.default === undefined ? '' : ` (default ${option.default})`
    return `  ${flag.padEnd(38)}${option.help}${fallback}`
  })
  return [
    'Usage: npm run emulator -- [options]',
    '',
    'A local CloudFront (API 2020-05-31), S3 and KMS emulator on one port, for the AWS CLI and for a cf-signer',
    'account whose endpoint points at it. It checks no request signature, so any credentials work; the',
    `service and the README use AWS_ACCESS_KEY_ID=${EMULATOR_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${EMULATOR_CREDENTIALS.secretAccessKey}.`,
    '',
    'Options:',
    ...rows,
    '',
    'Control endpoints for tests and scripts: POST /__emulator/reset, POST /__emulator/advance-clock?seconds=N,',
    'POST /__emulator/fault, DELETE /__emulator/fault, GET /__emulator/health, GET /__emulator/kms (keys and the Sign count),',
    'POST /__emulator/kms/keys {"keySpec": "RSA_2048"|"ECC_NIST_P256", "alias": "alias/name"},',
    'POST /__emulator/kms/options {"kmsSignLatencyMs": 50, "kmsThrottleSignEvery": 0}.',
  ].join('\n')
}

function readSeconds(name: string, text: string): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError('EMULATOR_INVALID_OPTION', `--${name} must be a non-negative number of seconds (got ${JSON.stringify(text)})`)
  }
  return value
}

function readCount(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError('EMULATOR_INVALID_OPTION', `--${name} must be a whole number, 0 or more (got ${JSON.stringify(text)})`)
  return Number(text)
}

function readCommandLine(args: string[]) {
  let values
  try {
    ;({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError('EMULATOR_UNKNOWN_OPTION', (error as Error).message)
    }
    throw new UsageError('EMULATOR_INVALID_OPTION', (error as Error).message)
  }
  const port = Number(values.port)
  if (!/^\d+$/.test(values.port) || port > 65535) {
    throw new UsageError('EMULATOR_INVALID_OPTION', `--port must be a whole number from 0 to 65535 (got ${JSON.stringify(values.port)})`)
  }
  const rtmpMode = values['rtmp-mode']
  if (rtmpMode !== 'full' && rtmpMode !== 'post-2020') {
    throw new UsageError('EMULATOR_INVALID_OPTION', `--rtmp-mode must be full or post-2020 (got ${JSON.stringify(rtmpMode)})`)
  }
  if (values['state-file'] === '') throw new UsageError('EMULATOR_INVALID_OPTION', '--state-file needs a path')
  return {
    help: values.help === true,
    host: values.host,
    port,
    deploySeconds: readSeconds('deploy-seconds', values['deploy-seconds']),
    invalidationSeconds: readSeconds('invalidation-seconds', values['invalidation-seconds']),
    rtmpMode: rtmpMode as 'full' | 'post-2020',
    stateFile: values['state-file'],
    kmsSignLatencyMs: readCount('kms-sign-latency-ms', values['kms-sign-latency-ms']),
    kmsThrottleSignEvery: readCount('kms-throttle-sign-every', values['kms-throttle-sign-every']),
  }
}

async function main(): Promise<void> {
  const options = readCommandLine(process.argv.slice(2))
  if (options.help) {
    console.log(helpText())
    return
  }
  const emulator = createCloudFrontEmulator(options)
  const url = await emulator.listen({ host: options.host, port: options.port })
  console.log(`cloudfront emulator listening on ${url}${options.stateFile === undefined ? '' : ` (state in ${options.stateFile})`}`)
  const stop = () => {
    emulator.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`emulator: ${error.code}: ${error.message}; see npm run emulator -- --help`)
    process.exit(USAGE_EXIT)
  }
  if (error instanceof EmulatorStateError) console.error(`emulator: ${error.code}: ${error.message}`)
  else console.error(`emulator: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
