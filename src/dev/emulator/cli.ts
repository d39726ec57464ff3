// `npm run emulator -- --port 4566 --deploy-seconds 5`: runs the emulator alone until SIGINT/SIGTERM.
import { parseArgs } from 'node:util'
import { createCloudFrontEmulator } from './index.js'

function readSeconds(name: string, text: string | undefined): number {
  const value = Number(text ?? '0')
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number of seconds`)
  return value
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '4566' },
      'deploy-seconds': { type: 'string' },
      'invalidation-seconds': { type: 'string' },
      'rtmp-mode': { type: 'string', default: 'full' },
    },
  })
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer between 0 and 65535')
  const rtmpMode = values['rtmp-mode']
  if (rtmpMode !== 'full' && rtmpMode !== 'post-2020') throw new Error('--rtmp-mode must be full or post-2020')
  const emulator = createCloudFrontEmulator({
    deploySeconds: readSeconds('deploy-seconds', values['deploy-seconds']),
    invalidationSeconds: readSeconds('invalidation-seconds', values['invalidation-seconds']),
    rtmpMode,
  })
  const url = await emulator.listen({ host: values.host, port })
  console.log(`cloudfront emulator listening on ${url}`)
  const stop = () => {
    emulator.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
