// The local KMS for the bench's KMS rows, in its own process: one ECC P-256 key (real KMS spends its
// own CPU; an ECDSA signature keeps the emulator's share of this machine's two cores small), and every
// Sign answered after a fixed latency, as a KMS in another data centre would. It counts the Sign calls.
import { readFileSync } from 'node:fs'
import { createCloudFrontEmulator } from '../src/dev/emulator/index.js'

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { signLatencyMs: number; alias: string }
const emulator = createCloudFrontEmulator({ kmsSignLatencyMs: settings.signLatencyMs })
const address = await emulator.listen({ host: '127.0.0.1', port: 0 })
emulator.createKmsKey({ keySpec: 'ECC_NIST_P256', alias: settings.alias })

process.on('message', async (message: { type: string }) => {
  if (message.type === 'stats') {
    const { user, system } = process.cpuUsage()
    process.send!({ type: 'stats', rss: process.memoryUsage().rss, cpuMicros: user + system, signCalls: emulator.kmsSignCount() })
  } else if (message.type === 'close') {
    await emulator.close()
    process.exit(0)
  }
})
process.send!({ type: 'listening', address })
