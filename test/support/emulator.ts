// The local CloudFront/S3 emulator for tests: one way to start it (in this process on 127.0.0.1, or as
// the `npm run emulator` process) and one set of credentials, the service's own dummy ones.
import { after, before, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CloudFrontClient, type CloudFrontClientConfig } from '@aws-sdk/client-cloudfront'
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms'
import { S3Client } from '@aws-sdk/client-s3'
import { EMULATOR_CREDENTIALS } from '../../src/dev/defaults.js'
import { createCloudFrontEmulator, type CloudFrontEmulator, type CloudFrontEmulatorOptions } from '../../src/dev/emulator/index.js'
import { exitStatus, spawnProcess, TSX, type RunningProcess } from './process.js'
import { waitForOutput } from './wait.js'

export { EMULATOR_CREDENTIALS }

export interface RunningEmulator {
  emulator: CloudFrontEmulator
  /** `http://127.0.0.1:<port>` */
  endpoint: string
}

async function listenEmulator(options: CloudFrontEmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = createCloudFrontEmulator(options)
  const endpoint = await emulator.listen({ host: '127.0.0.1', port: 0 })
  return { emulator, endpoint }
}

/** An emulator for one test, stopped afterwards. */
export async function startEmulator(t: TestContext, options: CloudFrontEmulatorOptions = {}): Promise<RunningEmulator> {
  const running = await listenEmulator(options)
  t.after(() => running.emulator.close())
  return running
}

/** The SDK's CloudFront client straight at the emulator, with the emulator credentials and no retries unless told. */
export function createCloudFrontClient(endpoint: string, options: Partial<CloudFrontClientConfig> = {}): CloudFrontClient {
  return new CloudFrontClient({ endpoint, region: 'us-east-1', credentials: EMULATOR_CREDENTIALS, maxAttempts: 1, ...options })
}

export function createS3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 })
}

/** The SDK's KMS client straight at the emulator (its KMS shares the port), with no retries unless told. */
export function createKmsClient(endpoint: string, options: Partial<KMSClientConfig> = {}): KMSClient {
  return new KMSClient({ endpoint, region: 'us-east-1', credentials: EMULATOR_CREDENTIALS, maxAttempts: 1, ...options })
}

export interface EmulatorContext extends RunningEmulator {
  cloudfront: CloudFrontClient
  s3: S3Client
}

/** One emulator for the enclosing describe(), stopped afterwards; its fields are filled in before(). */
export function useEmulator(options?: CloudFrontEmulatorOptions): EmulatorContext {
  const context = {} as EmulatorContext
  before(async () => {
    Object.assign(context, await listenEmulator(options))
    context.cloudfront = createCloudFrontClient(context.endpoint)
    context.s3 = createS3Client(context.endpoint)
  })
  after(async () => {
    context.cloudfront.destroy()
    context.s3.destroy()
    await context.emulator.close()
  })
  return context
}

const EMULATOR_CLI = fileURLToPath(new URL('../../src/dev/emulator/cli.ts', import.meta.url))

/** `npm run emulator` as its own process, on a free port; resolves once it listens. */
export async function startEmulatorProcess(): Promise<RunningProcess & { endpoint: string }> {
  const running = spawnProcess([process.execPath, '--import', TSX, EMULATOR_CLI, '--port', '0'], { cwd: process.cwd(), env: process.env })
  const [, endpoint] = await waitForOutput(running.stdout, /cloudfront emulator listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000, exitStatus(running))
  return { ...running, endpoint }
}
