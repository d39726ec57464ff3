// SIGTERM to a real service process: /readyz fails at once while the server still answers, an
// in-flight request (a body still uploading) completes with 200 after the server stopped
// accepting, and the process exits 0 within SHUTDOWN_GRACE_MS.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { TEST_DISTRIBUTIONS } from '../support/build.js'
import { makeKeyDir, vectorKeyFiles, RSA_KEY_ID } from '../support/keys.js'
import { makeToken, TEST_JWT_SECRET } from '../support/tokens.js'
import { fetchFresh, startService, type ServiceProcess } from '../support/process.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

async function startServer(t: TestContext, env: Record<string, string>): Promise<ServiceProcess> {
  const keys = makeKeyDir(vectorKeyFiles())
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-shutdown-'))
  t.after(() => {
    keys.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })
  const configFile = join(dir, 'config.yaml')
  writeFileSync(configFile, stringify({ auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: keys.dir, activeKeyId: RSA_KEY_ID }, distributions: TEST_DISTRIBUTIONS }))
  const service = await startService([process.execPath, '--import', 'tsx', 'src/server.ts'], { cwd: REPO, env: { NODE_ENV: 'production', CONFIG_FILE: configFile, ...env } })
  t.after(() => {
    if (service.child.exitCode === null) service.child.kill('SIGKILL')
  })
  return service
}

/** A signing request whose body is sent only in part: in flight until `finish()`. */
function startSlowRequest(baseUrl: string) {
  const body = JSON.stringify({ distribution: 'demo', path: '/videos/slow.mp4' })
  const req = request(`${baseUrl}/v1/signed-urls`, {
    method: 'POST',
    agent: false,
    headers: { authorization: `Bearer ${makeToken(undefined, { nowMs: Date.now() })}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  })
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, body: text }))
    })
    req.on('error', reject)
  })
  response.catch(() => undefined) // awaited by the test that finishes it
  req.write(body.slice(0, 10))
  return { response, finish: () => req.end(body.slice(10)) }
}

describe('shutdown on SIGTERM', () => {
  it('fails readiness at once, finishes in-flight requests, and exits 0 within SHUTDOWN_GRACE_MS', async (t) => {
    const graceMs = 8000
    const service = await startServer(t, { SHUTDOWN_GRACE_MS: String(graceMs), SHUTDOWN_DELAY_MS: '1000' })
    assert.equal((await fetchFresh(`${service.baseUrl}/readyz`))?.status, 200)
    const slow = startSlowRequest(service.baseUrl)
    // Let the request's headers reach the server before the signal.
    await new Promise((resolve) => setTimeout(resolve, 200))

    const signalledAt = performance.now()
    service.child.kill('SIGTERM')
    // The signal takes a moment to arrive; from then on readiness fails while the server still answers.
    let readiness = await fetchFresh(`${service.baseUrl}/readyz`)
    while (readiness?.status === 200 && performance.now() - signalledAt < 500) readiness = await fetchFresh(`${service.baseUrl}/readyz`)
    assert.equal(readiness?.status, 503, 'readyz during the drain delay')
    assert.deepEqual(JSON.parse(readiness!.body).reasons, ['shutting down'])
    assert.equal((await fetchFresh(`${service.baseUrl}/healthz`))?.status, 200, 'still answering during the drain delay')

    // Then the server stops accepting connections...
    let refused = false
    while (!refused) {
      refused = (await fetchFresh(`${service.baseUrl}/healthz`)) === null
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 50))
      assert.ok(performance.now() - signalledAt < graceMs, 'the server stopped accepting before the grace period ended')
    }
    assert.equal(service.child.exitCode, null, 'still running while a request is in flight')
    // ...and the in-flight request still completes.
    slow.finish()
    const answer = await slow.response
    assert.equal(answer.status, 200)
    assert.match(JSON.parse(answer.body).url, /^https:\/\/d111111abcdef8\.cloudfront\.net\/videos\/slow\.mp4\?Expires=\d+&Signature=/)

    assert.equal(await service.exited, 0)
    const exitedAfterMs = performance.now() - signalledAt
    assert.ok(exitedAfterMs < graceMs, `exited after ${Math.round(exitedAfterMs)} ms`)
    assert.match(service.output(), /"msg":"shutting down"/)
  })

  it('exits within SHUTDOWN_GRACE_MS even when a request never finishes (code 1: cut short)', async (t) => {
    const graceMs = 2000
    const service = await startServer(t, { SHUTDOWN_GRACE_MS: String(graceMs), SHUTDOWN_DELAY_MS: '100' })
    const slow = startSlowRequest(service.baseUrl)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const signalledAt = performance.now()
    service.child.kill('SIGTERM')
    assert.equal(await service.exited, 1)
    const exitedAfterMs = performance.now() - signalledAt
    assert.ok(exitedAfterMs >= graceMs - 100 && exitedAfterMs < graceMs + 2000, `exited after ${Math.round(exitedAfterMs)} ms`)
  })

  it('refuses to start when SHUTDOWN_DELAY_MS is not below SHUTDOWN_GRACE_MS', async (t) => {
    await assert.rejects(startServer(t, { SHUTDOWN_GRACE_MS: '1000', SHUTDOWN_DELAY_MS: '1000' }), /SHUTDOWN_DELAY_MS \(1000\) must be a whole number of milliseconds below SHUTDOWN_GRACE_MS \(1000\)/)
  })
})
