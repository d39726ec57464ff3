#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (tsx as the loader).
// Node 20's --test does not expand globs, so the file list is built here.
// Extra arguments narrow the run: `node scripts/run-tests.mjs test/signing` runs one folder.
import { readdirSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : []
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, String(name)))
    .filter((file) => file.endsWith('.test.ts'))
}

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test']
const files = roots.flatMap(collect).sort()
if (files.length === 0) {
  console.error('no test files found under', roots.join(' '))
  process.exit(1)
}
// Files run in parallel processes; node's default is one fewer than the cores, a single file on two.
// TEST_CONCURRENCY overrides it.
const concurrency = Number(process.env.TEST_CONCURRENCY ?? Math.max(2, availableParallelism()))
// A safety net under the bounded waits: no test runs for more than five minutes.
const timeoutMs = 300_000
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, '--test-reporter=spec', ...files], {
  stdio: 'inherit',
})
process.exit(result.status ?? 1)
