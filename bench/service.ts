// The real service for the bench, in its own process: buildApp with the bench configuration, on
// 127.0.0.1 and a free port. It answers the runner's IPC questions about its memory and cache.
import { readFileSync } from 'node:fs'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config/load.js'
import type { SignerBackend } from '../src/signer/signer.js'

interface ServiceSettings {
  config: Record<string, unknown>
  backend: SignerBackend
  logLevel: string
}

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8')) as ServiceSettings
const app = await buildApp({
  config: loadConfig({ production: true, input: settings.config }),
  logLevel: settings.logLevel,
  signer: { backend: settings.backend },
})
const address = await app.listen({ host: '127.0.0.1', port: 0 })

process.on('message', async (message: { type: string }) => {
  // What stays resident once everything collectable is collected (the bench starts this process with --expose-gc).
  if (message.type === 'gc') {
    ;(globalThis as { gc?: () => void }).gc?.()
    // V8 hands freed pages back to the system from background tasks: let them finish before reading RSS.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const { rss, heapUsed } = process.memoryUsage()
    process.send!({ type: 'gc', rss, liveHeap: heapUsed })
  } else if (message.type === 'stats') {
    const cache = await app.metrics.signatureCache.get()
    const count = (result: string) => cache.values.find((v) => v.labels.result === result)?.value ?? 0
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage()
    const { user, system } = process.cpuUsage()
    process.send!({ type: 'stats', rss, heapUsed, heapTotal, external, cpuMicros: user + system, cacheHits: count('hit'), cacheMisses: count('miss') })
  } else if (message.type === 'close') {
    await app.close()
    process.exit(0)
  }
})
process.send!({ type: 'listening', address })
