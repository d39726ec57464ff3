import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { after, before } from 'node:test'
import { CloudFrontClient, type DistributionConfig } from '@aws-sdk/client-cloudfront'
import { S3Client } from '@aws-sdk/client-s3'
import { createCloudFrontEmulator, type CloudFrontEmulator, type CloudFrontEmulatorOptions } from '../../src/dev/emulator/index.js'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

export function createCloudFrontClient(endpoint: string, maxAttempts = 1): CloudFrontClient {
  return new CloudFrontClient({ endpoint, region: 'us-east-1', credentials, maxAttempts })
}

export function createS3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials, maxAttempts: 1 })
}

export interface EmulatorContext {
  emulator: CloudFrontEmulator
  endpoint: string
  cloudfront: CloudFrontClient
  s3: S3Client
}

/** Starts one emulator for the enclosing describe() and stops it afterwards; fields are filled in before(). */
export function useEmulator(options?: CloudFrontEmulatorOptions): EmulatorContext {
  const context = {} as EmulatorContext
  before(async () => {
    context.emulator = createCloudFrontEmulator(options)
    context.endpoint = await context.emulator.listen()
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
