// The real AWS CLI against an emulator: a home of its own (no user config or credentials), the
// emulator's dummy credentials, JSON output. The tests that use it need `aws` (test/support/tools.ts).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EMULATOR_CREDENTIALS } from './emulator.js'

/** The CLI's home, also a scratch folder for the files a command reads (`fileb://...`). */
export const AWS_CLI_HOME = mkdtempSync(join(tmpdir(), 'cf-emulator-aws-'))
const awsEnv = {
  PATH: process.env.PATH ?? '',
  HOME: AWS_CLI_HOME,
  AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(AWS_CLI_HOME, 'config'),
  AWS_SHARED_CREDENTIALS_FILE: join(AWS_CLI_HOME, 'credentials'),
  AWS_PAGER: '',
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `aws <args> --endpoint-url <endpoint> --output json`; resolves with its exit code and output. */
export function runAws(endpoint: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile('aws', [...args, '--endpoint-url', endpoint, '--output', 'json'], { env: awsEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') return reject(error)
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr })
    })
  })
}

/** Runs the command, asserts it exits 0 and answers its parsed JSON. */
export async function awsJson(endpoint: string, args: string[]): Promise<any> {
  const result = await runAws(endpoint, args)
  assert.equal(result.code, 0, `aws ${args.join(' ')} failed: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

/** What `aws --version` prints. */
export function awsVersion(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('aws', ['--version'], { env: awsEnv }, (error, stdout, stderr) => (error ? reject(error) : resolve(stdout + stderr)))
  })
}
