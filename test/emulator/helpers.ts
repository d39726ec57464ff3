import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { DistributionConfig } from '@aws-sdk/client-cloudfront'
import { exitStatus, spawnProcess, stopWhenDone, TSX, type RunningProcess } from '../support/process.js'
import { waitForOutput } from '../support/wait.js'

export { createCloudFrontClient, createS3Client, useEmulator, type EmulatorContext } from '../support/emulator.js'

let sequence = 0
export function uniqueReference(label: string): string {
  sequence += 1
  return `${label}-${Date.now()}-${sequence}`
}

/** The minimal S3-origin config from the reference, §3. */
export function webDistributionConfig(overrides: Partial<DistributionConfig> = {}): DistributionConfig {
  return {
    CallerReference: uniqueReference('web'),
    Comment: '',
    Enabled: true,
    Origins: {
      Quantity: 1,
      Items: [{ Id: 's3-mybucket', DomainName: 'mybucket.s3.amazonaws.com', S3OriginConfig: { OriginAccessIdentity: '' } }],
    },
    DefaultCacheBehavior: {
      TargetOriginId: 's3-mybucket',
      ViewerProtocolPolicy: 'redirect-to-https',
      CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
    },
    ...overrides,
  }
}

/** Asserts the promise rejects with an AWS error of that name (and HTTP status); returns the error. */
export async function rejectsWith(
  promise: Promise<unknown>,
  name: string,
  status?: number,
): Promise<Error & { $metadata: { httpStatusCode?: number }; $fault: string }> {
  let caught: unknown
  await assert.rejects(promise, (error: unknown) => {
    caught = error
    return true
  })
  const error = caught as Error & { $metadata: { httpStatusCode?: number }; $fault: string }
  assert.equal(error.name, name, `expected ${name}, got ${error.name}: ${error.message}`)
  if (status !== undefined) assert.equal(error.$metadata.httpStatusCode, status)
  return error
}

export function generatePublicKeyPem(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return publicKey.export({ type: 'spki', format: 'pem' }).toString()
}

const EMULATOR_CLI = fileURLToPath(new URL('../../src/dev/emulator/cli.ts', import.meta.url))

/** `npm run emulator -- <args>` as its own process, stopped when the test ends. */
export function runEmulatorCli(t: TestContext, args: string[]): RunningProcess {
  const running = spawnProcess([process.execPath, '--import', TSX, EMULATOR_CLI, ...args], { cwd: process.cwd(), env: process.env })
  stopWhenDone(t, running)
  return running
}

/** Starts the emulator process with `args` on a free port; resolves with its URL once it listens. */
export async function startEmulatorCli(t: TestContext, args: string[]): Promise<RunningProcess & { endpoint: string }> {
  const running = runEmulatorCli(t, ['--port', '0', ...args])
  const [, endpoint = ''] = await waitForOutput(running.stdout, /cloudfront emulator listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000, exitStatus(running))
  return { ...running, endpoint }
}
