#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (tsx as the loader).
// Extra arguments narrow the run: `node scripts/run-tests.mjs test/signing` runs one folder.
//
// Loading the app under tsx costs about two CPU-seconds per process, so where node can run several
// files in one process (--test-isolation=none) the files are packed into a few groups; elsewhere
// each file is a group. Groups run in parallel, the heaviest first, and each group's output is
// printed as it finishes; the closing lines sum them up and name every skipped test.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawn } from 'node:child_process'

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : []
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, String(name)))
    .filter((file) => file.endsWith('.test.ts'))
}

// `--typecheck` also runs `tsc --noEmit` beside the tests: it takes one core for a few seconds while the
// test groups spend part of theirs waiting on the processes they start.
const args = process.argv.slice(2)
const typecheck = args.includes('--typecheck')
const paths = args.filter((arg) => arg !== '--typecheck')
const roots = paths.length > 0 ? paths : ['test']
const files = [...new Set(roots.flatMap(collect))].sort()
if (files.length === 0) {
  console.error('no test files found under', roots.join(' '))
  process.exit(1)
}
// A group or file may run alongside others: one more than the cores, as the files that start
// processes spend much of their time waiting on them. TEST_CONCURRENCY overrides it.
const concurrency = Number(process.env.TEST_CONCURRENCY ?? availableParallelism() + 1)
// A safety net under the bounded waits: no test runs for more than five minutes.
const timeoutMs = 300_000
const runnerArgs = ['--import', 'tsx', '--test', `--test-timeout=${timeoutMs}`, '--test-reporter=spec']

// A file's weight: its size, plus a share for every place it starts another process (the service, the
// emulator, the AWS CLI, a browser, a shell command): those waits dominate its run time.
const SPAWNS = /\b(startService|spawnProcess|spawnSync|spawn|startEmulatorProcess|startEmulatorCli|runEmulatorCli|runAws|awsJson|exec|execFile|execForm|launch)\(/g
const WEIGHT_PER_SPAWN = 4000
const weight = (file) => {
  const text = readFileSync(file, 'utf8')
  return text.length + WEIGHT_PER_SPAWN * (text.match(SPAWNS)?.length ?? 0)
}
const sharesProcesses = process.allowedNodeEnvironmentFlags.has('--test-isolation')
const groupCount = sharesProcesses ? Math.min(files.length, concurrency * 2) : files.length
const groups = Array.from({ length: groupCount }, () => ({ weight: 0, files: [] }))
for (const [file, w] of files.map((file) => [file, weight(file)]).sort((a, b) => b[1] - a[1])) {
  const lightest = groups.reduce((a, b) => (a.weight <= b.weight ? a : b))
  lightest.weight += w
  lightest.files.push(file)
}
const queue = groups.filter((group) => group.files.length > 0).sort((a, b) => b.weight - a.weight)

const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 }
const skips = []
let failedGroups = 0

function runGroup(group) {
  const groupStarted = performance.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...runnerArgs, ...(sharesProcesses ? ['--test-isolation=none'] : []), ...group.files], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code, signal) => {
      // The per-group summary lines are summed into one at the end.
      const summary = /^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/
      const kept = []
      for (const line of output.split('\n')) {
        const match = summary.exec(line)
        if (match) totals[match[1]] += Number(match[2])
        else if (!/^ℹ (suites|duration_ms) /.test(line)) kept.push(line)
        const skip = /^\s*﹣ (.*) \([\d.]+ms\) # (.*)$/.exec(line)
        if (skip) skips.push({ name: skip[1], reason: skip[2] })
      }
      const seconds = ((performance.now() - groupStarted) / 1000).toFixed(1)
      process.stdout.write(`\n── ${seconds} s: ${group.files.join(' ')}\n${kept.join('\n').trimEnd()}\n`)
      if (code !== 0) {
        failedGroups += 1
        process.stdout.write(`── that group exited with ${code ?? signal}\n`)
      }
      resolve()
    })
  })
}

let typecheckFailed = false
function runTypecheck() {
  return new Promise((resolve) => {
    const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url))
    const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.on('close', (code) => {
      typecheckFailed = code !== 0
      process.stdout.write(`\n── tsc --noEmit: ${typecheckFailed ? `failed (exit ${code})` : 'no errors'}\n${output.trimEnd()}${output === '' ? '' : '\n'}`)
      resolve()
    })
  })
}

const started = performance.now()
await Promise.all([
  ...(typecheck ? [runTypecheck()] : []),
  ...Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) await runGroup(group)
  }),
])
for (const [name, count] of Object.entries(totals)) console.log(`ℹ ${name} ${count}`)
console.log(`ℹ duration_ms ${Math.round(performance.now() - started)}`)
// The closing lines name what was skipped and why (test/support/tools.ts: the command that installs it).
if (skips.length > 0) console.log(`\nskipped:\n${skips.map(({ name, reason }) => `  - ${name}: ${reason}`).join('\n')}`)
if (typecheckFailed) console.log('\nthe type check failed (see tsc --noEmit above)')
process.exit(typecheckFailed || failedGroups > 0 || totals.fail > 0 || totals.tests + skips.length === 0 ? 1 : 0)
