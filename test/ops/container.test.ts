// No Docker engine runs here, so this test performs the runtime stage's own steps, read from the
// Dockerfile: the build stage's `npm run build`, the runtime stage's COPY and `npm ci --omit=dev` in a
// clean folder, then the image's CMD with its ENV, the ConfigMap's configuration and a keys directory
// laid out like a mounted Kubernetes secret; /readyz answers 200, the HEALTHCHECK passes, SIGTERM exits 0.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createPublicKey } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chmodSync, cpSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { execForm, parseDockerfile } from '../support/dockerfile.js'
import { RSA_KEY_ID, RSA_PEM } from '../support/keys.js'
import { probeReady, startService } from '../support/process.js'
import { makeSecretVolume } from '../support/secret-volume.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const stages = parseDockerfile()
const runtime = stages.at(-1)!
const healthcheck = () => execForm(/\bCMD\s+(\[.*\])$/.exec(runtime.last('HEALTHCHECK') ?? '')?.[1] ?? '[]')
// The image runs as `node`, uid 1000 in the official Node images.
const NODE_UID = 1000

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`)
}

/** chown -R without following links (the secret's `..data` and key links stay links). */
function chownTree(dir: string, uid: number): void {
  lchownSync(dir, uid, uid)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) chownTree(join(dir, entry.name), uid)
    else lchownSync(join(dir, entry.name), uid, uid)
  }
}

/** A JWKS endpoint on 127.0.0.1 publishing the test key's public half; closed when the test ends. */
async function serveJwks(t: TestContext): Promise<string> {
  const jwk = { ...createPublicKey(RSA_PEM).export({ format: 'jwk' }), kid: 'container-test', use: 'sig', alg: 'RS256' }
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
}

describe('the container image (Dockerfile)', () => {
  it('declares a production runtime: non-root, production dependencies, port, paths, health check, node as PID 1', () => {
    assert.ok(stages.length >= 2, 'multi-stage')
    assert.equal(runtime.env.NODE_ENV, 'production')
    assert.equal(runtime.env.CONFIG_FILE, '/etc/cf-signer/config.yaml')
    assert.equal(runtime.env.KEYS_DIR, '/etc/cf-signer/keys')
    assert.equal(runtime.env.HOST, '0.0.0.0', 'listens beyond the container')
    assert.equal(runtime.last('EXPOSE'), runtime.env.PORT)
    assert.ok(!['root', '0', undefined].includes(runtime.last('USER')), 'runs as a non-root user')
    assert.deepEqual(execForm(runtime.last('CMD')!), ['node', 'dist/server.js'])
    assert.ok(runtime.all('RUN').some((step) => /\bnpm ci --omit=dev\b/.test(step)), 'production dependencies only')
    assert.ok(!runtime.all('COPY').some((step) => /\bnode_modules\b|\bsrc\b/.test(step)), 'no sources or development dependencies copied in')
    assert.equal(healthcheck()[0], 'node')
    assert.match(healthcheck().join(' '), /fetch\(.*\/readyz/)

    const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
    for (const path of [runtime.env.CONFIG_FILE, runtime.env.KEYS_DIR]) assert.ok(readme.includes(path), `README names ${path}`)
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim())
    assert.equal(ignored.find((line) => line && !line.startsWith('#')), '*', '.dockerignore starts from nothing (no .dev secrets, no node_modules)')
    assert.ok(!ignored.some((line) => /^!(\.dev|node_modules)/.test(line)), '!ignored.some((line) => /^!(\\.dev|node_modules)/.test(line))')
  })

  it('runs from a clean folder built the way the image is, with the ConfigMap and a mounted keys secret', async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'cf-signer-image-'))
    t.after(() => rmSync(work, { recursive: true, force: true }))
    chmodSync(work, 0o755)
    const stageRoots = new Map<string, string>()

    // The build stage's output: `npm run build` (tsconfig.build.json), compiled into that stage's WORKDIR.
    const buildStage = stages.find((stage) => runtime.all('COPY').some((step) => step.includes(`--from=${stage.name} `)))!
    assert.ok(buildStage.all('RUN').includes('npm run build'), "buildStage.all('RUN').includes('npm run build')")
    const buildRoot = join(work, 'build')
    stageRoots.set(buildStage.name, buildRoot)
    run('npm', ['run', 'build', '--', '--outDir', join(buildRoot, 'dist')], REPO)

    // The runtime stage, step by step.
    const appDir = join(work, 'app')
    mkdirSync(appDir)
    const workdir = runtime.last('WORKDIR')!
    for (const { keyword, args } of runtime.instructions) {
      if (keyword === 'COPY') {
        const parts = args.split(' ')
        const from = parts.find((part) => part.startsWith('--from='))?.slice('--from='.length)
        const [destination, ...sources] = parts.filter((part) => !part.startsWith('--')).reverse()
        for (const source of sources.reverse()) {
          const origin = from === undefined ? join(REPO, source) : join(stageRoots.get(from)!, relative(stages.find((s) => s.name === from)!.last('WORKDIR')!, source))
          const target = destination.endsWith('/') ? join(appDir, destination, source.split('/').at(-1)!) : join(appDir, destination)
          cpSync(origin, target, { recursive: true })
        }
      } else if (keyword === 'RUN') {
        for (const step of args.split('&&').map((s) => s.trim())) {
          if (/^npm ci\b/.test(step)) run('npm', [...step.split(' ').slice(1), '--prefer-offline'], appDir)
          else assert.equal(step, 'npm cache clean --force', `a runtime step this test does not know: ${step}`) // shrinks the image; not this machine's cache
        }
      }
    }
    assert.ok(existsSync(join(appDir, 'dist/server.js')), "existsSync(join(appDir, 'dist/server.js'))")
    assert.ok(existsSync(join(appDir, 'node_modules/fastify')), "existsSync(join(appDir, 'node_modules/fastify'))")
    for (const dev of ['typescript', 'tsx', 'pino-pretty', 'fast-check']) assert.ok(!existsSync(join(appDir, 'node_modules', dev)), `${dev} is a development dependency`)
    assert.equal(workdir, '/app')

    // The mounts: the ConfigMap's config.yaml at CONFIG_FILE, the keys secret (..data layout) at KEYS_DIR.
    // Its identity provider is a local JWKS server here: /readyz waits for the first JWKS fetch.
    const config = parse(readFileSync(join(REPO, 'deploy/kubernetes/config.yaml'), 'utf8'))
    config.auth.jwt.jwksUrl = await serveJwks(t)
    const configFile = join(work, 'config.yaml')
    writeFileSync(configFile, stringify(config), { mode: 0o644 })
    const keys = makeSecretVolume({ [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    t.after(keys.cleanup)
    const asRoot = process.getuid?.() === 0
    // Like fsGroup in the Deployment: the secret readable by the service's user.
    if (asRoot) chownTree(keys.dir, NODE_UID)

    const env: Record<string, string> = { ...runtime.env, CONFIG_FILE: configFile, KEYS_DIR: keys.dir, PORT: '0', SHUTDOWN_DELAY_MS: '300' }
    const [command, ...args] = execForm(runtime.last('CMD')!)
    const service = await startService([command === 'node' ? process.execPath : command, ...args], {
      cwd: appDir,
      env,
      ...(asRoot ? { uid: NODE_UID, gid: NODE_UID } : {}),
    })
    t.after(() => {
      if (service.child.exitCode === null) service.child.kill('SIGKILL')
    })

    const readiness = await probeReady(service.baseUrl)
    assert.equal(readiness?.status, 200, service.output())
    assert.equal(JSON.parse(readiness!.body).keys.activeKeyId, RSA_KEY_ID)
    const port = new URL(service.baseUrl).port
    const [probe, ...probeArgs] = healthcheck()
    const check = spawnSync(probe === 'node' ? process.execPath : probe, probeArgs, { env: { PORT: port }, encoding: 'utf8', timeout: 10_000 })
    assert.equal(check.status, 0, `HEALTHCHECK failed: ${check.stderr}`)
    assert.doesNotMatch(service.output(), /"level":(50|60)/, 'no error logged at start')
    assert.match(service.output(), /^\{"level":30/m, 'JSON logs in production')

    service.child.kill('SIGTERM')
    assert.equal(await service.exited, 0)

    // The same build without NODE_ENV=production: pino-pretty (a development dependency) is absent, so JSON logs.
    const { NODE_ENV: _production, ...developmentEnv } = env
    const development = await startService([command === 'node' ? process.execPath : command, ...args], {
      cwd: appDir,
      env: developmentEnv,
      ...(asRoot ? { uid: NODE_UID, gid: NODE_UID } : {}),
    })
    t.after(() => {
      if (development.child.exitCode === null) development.child.kill('SIGKILL')
    })
    const developmentReadiness = await probeReady(development.baseUrl)
    assert.equal(developmentReadiness?.status, 200, `${developmentReadiness?.body}\n${development.output()}`)
    assert.match(development.stdout(), /^\{"level":30/m, 'JSON logs without pino-pretty')
    development.child.kill('SIGTERM')
    assert.equal(await development.exited, 0, development.output())
  })
})
