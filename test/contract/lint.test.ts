import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

type LintReport = { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; severity: string; message: string }> }

describe('redocly lint openapi.yaml', () => {
  it('finds no errors under redocly.yaml (warnings the service means are listed in .redocly.lint-ignore.yaml)', async () => {
    // Exit status 1 when it finds errors: the report is read either way.
    const run = await promisify(execFile)(`${ROOT}node_modules/.bin/redocly`, ['lint', 'openapi.yaml', '--format=json'], { cwd: ROOT }).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    )
    const report = JSON.parse(run.stdout) as LintReport
    const errors = report.problems.filter((problem) => problem.severity === 'error').map((problem) => `${problem.ruleId}: ${problem.message}`)
    assert.deepEqual(errors, [], 'redocly lint errors')
    assert.equal(report.totals.errors, 0, run.stderr)
  })
})
