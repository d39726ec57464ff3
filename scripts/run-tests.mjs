#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (tsx as the loader).
// Extra arguments narrow the run: `node scripts/run-tests.mjs test/signing` runs one folder.
//
// Loading the app under tsx costs about two CPU-seconds per process, so where node can run several
// files in one process (--test-isolation=none) the files are packed into a few groups, and the
// groups run in parallel, the heaviest first; each group's output is printed as it finishes.
// Elsewhere every file gets its own process, as node's runner does by default.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { spawn, spawnSync } from 'node:child_process'

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : []
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, String(name)))
    .filter((file) => file.endsWith('.test.ts'))
}

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test']
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

if (!process.allowedNodeEnvironmentFlags.has('--test-isolation')) {
  const result = spawnSync(process.execPath, [...runnerArgs, `--test-concurrency=${concurrency}`, ...files], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}

// A file's weight: its size, tripled where it starts other processes (they dominate its run time).
const SPAWNS = /\b(startService|spawnProcess|spawnSync|startRedis|launchBrowser)\b/
const weight = (file) => {
  const text = readFileSync(file, 'utf8')
  return text.length * (SPAWNS.test(text) ? 3 : 1)
}
const groupCount = Math.min(files.length, concurrency * 2)
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
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...runnerArgs, '--test-isolation=none', ...group.files], { stdio: ['ignore', 'pipe', 'pipe'] })
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
        const skip = /# SKIP (.*)$/.exec(line)
        if (skip) skips.push(skip[1])
      }
      process.stdout.write(`\n── ${group.files.join(' ')}\n${kept.join('\n').trimEnd()}\n`)
      if (code !== 0) {
        failedGroups += 1
        process.stdout.write(`── that group exited with ${code ?? signal}\n`)
      }
      resolve()
    })
  })
}

const started = performance.now()
await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) await runGroup(group)
  }),
)
for (const [name, count] of Object.entries(totals)) console.log(`ℹ ${name} ${count}`)
console.log(`ℹ duration_ms ${Math.round(performance.now() - started)}`)
if (skips.length > 0) console.log(`\n${skips.length} tests skipped:\n${[...new Set(skips)].map((reason) => `  - ${reason}`).join('\n')}`)
process.exit(failedGroups > 0 || totals.fail > 0 || totals.tests === 0 ? 1 : 0)
