// SIGTERM to a real service process: /readyz fails at once while the server still answers, an
// in-flight request (a body still uploading) completes with 200 after the server stopped
// accepting, keep-alive clients are answered in full and told to close, and the process exits 0
// within SHUTDOWN_GRACE_MS.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { TEST_DISTRIBUTIONS } from '../support/build.js'
import { makeKeyDir, vectorKeyFiles, RSA_KEY_ID } from '../support/keys.js'
import { makeToken, TEST_JWT_SECRET } from '../support/tokens.js'
import { fetchFresh, startService, type ServiceProcess } from '../support/process.js'
import { waitFor } from '../support/wait.js'

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

/** One answer read off a raw keep-alive connection, or `reset` when it closed before a whole answer came. */
type RawAnswer = { statusCode: number; connection: string | undefined; body: string } | 'reset'

/** A connection that sends one request at a time and reads each answer in full (Content-Length framed). */
async function openKeepAlive(port: number): Promise<{ socket: Socket; send: (path: string) => Promise<RawAnswer>; closed: Promise<void> } | null> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  try {
    await once(socket, 'connect')
  } catch {
    return null // refused: the server no longer accepts
  }
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  let buffered = ''
  let waiting: ((answer: RawAnswer) => void) | undefined
  const deliver = () => {
    const end = buffered.indexOf('\r\n\r\n')
    if (waiting === undefined || end === -1) return
    const head = buffered.slice(0, end).split('\r\n')
    const headers = Object.fromEntries(head.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
    const length = Number(headers['content-length'] ?? 0)
    if (buffered.length < end + 4 + length) return
    const answer = { statusCode: Number(head[0].split(' ')[1]), connection: headers.connection?.toLowerCase(), body: buffered.slice(end + 4, end + 4 + length) }
    buffered = buffered.slice(end + 4 + length)
    const resolve = waiting
    waiting = undefined
    resolve(answer)
  }
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    deliver()
  })
  closed.then(() => {
    deliver()
    waiting?.('reset')
  })
  const send = (path: string) =>
    new Promise<RawAnswer>((resolve) => {
      waiting = resolve
      if (socket.destroyed) return resolve('reset')
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`)
    })
  return { socket, send, closed }
}

describe('shutdown on SIGTERM', () => {
  it('fails readiness at once, finishes in-flight requests, and exits 0 within SHUTDOWN_GRACE_MS', async (t) => {
    const graceMs = 8000
    const service = await startServer(t, { SHUTDOWN_GRACE_MS: String(graceMs), SHUTDOWN_DELAY_MS: '1000' })
    assert.equal((await fetchFresh(`${service.baseUrl}/readyz`))?.status, 200)
    const slow = startSlowRequest(service.baseUrl)
    // Let the request's headers reach the server before the signal (a separate process shows no sign of them).
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
      // A connection the kernel completed as the listener closed is reset, not refused: neither is served.
      refused = (await fetchFresh(`${service.baseUrl}/healthz`).catch((error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? null : Promise.reject(error)))) === null
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

  it('keeps answering a keep-alive client in full during the drain, each answer closing its connection; idle connections close', async (t) => {
    const graceMs = 8000
    const drainMs = 1500
    const service = await startServer(t, { SHUTDOWN_GRACE_MS: String(graceMs), SHUTDOWN_DELAY_MS: String(drainMs) })
    const port = Number(new URL(service.baseUrl).port)

    // An idle keep-alive connection: served once, then left open.
    const idle = (await openKeepAlive(port))!
    t.after(() => idle.socket.destroy())
    const first = await idle.send('/healthz')
    assert.ok(first !== 'reset' && first.statusCode === 200 && first.connection === 'keep-alive', "first !== 'reset' && first.statusCode === 200 && first.connection === 'keep-alive'")
    let idleClosedAt = Infinity
    idle.closed.then(() => (idleClosedAt = performance.now()))

    // A busy client: one request after another, on the same connection while the server keeps it.
    let signalledAt = Infinity
    const answers: Array<{ answer: RawAnswer; at: number; openedAt: number; first: boolean }> = []
    const busy = (async () => {
      const deadline = performance.now() + graceMs + 5000
      for (;;) {
        assert.ok(performance.now() < deadline, 'the busy client stopped being served before the grace period ended')
        const connection = await openKeepAlive(port)
        if (connection === null) return
        t.after(() => connection.socket.destroy())
        const openedAt = performance.now()
        for (let first = true; ; first = false) {
          const answer = await connection.send('/healthz')
          answers.push({ answer, at: performance.now(), openedAt, first })
          if (answer === 'reset' || answer.connection === 'close' || performance.now() > deadline) break
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        if (performance.now() > deadline) connection.socket.destroy()
        await connection.closed
      }
    })()
    await waitFor(() => answers.length >= 3, 10_000, 'the busy client served before the signal')
    signalledAt = performance.now()
    service.child.kill('SIGTERM')
    await busy
    assert.equal(await service.exited, 0)

    // No request the server took in lost its answer. The one reset allowed is TCP's, not the
    // service's: a connection the kernel completed as the server closed its listening socket, which
    // the server never accepted (the load balancer stops connecting during the drain delay).
    const resets = answers.filter(({ answer }) => answer === 'reset')
    assert.ok(
      resets.every(({ first, openedAt }) => first && openedAt >= signalledAt + drainMs - 100),
      `requests reset: ${JSON.stringify(resets.map(({ first, openedAt, at }) => ({ first, openedAfterMs: Math.round(openedAt - signalledAt), resetAfterMs: Math.round(at - signalledAt) })))}`,
    )
    const served = answers.filter(({ answer }) => answer !== 'reset').map(({ answer, at }) => ({ ...(answer as Exclude<RawAnswer, 'reset'>), at }))
    assert.ok(served.every((a) => a.statusCode === 200 || (a.statusCode === 503 && JSON.parse(a.body).code === 'SHUTTING_DOWN')), JSON.stringify(served.map((a) => a.statusCode)))
    // Before the signal the connection was kept; during the drain every answer closed its own.
    assert.ok(served.some((a) => a.at < signalledAt && a.connection === 'keep-alive'), "served.some((a) => a.at < signalledAt && a.connection === 'keep-alive')")
    const drained = served.filter((a) => a.connection === 'close')
    assert.ok(drained.length >= 5, `${drained.length} answers during the drain`)
    assert.ok(drained.every((a) => a.at >= signalledAt), 'drained.every((a) => a.at >= signalledAt)')
    assert.equal(served.at(-1)!.connection, 'close')
    assert.ok(served.filter((a) => a.at > drained[0].at).every((a) => a.connection === 'close'), 'no connection was kept once the drain began')
    // The idle connection was closed by the server when it stopped accepting, long before its keep-alive timeout.
    assert.ok(idleClosedAt >= signalledAt && idleClosedAt - signalledAt < graceMs, `idle connection closed ${Math.round(idleClosedAt - signalledAt)} ms after the signal`)
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
