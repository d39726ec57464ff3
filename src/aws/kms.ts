// AWS KMS for signing keys that never leave it: DescribeKey, GetPublicKey and Sign, one client per
// account, SDK exceptions turned into coded errors at this boundary.
import { createHash } from 'node:crypto'
import { DescribeKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms'
import type { AwsConfig } from '../config/schema.js'
import { appError, CodedError } from '../http/errors.js'
import { credentialsFor, type StaticCredentials } from './accounts.js'
import { NETWORK_CODES, type SdkError } from './errors.js'
import { traceCommands } from './tracing.js'

/** The SigningAlgorithm KMS signs CloudFront policies with: SHA-256 always (CloudFront's Hash-Algorithm=SHA256). */
export type KmsSigningAlgorithm = 'RSASSA_PKCS1_V1_5_SHA_256' | 'ECDSA_SHA_256'

/** What DescribeKey says about a key. */
export interface KmsKeyDescription {
  keyArn: string
  keySpec: string
  keyUsage: string
  keyState: string
  createdMs: number
}

/**
 * Why a KMS call failed, in the service's words: `retryable` for throttling, timeouts, network
 * errors and KMS's own 5xx; `awsCode` is KMS's exception name when it answered one.
 */
export class KmsCallError extends CodedError {
  readonly retryable: boolean
  readonly reason: string

  constructor(code: 'KMS_UNAVAILABLE' | 'KMS_REQUEST_FAILED' | 'KMS_KEY_NOT_FOUND', reason: string, retryable: boolean, message: string, details: Record<string, unknown>) {
    super(code, message, details)
    this.name = 'KmsCallError'
    this.reason = reason
    this.retryable = retryable
  }
}

export interface KmsOptions {
  /** Replaces the standard credential chain (the emulator's dummy credentials). */
  credentials?: StaticCredentials
  /** One KMS call (one attempt) gives up after this; the signer retries. */
  requestTimeoutMs?: number
  /** Called once per call: `outcome` is `ok` or the failure's reason (throttled, timeout, network, ...). */
  recordCall?: (operation: string, outcome: string, seconds: number) => void
}

// A signature on the request path: a slow KMS must fail fast enough to be retried within a request.
export const KMS_REQUEST_TIMEOUT_MS = 2000
const CONNECTION_TIMEOUT_MS = 1000
// KMS signs a RAW message of up to 4096 bytes; a longer policy is sent as its SHA-256 digest, which signs the same.
const MAX_RAW_MESSAGE_BYTES = 4096
const THROTTLING = new Set(['ThrottlingException', 'LimitExceededException', 'TooManyRequestsException'])
const KMS_FAULTS = new Set(['KMSInternalException', 'DependencyTimeoutException', 'KeyUnavailableException', 'InternalFailureException', 'ServiceUnavailableException'])

/** Turns what the KMS SDK throws into a KmsCallError; keeps the code and request ID, never the message body or a credential. */
export function translateKmsError(err: unknown, operation: string): KmsCallError {
  if (err instanceof KmsCallError) return err
  const e = (err ?? {}) as SdkError
  const status = e.$metadata?.httpStatusCode
  const details = { operation, awsCode: e.name, awsRequestId: e.$metadata?.requestId, upstreamStatus: status }
  const unavailable = (reason: string) => new KmsCallError('KMS_UNAVAILABLE', reason, true, `KMS did not answer ${operation} (${reason})`, details)
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'ETIMEDOUT') return unavailable('timeout')
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return unavailable('network')
  if (e.name !== undefined && THROTTLING.has(e.name)) return unavailable('throttled')
  if ((e.name !== undefined && KMS_FAULTS.has(e.name)) || (status !== undefined && status >= 500)) return unavailable('kms_error')
  if (e.name === 'NotFoundException') return new KmsCallError('KMS_KEY_NOT_FOUND', 'not_found', false, `KMS has no such key (${operation})`, details)
  if (e.name === 'CredentialsProviderError' || e.name === 'ProviderError') {
    return new KmsCallError('KMS_REQUEST_FAILED', 'credentials', false, 'no AWS credentials could be loaded for the KMS account', details)
  }
  return new KmsCallError('KMS_REQUEST_FAILED', 'refused', false, `KMS refused ${operation} (${e.name ?? 'unknown error'})`, details)
}

