import type { TestContext } from 'node:test'
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront'
import type { S3Client } from '@aws-sdk/client-s3'
import type { FastifyInstance } from 'fastify'
import type { CloudFrontEmulator, CloudFrontEmulatorOptions } from '../../../src/dev/emulator/index.js'
import { build, captureLogs } from '../../support/build.js'
import { createCloudFrontClient, createS3Client, EMULATOR_CREDENTIALS, startEmulator } from '../../support/emulator.js'
import { bearer, makeToken } from '../../support/tokens.js'

export { EMULATOR_CREDENTIALS, startEmulator }

export const WRITE = bearer(makeToken({ sub: 'ops-alice', scope: 'admin:write' }))
export const READ = bearer(makeToken({ sub: 'ops-bob', scope: 'admin:read' }))
export const SIGN_ONLY = bearer(makeToken({ sub: 'player', scope: 'sign' }))

export interface AdminAppOptions {
  emulator?: CloudFrontEmulatorOptions
  /** The `aws` configuration section, merged over one account `test` on the emulator. */
  aws?: Record<string, unknown>
  logs?: ReturnType<typeof captureLogs>
}

/** The service with one AWS account, `test`, on a fresh emulator, through the real SDK. */
export async function adminApp(t: TestContext, options: AdminAppOptions = {}): Promise<{ app: FastifyInstance; emulator: CloudFrontEmulator; endpoint: string }> {
  const { emulator, endpoint } = await startEmulator(t, options.emulator)
  const aws = {
    accounts: { test: { region: 'us-east-1', endpoint } },
    maxAttempts: 2,
    wait: { firstPollDelayMs: 20, maxPollDelayMs: 100 },
    ...options.aws,
  }
  const app = await build(t, {
    configInput: { aws },
    awsCredentials: EMULATOR_CREDENTIALS,
    ...(options.logs !== undefined && { logLevel: 'info', logStream: options.logs.stream }),
  })
  return { app, emulator, endpoint }
}

export const S3_ORIGIN = 'media-bucket.s3.amazonaws.com'

/** Sends a JSON request to an admin route. */
export async function call(app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await app.inject({
    method,
    url: `/v1/admin${url}`,
    headers: { ...WRITE, ...options.headers },
    ...(options.body !== undefined && { payload: options.body as object }),
  })
  return { status: response.statusCode, body: response.body === '' ? undefined : response.json(), headers: response.headers }
}

/** The SDK straight at the emulator: what CloudFront holds, and changes made behind the service's back. */
export function cloudFrontClient(t: TestContext, endpoint: string): CloudFrontClient {
  const client = createCloudFrontClient(endpoint)
  t.after(() => client.destroy())
  return client
}

export function s3Client(t: TestContext, endpoint: string): S3Client {
  const client = createS3Client(endpoint)
  t.after(() => client.destroy())
  return client
}
