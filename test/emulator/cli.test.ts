// `npm run emulator` for people: --help names every option with its default, a mistake on the command
// line exits 2 with a coded message, and --state-file keeps the world across a restart of the process.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { CreateDistributionCommand, GetDistributionCommand } from '@aws-sdk/client-cloudfront'
import { createCloudFrontClient, runEmulatorCli, startEmulatorCli, webDistributionConfig } from './helpers.js'

function stateDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-emulator-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function runToExit(t: TestContext, args: string[]) {
  const running = runEmulatorCli(t, args)
  const code = await running.exited
  return { code, stdout: running.stdout(), stderr: running.stderr() }
}

describe('npm run emulator', () => {
  it('--help lists every option with its default and exits 0', async (t) => {
    const help = await runToExit(t, ['--help'])
    assert.equal(help.code, 0, help.stderr)
    const expected: Array<[string, string | undefined]> = [
      ['--host <address>', '127.0.0.1'],
      ['--port <port>', '4566'],
      ['--deploy-seconds <seconds>', '0'],
      ['--invalidation-seconds <seconds>', '0'],
      ['--rtmp-mode full|post-2020', 'full'],
      ['--state-file <path>', undefined],
      ['-h, --help', undefined],
    ]
    for (const [flag, fallback] of expected) {
      const line = help.stdout.split('\n').find((candidate) => candidate.includes(flag))
      assert.ok(line, `--help names ${flag}:\n${help.stdout}`)
      if (fallback !== undefined) assert.ok(line.endsWith(`(default ${fallback})`), `${flag} shows its default ${fallback}: ${line}`)
    }
    assert.match(help.stdout, /AWS_ACCESS_KEY_ID=AKIDLOCALEMULATOR AWS_SECRET_ACCESS_KEY=local-emulator-dummy-secret/)
    assert.equal((await runToExit(t, ['-h'])).stdout, help.stdout, '-h is --help')
  })

  it('exits 2 with EMULATOR_UNKNOWN_OPTION for an unknown option or an argument', async (t) => {
    for (const args of [['--deploy-secs', '5'], ['4566']]) {
      const run = await runToExit(t, args)
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, /^emulator: EMULATOR_UNKNOWN_OPTION: .*; see npm run emulator -- --help$/m, args.join(' '))
    }
  })

  it('exits 2 with EMULATOR_INVALID_OPTION for a value it cannot use, naming the option', async (t) => {
    const cases: Array<[string[], string]> = [
      [['--port', '70000'], '--port'],
      [['--port', 'http'], '--port'],
      [['--deploy-seconds', '-1'], '--deploy-seconds'],
      [['--invalidation-seconds', 'soon'], '--invalidation-seconds'],
      [['--rtmp-mode', 'legacy'], '--rtmp-mode'],
      [['--port'], '--port'],
    ]
    for (const [args, option] of cases) {
      const run = await runToExit(t, args)
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, /^emulator: EMULATOR_INVALID_OPTION: /m, args.join(' '))
      assert.ok(run.stderr.includes(option), `${args.join(' ')}: the message names ${option}: ${run.stderr}`)
    }
  })

  it('exits 1 with EMULATOR_STATE_INVALID when --state-file is not an emulator state', async (t) => {
    const stateFile = join(stateDir(t), 'broken.json')
    writeFileSync(stateFile, '{"format":"cf-signer-emulator-state","version":99}')
    const run = await runToExit(t, ['--port', '0', '--state-file', stateFile])
    assert.equal(run.code, 1, run.stderr)
    assert.match(run.stderr, /^emulator: EMULATOR_STATE_INVALID: .*broken\.json/m)
  })

  it('--state-file keeps the world, and its clock, across a restart; --deploy-seconds holds a change InProgress', async (t) => {
    const stateFile = join(stateDir(t), 'emulator.json')
    const args = ['--state-file', stateFile, '--deploy-seconds', '600']
    const first = await startEmulatorCli(t, args)
    assert.match(first.stdout(), new RegExp(`\\(state in ${stateFile.replaceAll('.', '\\.')}\\)`), 'the start line names the state file')
    const client = createCloudFrontClient(first.endpoint)
    t.after(() => client.destroy())
    const created = await client.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig() }))
    const advanced = await fetch(`${first.endpoint}/__emulator/advance-clock?seconds=300`, { method: 'POST' })
    assert.equal(advanced.status, 200)
    first.child.kill('SIGTERM')
    assert.equal(await first.exited, 0, 'a clean stop on SIGTERM')

    const second = await startEmulatorCli(t, args)
    const again = createCloudFrontClient(second.endpoint)
    t.after(() => again.destroy())
    const got = await again.send(new GetDistributionCommand({ Id: created.Distribution!.Id }))
    assert.equal(got.ETag, created.ETag, 'the distribution came back')
    assert.equal(got.Distribution!.Status, 'InProgress', 'half of the deploy has passed on the kept clock')
    await fetch(`${second.endpoint}/__emulator/advance-clock?seconds=300`, { method: 'POST' })
    assert.equal((await again.send(new GetDistributionCommand({ Id: created.Distribution!.Id }))).Distribution!.Status, 'Deployed')
  })
})
