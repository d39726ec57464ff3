// The service as a user starts it: a real `node src/server.ts` process on the development defaults
// (banner, token, curl line that works, `.dev/` reused), with CONFIG_FILE in production, refusing to
// start in production without keys and auth, and the token script. Then what the logs never hold.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, captureLogs, TEST_DISTRIBUTIONS } from '../support/build.js'
import { makeKeyDir, RSA_KEY_ID, RSA_PEM, vectorKeyFiles } from '../support/keys.js'
import { freePort, exitStatus, spawnProcess, stopWhenDone, TSX, type RunningProcess } from '../support/process.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'
import { waitFor, waitForOutput } from '../support/wait.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SERVER = join(ROOT, 'src/server.ts')
const TOKEN_SCRIPT = join(ROOT, 'scripts/token.ts')
// A bound, not a wait: a cold tsx start on a busy two-core machine can take most of it.
const START_TIMEOUT_MS = 60_000

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-process-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The environment a user would have: nothing of ours but what the test sets. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of ['NODE_ENV', 'CONFIG_FILE', 'PORT', 'HOST', 'LOG_LEVEL', 'LOG_FORMAT', 'NODE_TEST_CONTEXT']) delete env[name]
  return { ...env, SHUTDOWN_DELAY_MS: '0', ...extra }
}

type Running = RunningProcess

/** Spawns a node script with the tsx loader; the child is stopped when the test ends. */
function run(t: TestContext, script: string, args: string[], options: { cwd: string; env: Record<string, string> }): Running {
  const running = spawnProcess([process.execPath, '--import', TSX, script, ...args], { cwd: options.cwd, env: childEnv(options.env) })
  stopWhenDone(t, running)
  return running
}

/** Waits for the process to print `pattern` on stdout. */
function waitForStdout(running: Running, pattern: RegExp): Promise<RegExpMatchArray> {
  return waitForOutput(running.stdout, pattern, START_TIMEOUT_MS, exitStatus(running))
}

async function exitCode(running: Running): Promise<number | null> {
  await running.exited
  return running.child.exitCode
}

interface Banner {
  keyId: string
  token: string
  url: string
  body: unknown
}

