// `npm start` without an aws section: the admin routes work on a fresh machine, against a local
// CloudFront emulator in the same process; in production they never fall back to it.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it, type TestContext } from 'node:test'
import { exitStatus, startService, stopWhenDone, TSX } from '../../support/process.js'
import { RSA_KEY_ID, RSA_PEM } from '../../support/keys.js'
import { TEST_JWT_SECRET, makeToken } from '../../support/tokens.js'
import { waitForOutput } from '../../support/wait.js'

const SERVER = fileURLToPath(new URL('../../../src/server.ts', import.meta.url))

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-dev-admin-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function start(t: TestContext, cwd: string, env: Record<string, string>) {
  const service = await startService([process.execPath, '--import', TSX, SERVER], { cwd, env: { LOG_FORMAT: 'json', SHUTDOWN_DELAY_MS: '0', ...env } })
  stopWhenDone(t, service)
  return service
}

describe('admin routes in development mode', () => {
  it('use a local CloudFront emulator on 127.0.0.1, printed in the banner, and stop with the service', async (t) => {
    const service = await start(t, tempDir(t), {})
    // The banner follows the "listening" line.
    const banner = await waitForOutput(service.output, /export TOKEN=(\S+)[\s\S]*local CloudFront emulator at (http:\/\/\S+)/, 30_000, exitStatus(service))
    const [, token, emulatorUrl] = banner
    assert.ok(token, 'the banner prints a token')
    assert.match(emulatorUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/)
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

    const created = await fetch(`${service.baseUrl}/v1/admin/origin-access-identities`, { method: 'POST', headers, body: JSON.stringify({ comment: 'try it' }) })
    assert.equal(created.status, 201)
    const oai = (await created.json()) as { id: string }
    // The same state is what the AWS CLI sees at the printed URL.
    const direct = await fetch(`${emulatorUrl}/2020-05-31/origin-access-identity/cloudfront/${oai.id}`)
    assert.equal(direct.status, 200)

    service.child.kill('SIGTERM')
    assert.equal(await service.exited, 0)
    await assert.rejects(fetch(`${emulatorUrl}/__emulator/health`), 'the emulator stopped with the service')
  })

  it('in production without an aws section answer 503 ADMIN_NOT_CONFIGURED, never the emulator', async (t) => {
    const cwd = tempDir(t)
    writeFileSync(join(cwd, `${RSA_KEY_ID}.pem`), RSA_PEM, { mode: 0o600 })
    writeFileSync(join(cwd, 'config.yaml'), `auth:\n  jwt:\n    secret: ${TEST_JWT_SECRET}\nkeys:\n  dir: ${cwd}\n`)
    const service = await start(t, cwd, { NODE_ENV: 'production', CONFIG_FILE: join(cwd, 'config.yaml') })
    const res = await fetch(`${service.baseUrl}/v1/admin/distributions`, { headers: { authorization: `Bearer ${makeToken({ sub: 'ops', scope: 'admin:read' }, { nowMs: Date.now() })}` } })
    assert.equal(res.status, 503)
    assert.equal(((await res.json()) as { code: string }).code, 'ADMIN_NOT_CONFIGURED')
    assert.doesNotMatch(service.output(), /emulator/)
  })
})
