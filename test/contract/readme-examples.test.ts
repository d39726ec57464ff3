// The README's examples run as written: its quick start and admin walk-through ```sh blocks, each marked
// `<!-- tested: NAME -->` on the line before its fence, run in bash (-euo pipefail) against real processes.
//
// What the test does that a reader does by hand, and nothing else:
// - the blocks of one story run in one bash, in order, in a fresh directory, so variables carry over;
// - a line that starts a server is the test's to run: `npm start` (with any `VAR=value` before it) starts
//   the service, stopping the running one first as Ctrl-C would; `npm run emulator -- <options>` starts the
//   emulator process with those options;
// - the README's fixed ports become free ones: 127.0.0.1:3000 the service's, 127.0.0.1:4566 the emulator's;
// - `export NAME=…  # printed by npm start` takes the value the running service printed (TOKEN).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createVerify } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort, exitStatus, spawnProcess, stopWhenDone, TSX, type RunningProcess } from '../support/process.js'
import { needs } from '../support/tools.js'
import { waitForOutput } from '../support/wait.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const SERVER = join(ROOT, 'src/server.ts')
const EMULATOR_CLI = join(ROOT, 'src/dev/emulator/cli.ts')
// A bound, not a wait: a cold tsx start plus the walk-through's two 5 s deploys on a busy machine.
const STEP_TIMEOUT_MS = 120_000
const README_SERVICE = '127.0.0.1:3000'
const README_EMULATOR = '127.0.0.1:4566'
const TESTED_BLOCKS = ['quick-start', 'walk-through-start', 'walk-through', 'walk-through-restart', 'walk-through-sign', 'walk-through-retire']

function readBlock(name: string): string {
  const match = new RegExp(`<!-- tested: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(README)
  assert.ok(match?.[1], `README.md has a \`\`\`sh block right after <!-- tested: ${name} -->`)
  return match[1]
}

/** Environment of a reader's fresh machine: no AWS credentials or settings of ours, a home of its own. */
function readerEnv(home: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) =>
    !name.startsWith('AWS_') && !['NODE_ENV', 'CONFIG_FILE', 'PORT', 'HOST', 'LOG_LEVEL', 'LOG_FORMAT', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS'].includes(name)))
  return {
    ...env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
    AWS_PAGER: '',
  }
}

/** One reader's terminal session: a bash that lives across blocks, and the servers its blocks start. */
class Story {
  private readonly shell
  private output = ''
  private exitCode: number | null = null
  private blocks = 0
  service: (RunningProcess & { token: string; keyId: string }) | undefined
  emulator: (RunningProcess & { url: string }) | undefined