async function startDevelopment(t: TestContext, cwd: string): Promise<{ running: Running; banner: Banner; port: number }> {
  const port = await freePort()
  const running = run(t, SERVER, [], { cwd, env: { PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json' } })
  const [, url, body] = await waitForStdout(running, /curl -s -X POST (\S+) -H "authorization: Bearer \$TOKEN" -H 'content-type: application\/json' -d '([^']+)'/)
  const keyId = running.stdout().match(/signing key : (K[A-Z0-9]+) /)?.[1]
  const token = running.stdout().match(/export TOKEN=(\S+)/)?.[1]
  assert.ok(keyId, 'the banner prints the key ID')
  assert.ok(token, 'the banner prints a token')
  return { running, banner: { keyId, token, url, body: JSON.parse(body) }, port }
}

describe('the service process', () => {
  it('on development defaults: prints the key ID, a token and a curl line that signs a URL; reuses .dev/ on the next start', async (t) => {
    const cwd = tempDir(t)
    const first = await startDevelopment(t, cwd)
    assert.equal(first.banner.url, `http://127.0.0.1:${first.port}/v1/signed-urls`)
    const res = await fetch(first.banner.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.banner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(first.banner.body),
    })
    const signed = (await res.json()) as { url: string; keyId: string; policy: string }
    assert.equal(res.status, 200, JSON.stringify(signed))
    assert.equal(signed.keyId, first.banner.keyId)
    assert.match(signed.url, /^https:\/\/[^/]+\/videos\/intro\.mp4\?Expires=\d+&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=K[A-Z0-9]+$/)
    // The real process logs as JSON with the request id, and never the credential it issued.
    const signature = new URL(signed.url).searchParams.get('Signature')!
    await waitForStdout(first.running, /"msg":"signed url"/)
    assert.ok(!first.running.stdout().split('curl')[1].includes(signature), 'the signature is not logged')

    // The token script, run in the same directory, mints a token the running service accepts.
    const tokenRun = run(t, TOKEN_SCRIPT, ['--sub', 'alice', '--scope', 'sign', '--ttl', '3600'], { cwd, env: {} })
    assert.equal(await exitCode(tokenRun), 0, tokenRun.stderr())
    const token = tokenRun.stdout().trim()
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
    assert.equal(claims.sub, 'alice')
    assert.equal(claims.scope, 'sign')
    assert.ok(Math.abs(claims.exp - Math.floor(Date.now() / 1000) - 3600) <= 5, 'Math.abs(claims.exp - Math.floor(Date.now() / 1000) - 3600) <= 5')
    const withScriptToken = await fetch(first.banner.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(first.banner.body) })
    assert.equal(withScriptToken.status, 200)

    first.running.child.kill('SIGTERM')
    assert.equal(await exitCode(first.running), 0, 'a clean shutdown on SIGTERM')
    const second = await startDevelopment(t, cwd)
    assert.equal(second.banner.keyId, first.banner.keyId, 'the development key is reused')
    const again = await fetch(second.banner.url, { method: 'POST', headers: { authorization: `Bearer ${first.banner.token}`, 'content-type': 'application/json' }, body: JSON.stringify(second.banner.body) })
    assert.equal(again.status, 200, 'the first run\'s token still works: the JWT secret is reused')
  })

  it('NODE_ENV=production with no configured keys or auth exits 1, naming the missing fields', async (t) => {
    const cwd = tempDir(t)
    const running = run(t, SERVER, [], { cwd, env: { NODE_ENV: 'production', PORT: String(await freePort()), HOST: '127.0.0.1' } })
    assert.equal(await exitCode(running), 1)
    assert.match(running.stderr(), /auth\.jwt/)
    assert.match(running.stderr(), /keys\.dir/)
    assert.doesNotMatch(running.stdout(), /TOKEN=/)
  })

  it('CONFIG_FILE in production: serves with that configuration, no banner; the token script uses its secret', async (t) => {
    const keys = makeKeyDir(vectorKeyFiles())
    t.after(keys.cleanup)
    const cwd = tempDir(t)
    const configFile = join(cwd, 'config.yaml')
    writeFileSync(
      configFile,
      JSON.stringify({ auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: keys.dir, activeKeyId: RSA_KEY_ID }, distributions: TEST_DISTRIBUTIONS }),
    )
    const port = await freePort()
    const env = { NODE_ENV: 'production', CONFIG_FILE: configFile, PORT: String(port), HOST: '127.0.0.1' }
    const running = run(t, SERVER, [], { cwd, env })
    await waitForStdout(running, /Server listening at http:\/\/127\.0\.0\.1:\d+/)
    assert.doesNotMatch(running.stdout(), /development defaults|TOKEN=/)
    for (const line of running.stdout().trim().split('\n')) JSON.parse(line)

    const tokenRun = run(t, TOKEN_SCRIPT, ['--sub', 'ops', '--scope', 'sign', '--ttl', '600'], { cwd, env })
    assert.equal(await exitCode(tokenRun), 0, tokenRun.stderr())
    const res = await fetch(`http://127.0.0.1:${port}/v1/signed-urls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenRun.stdout().trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ distribution: 'demo', path: '/videos/a.mp4' }),
    })
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { keyId: string }).keyId, RSA_KEY_ID)
    assert.ok(!running.stdout().includes('PRIVATE KEY'), "!running.stdout().includes('PRIVATE KEY')")
  })
})

/** A production configuration with the test keys, in a temporary folder. */
function productionConfig(t: TestContext): string {
  const keys = makeKeyDir(vectorKeyFiles())
  t.after(keys.cleanup)
  const configFile = join(tempDir(t), 'config.yaml')
  writeFileSync(configFile, JSON.stringify({ auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: keys.dir, activeKeyId: RSA_KEY_ID }, distributions: TEST_DISTRIBUTIONS }))
  return configFile
}

/** `npm start` in the repository, leading its own process group like a terminal's job. */
async function npmStart(t: TestContext): Promise<{ running: Running; servicePid: number }> {
  const env = childEnv({ NODE_ENV: 'production', CONFIG_FILE: productionConfig(t), PORT: '0', HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '200' })
  const running = spawnProcess(['npm', 'start'], { cwd: ROOT, env, detached: true })
  t.after(() => {
    if (running.child.exitCode === null) process.kill(-running.child.pid!, 'SIGKILL')
  })
  await waitForStdout(running, /Server listening at/)
  const servicePid = Number(/"pid":(\d+)/.exec(running.stdout())![1])
  assert.notEqual(servicePid, running.child.pid, 'npm runs the service as its child')
  return { running, servicePid }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('npm start', () => {
  for (const [stop, send] of [
    ['one SIGTERM to npm', (running: Running) => running.child.kill('SIGTERM')],
    ['Ctrl-C (SIGINT to the process group)', (running: Running) => process.kill(-running.child.pid!, 'SIGINT')],
  ] as const) {
    it(`${stop} drains once and exits, leaving no process behind`, async (t) => {
      const { running, servicePid } = await npmStart(t)
      send(running)
      await running.exited
      await waitFor(() => !isAlive(servicePid), START_TIMEOUT_MS, 'the service to exit after npm')
      const shutdowns = running.stdout().match(/"msg":"shutting down"/g) ?? []
      assert.equal(shutdowns.length, 1, running.output())
      assert.doesNotMatch(running.output(), /second|exiting now/, 'the stop was not taken for a second one')
    })
  }
})

describe('process warnings', () => {
  it('are JSON log lines through the logger, not plain text on stderr', async (t) => {
    const emitWarning = `data:text/javascript,${encodeURIComponent("process.emitWarning('an old API', { type: 'DeprecationWarning', code: 'DEP_TEST' }); setTimeout(() => process.emitWarning('later', 'TestWarning'), 0)")}`
    const env = childEnv({ NODE_ENV: 'production', CONFIG_FILE: productionConfig(t), PORT: '0', HOST: '127.0.0.1' })
    const running = spawnProcess([process.execPath, '--import', TSX, '--import', emitWarning, SERVER], { cwd: ROOT, env })
    stopWhenDone(t, running)
    await waitForStdout(running, /Server listening at[\s\S]*"name":"TestWarning"|"name":"TestWarning"[\s\S]*Server listening at/)
    const lines = running.stdout().trim().split('\n').map((line) => JSON.parse(line) as { msg: string; warning?: { name: string; code?: string } })
    const warnings = lines.filter((line) => line.msg === 'process warning').map((line) => line.warning)
    assert.deepEqual(warnings, [
      { name: 'DeprecationWarning', code: 'DEP_TEST', message: 'an old API' },
      { name: 'TestWarning', message: 'later' },
    ])
    assert.doesNotMatch(running.stderr(), /Warning/, 'nothing printed by node itself')
  })
})

describe('the token script', () => {
  it('refuses unknown scopes and lifetimes that are not positive whole seconds, exiting 1 with the reason', async (t) => {
    const keys = makeKeyDir(vectorKeyFiles())
    t.after(keys.cleanup)
    const cwd = tempDir(t)
    const configFile = join(cwd, 'config.yaml')
    writeFileSync(configFile, JSON.stringify({ auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir: keys.dir, activeKeyId: RSA_KEY_ID } }))
    const env = { NODE_ENV: 'production', CONFIG_FILE: configFile }
    const runs = [
      [['--scope', 'sign sing'], /unknown scope sing/],
      [['--ttl', 'an hour'], /--ttl/],
      [['--ttl=-60'], /--ttl/],
      [['--max-ttl', '0'], /--max-ttl/],
      [['--subject', 'alice'], /subject/],
    ] as const
    const children = runs.map(([args]) => run(t, TOKEN_SCRIPT, [...args], { cwd, env }))
    for (const [i, child] of children.entries()) {
      assert.equal(await exitCode(child), 1, runs[i][0].join(' '))
      assert.match(child.stderr(), /^token: /)
      assert.match(child.stderr(), runs[i][1])
      assert.equal(child.stdout(), '')
    }
  })
})

describe('logs', () => {
  it('carry the request id and the caller, never the token, a signature, a policy or a key', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logStream: logs.stream, logLevel: 'info' })
    const token = makeToken({ sub: 'log-checker', scope: 'sign sign:wildcard' })
    const secrets: string[] = [token, token.split('.')[2]]
    const ids: string[] = []
    const send = async (url: string, payload: unknown, headers: Record<string, string> = bearer(token)) => {
      const res = await app.inject({ method: 'POST', url, headers: { ...headers, 'x-request-id': `req-${ids.length}` }, payload: payload as object })
      ids.push(String(res.headers['x-request-id']))
      return res
    }
    const collect = (signedUrl: string) => {
      const params = new URL(signedUrl).searchParams
      for (const name of ['Signature', 'Policy']) if (params.has(name)) secrets.push(params.get(name)!)
    }

    const canned = await send('/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' })
    assert.equal(canned.statusCode, 200)
    collect(canned.json().url)
    const custom = await send('/v1/signed-urls', { url: 'https://media.example.com/videos/b.mp4?x=1', resource: '/videos/*', ipAddress: '192.0.2.1' })
    assert.equal(custom.statusCode, 200)
    collect(custom.json().url)
    const batch = await send('/v1/signed-urls/batch', { items: [{ distribution: 'demo', path: '/videos/c.mp4', ipAddress: '192.0.2.0/24' }, { distribution: 'nope', path: '/x' }] })
    assert.equal(batch.statusCode, 200)
    collect(batch.json().items[0].url)
    assert.equal((await send(`/v1/signed-urls?access_token=${token}`, { distribution: 'demo', path: '/videos/a.mp4' })).statusCode, 400)
    assert.equal((await send('/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }, bearer(`${token}x`))).statusCode, 401)

    const text = logs.text()
    for (const id of ids) assert.ok(text.includes(`"reqId":"${id}"`), `the logs carry request id ${id}`)
    assert.ok(text.includes('"sub":"log-checker"'), 'the logs carry the caller')
    assert.equal(secrets.length, 2 + 5, 'the token and its signature; a signature from the canned URL, a signature and a policy from each custom one')
    for (const secret of secrets) assert.ok(!text.includes(secret), `the logs never hold ${secret.slice(0, 12)}…`)
    assert.doesNotMatch(text, /PRIVATE KEY/)
    for (const line of RSA_PEM.trim().split('\n').slice(1, 3)) assert.ok(!text.includes(line), '!text.includes(line)')
    assert.doesNotMatch(text, /authorization":\s*"Bearer/i)
  })
})