/**
 * KMS clients for the configured accounts, created on first use with the account's region,
 * endpoint, profile or role (the same credentials logic as CloudFront's and S3's clients; a
 * loopback endpoint gets the emulator's dummy credentials). SDK retries are off: the signer
 * retries with jitter and keeps a circuit breaker (src/signer/kms.ts).
 */
export function createKms(aws: AwsConfig | undefined, options: KmsOptions = {}) {
  const clients = new Map<string, KMSClient>()
  const accountNames = Object.keys(aws?.accounts ?? {})
  const defaultAccount = aws?.defaultAccount ?? (accountNames.length === 1 ? accountNames[0] : undefined)
  const timeoutMs = options.requestTimeoutMs ?? KMS_REQUEST_TIMEOUT_MS

  /** The account an entry or a request names, or the default one. */
  function resolveAccount(name: string | undefined): string {
    const resolved = name ?? defaultAccount
    if (resolved === undefined || aws?.accounts[resolved] === undefined) {
      throw appError('UNKNOWN_ACCOUNT', `account must be one of ${accountNames.join(', ') || '(no aws.accounts configured)'}`)
    }
    return resolved
  }

  function clientFor(name: string): KMSClient {
    let client = clients.get(name)
    if (client === undefined) {
      const account = aws!.accounts[name]
      client = new KMSClient({
        region: account.region,
        credentials: credentialsFor(account, options.credentials),
        maxAttempts: 1,
        requestHandler: { requestTimeout: timeoutMs, throwOnRequestTimeout: true, connectionTimeout: Math.min(CONNECTION_TIMEOUT_MS, timeoutMs) },
        ...(account.endpoint !== undefined && { endpoint: account.endpoint }),
      })
      traceCommands(client.middlewareStack as unknown as Parameters<typeof traceCommands>[0], 'KMS', { region: account.region, account: name })
      clients.set(name, client)
    }
    return client
  }

  async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      const output = await run()
      options.recordCall?.(operation, 'ok', (performance.now() - started) / 1000)
      return output
    } catch (err) {
      const coded = translateKmsError(err, operation)
      options.recordCall?.(operation, coded.reason, (performance.now() - started) / 1000)
      throw coded
    }
  }

  return {
    resolveAccount,

    /** DescribeKey: the key an ID, ARN or alias names (an alias is followed once, here), its spec, usage and state. */
    async describeKey(account: string, kmsKeyId: string): Promise<KmsKeyDescription> {
      const described = await call('DescribeKey', () => clientFor(account).send(new DescribeKeyCommand({ KeyId: kmsKeyId })))
      const meta = described.KeyMetadata
      return {
        keyArn: meta?.Arn ?? kmsKeyId,
        keySpec: String(meta?.KeySpec ?? 'unknown'),
        keyUsage: String(meta?.KeyUsage ?? 'unknown'),
        keyState: String(meta?.KeyState ?? 'unknown'),
        createdMs: meta?.CreationDate?.getTime() ?? 0,
      }
    },

    /** GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key. */
    async getPublicKey(account: string, keyArn: string): Promise<Uint8Array> {
      const output = await call('GetPublicKey', () => clientFor(account).send(new GetPublicKeyCommand({ KeyId: keyArn })))
      if (output.PublicKey === undefined) throw new KmsCallError('KMS_REQUEST_FAILED', 'no_public_key', false, 'KMS answered GetPublicKey without a public key', { operation: 'GetPublicKey' })
      return output.PublicKey
    },

    /** Signs the message (MessageType RAW: KMS hashes it with SHA-256). ECDSA answers DER, as CloudFront wants it. */
    async sign(account: string, keyArn: string, message: Uint8Array, algorithm: KmsSigningAlgorithm): Promise<Uint8Array> {
      const raw = message.byteLength <= MAX_RAW_MESSAGE_BYTES
      const input = raw
        ? { KeyId: keyArn, Message: message, MessageType: 'RAW' as const, SigningAlgorithm: algorithm }
        : { KeyId: keyArn, Message: createHash('sha256').update(message).digest(), MessageType: 'DIGEST' as const, SigningAlgorithm: algorithm }
      const output = await call('Sign', () => clientFor(account).send(new SignCommand(input)))
      if (output.Signature === undefined) throw new KmsCallError('KMS_REQUEST_FAILED', 'no_signature', false, 'KMS answered Sign without a signature', { operation: 'Sign' })
      return output.Signature
    },

    close(): void {
      for (const client of clients.values()) client.destroy()
      clients.clear()
    },
  }
}

export type Kms = ReturnType<typeof createKms>