  constructor(
    private readonly t: TestContext,
    readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly servicePort: number,
  ) {
    this.shell = spawn('bash', ['--noprofile', '--norc', '-euo', 'pipefail'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    this.shell.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
    this.shell.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
    this.shell.on('exit', (code, signal) => (this.exitCode = code ?? (signal === null ? -1 : 128)))
    t.after(async () => {
      if (this.exitCode !== null) return
      this.shell.stdin.end('exit 0\n')
      await once(this.shell, 'exit')
    })
  }

  /** Everything bash printed so far. */
  printed(): string {
    return this.output
  }

  /** Runs one marked block; resolves with what it printed. */
  async run(name: string): Promise<string> {
    const before = this.output.length
    let pending: string[] = []
    for (const line of readBlock(name).split('\n')) {
      const command = line.replace(/\s+#.*$/, '').trim()
      const service = /^((?:[A-Z_]+=\S+\s+)*)npm start$/.exec(command)
      const emulator = /^npm run emulator -- (.*)$/.exec(command)
      if (service === null && emulator === null) {
        pending.push(this.rewrite(line))
        continue
      }
      await this.source(pending.join('\n'))
      pending = []
      if (service !== null) await this.startService(service[1] ?? '')
      else await this.startEmulator((emulator?.[1] ?? '').split(/\s+/))
    }
    await this.source(pending.join('\n'))
    return this.output.slice(before)
  }

  private rewrite(line: string): string {
    const placeholder = /^export (\w+)=\S*\s+# printed by npm start/.exec(line)
    if (placeholder !== null) {
      assert.equal(placeholder[1], 'TOKEN', `only the token is a value npm start prints: ${line}`)
      assert.ok(this.service, `${line} comes after the service started`)
      return `export TOKEN=${this.service.token}`
    }
    let rewritten = line.replaceAll(README_SERVICE, `127.0.0.1:${this.servicePort}`)
    if (this.emulator !== undefined) rewritten = rewritten.replaceAll(README_EMULATOR, this.emulator.url.replace('http://', ''))
    return rewritten
  }

  /** Runs lines in the living bash (stdin closed for them, so no command can eat the rest). */
  private async source(script: string): Promise<void> {
    if (script.trim() === '') return
    this.blocks += 1
    const file = join(this.cwd, `.block-${this.blocks}.sh`)
    writeFileSync(file, `${script}\n`)
    const done = `::block ${this.blocks} done::`
    this.shell.stdin.write(`source ${file} < /dev/null\necho '${done}'\n`)
    await waitForOutput(() => this.output, new RegExp(done), STEP_TIMEOUT_MS, () => (this.exitCode === null ? undefined : String(this.exitCode)))
    this.output = this.output.replace(`${done}\n`, '')
  }

  /** `[VAR=value …] npm start`: the service (again), as a reader starts it. */
  async startService(assignments: string): Promise<void> {
    if (this.service !== undefined) {
      this.service.child.kill('SIGINT')
      assert.equal(await this.service.exited, 0, `the service stops cleanly: ${this.service.output()}`)
    }
    const env = Object.fromEntries(assignments.trim().split(/\s+/).filter(Boolean).map((pair) => pair.split('=') as [string, string]))
    const running = spawnProcess([process.execPath, '--import', TSX, SERVER], {
      cwd: this.cwd,
      env: { ...this.env, ...env, PORT: String(this.servicePort), HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '0', LOG_FORMAT: 'json' },
    })
    stopWhenDone(this.t, running)
    const [, keyId = '', token = ''] = await waitForOutput(running.stdout, /signing key : (K[A-Z0-9]+) [\s\S]*export TOKEN=(\S+)/, STEP_TIMEOUT_MS, exitStatus(running))
    this.service = { ...running, token, keyId }
  }

  private async startEmulator(args: string[]): Promise<void> {
    const portAt = args.indexOf('--port')
    assert.ok(portAt >= 0, 'the README starts the emulator on a named port')
    const running = spawnProcess([process.execPath, '--import', TSX, EMULATOR_CLI, ...args.toSpliced(portAt, 2, '--port', '0')], { cwd: this.cwd, env: this.env })
    stopWhenDone(this.t, running)
    const [, url = ''] = await waitForOutput(running.stdout, /cloudfront emulator listening on (http:\/\/127\.0\.0\.1:\d+)/, STEP_TIMEOUT_MS, exitStatus(running))
    this.emulator = { ...running, url }
  }
}

async function startStory(t: TestContext): Promise<Story> {
  const cwd = mkdtempSync(join(tmpdir(), 'cf-signer-readme-'))
  t.after(() => rmSync(cwd, { recursive: true, force: true }))
  const home = join(cwd, '.home')
  mkdirSync(home)
  return new Story(t, cwd, readerEnv(home), await freePort())
}

/** The service's JSON answers a block printed, one per line (the AWS CLI's indented JSON spans lines and is left out). */
function answers(printed: string): Array<Record<string, any>> {
  return printed.split('\n').filter((line) => line.startsWith('{') && line.endsWith('}')).map((line) => JSON.parse(line) as Record<string, any>)
}

// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-canned-policy.html
function verifyCannedUrl(url: string, publicKeyPem: string): boolean {
  const signed = new URL(url)
  const expires = Number(signed.searchParams.get('Expires'))
  const resource = `${signed.origin}${signed.pathname}`
  const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] })
  const signature = (signed.searchParams.get('Signature') ?? '').replaceAll('-', '+').replaceAll('_', '=').replaceAll('~', '/')
  return createVerify('RSA-SHA1').update(policy).verify(publicKeyPem, signature, 'base64')
}

