// The baseline and the ceiling, in their own process: a Fastify route that signs the common naive
// way (@aws-sdk/cloudfront-signer handed the PEM string, so every request parses the key again),
// and a hello-world route, the most the HTTP stack can answer on this machine.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'
import { getSignedUrl } from '@aws-sdk/cloudfront-signer'

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { domain: string; keyId: string; privateKeyPem: string; ttlSeconds: number }
const app = Fastify()

app.post('/sign', async (request) => {
  const { path } = request.body as { path: string }
  const url = getSignedUrl({
    url: `https://${settings.domain}${path}`,
    keyPairId: settings.keyId,
    privateKey: settings.privateKeyPem,
    dateLessThan: new Date(Date.now() + settings.ttlSeconds * 1000).toISOString(),
  })
  return { url }
})

app.get('/hello', async () => ({ hello: 'world' }))

const address = await app.listen({ host: '127.0.0.1', port: 0 })
process.on('message', async (message: { type: string }) => {
  if (message.type === 'stats') {
    const { user, system } = process.cpuUsage()
    process.send!({ type: 'stats', rss: process.memoryUsage().rss, cpuMicros: user + system })
  } else if (message.type === 'close') {
    await app.close()
    process.exit(0)
  }
})
process.send!({ type: 'listening', address })