describe('README examples', () => {
  it('marks exactly the blocks this test runs', () => {
    const marked = [...README.matchAll(/<!-- tested: (\S+) -->/g)].map((match) => match[1])
    assert.deepEqual(marked, TESTED_BLOCKS)
  })

  it('quick start: the printed token signs a URL and cookies for the development distribution demo', needs('curl'), async (t) => {
    // The quick start's own first block is `npm install && npm start`: the service on its embedded defaults.
    const story = await startStory(t)
    await story.startService('')
    const [url, cookies] = answers(await story.run('quick-start'))
    const keyId = story.service?.keyId
    assert.match(keyId ?? '', /^KDEV[A-Z0-9]+$/, 'the development key')
    assert.match(url?.url ?? '', /^https:\/\/d111111abcdef8\.cloudfront\.net\/videos\/intro\.mp4\?Expires=\d+&Signature=[\w~-]+&Key-Pair-Id=KDEV[A-Z0-9]+$/)
    assert.equal(url?.keyId, keyId)
    assert.equal(cookies?.cookies?.['CloudFront-Key-Pair-Id'], keyId)
    assert.equal(cookies?.resource, 'https://media.example.com/hls/movie-42/*', 'signed for demo\'s alias')
  })

  it('walk-through: a private bucket behind signed URLs, across a restart of the service, then retired', needs('aws', 'curl'), async (t) => {
    const story = await startStory(t)
    await story.run('walk-through-start')
    assert.ok(story.emulator && story.service, 'the emulator and the service run')

    const made = await story.run('walk-through')
    assert.match(made, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d special-bucket-name$/m, `aws s3 ls lists the bucket:\n${made}`)
    const printed = answers(made)
    const identity = printed.find((answer) => 's3CanonicalUserId' in answer)
    const grant = printed.find((answer) => answer.method === 'policy')
    const publicKey = printed.find((answer) => 'encodedKey' in answer)
    const deployed = printed.find((answer) => answer.status === 'Deployed')
    assert.ok(identity && grant && publicKey && deployed, `each step printed its answer:\n${made}`)
    assert.equal(grant.changed, true, 'the bucket policy now lets the identity read')
    assert.equal(deployed.origins?.[0]?.originAccessIdentity, identity.id, 'the distribution reads the bucket as the identity')
    assert.deepEqual(deployed.activeTrustedKeyGroups?.[0]?.keyPairIds, [publicKey.id], 'the distribution trusts CloudFront\'s ID for the development key')

    await story.run('walk-through-restart')
    assert.equal(story.service?.keyId, publicKey.id, 'after the restart the service signs with the key file renamed to CloudFront\'s ID')

    const [signed] = answers(await story.run('walk-through-sign'))
    const url = new URL(signed?.url ?? 'https://invalid.example')
    assert.equal(url.host, deployed.domainName)
    assert.equal(url.searchParams.get('Key-Pair-Id'), publicKey.id)
    assert.ok(verifyCannedUrl(url.href, publicKey.encodedKey), 'the URL verifies with the public key CloudFront holds')

    const retired = await story.run('walk-through-retire')
    assert.match(retired, /^204$/m, `DELETE answers 204:\n${retired}`)
    const gone = await fetch(`${story.emulator.url}/2020-05-31/distribution/${deployed.id}`)
    assert.equal(gone.status, 404, 'the distribution is gone from the emulator')
    assert.ok(existsSync(join(story.cwd, '.dev/emulator.json')), 'the emulator kept its world in the state file')
  })
})
