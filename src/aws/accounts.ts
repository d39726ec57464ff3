import { CloudFrontClient } from '@aws-sdk/client-cloudfront'
import { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore'
// Signs the KeyValueStore data plane's SigV4A requests in plain JavaScript (no CRT).
import '@aws-sdk/signature-v4a'
import { S3Client } from '@aws-sdk/client-s3'
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import type { AwsAccountConfig, AwsConfig } from '../config/schema.js'
import { EMULATOR_CREDENTIALS } from '../dev/defaults.js'
import { appError } from '../http/errors.js'
import { translateAwsError } from './errors.js'
import { traceCommands } from './tracing.js'

/** Fixed credentials: only the local emulator's dummy ones (development, tests), never real ones. */
export interface StaticCredentials {
  accessKeyId: string
  secretAccessKey: string
}

/** One configured AWS account: its clients, created once. */
export interface AwsAccount {
  readonly name: string
  readonly cloudFront: CloudFrontClient
  readonly s3: S3Client
  /** The KeyValueStore data plane (keys of a store, by its ARN). */
  readonly keyValueStore: CloudFrontKeyValueStoreClient
}

export interface AwsAccountsOptions {
  /** Replaces the standard credential chain for every account (the emulator's dummy credentials). */
  credentials?: StaticCredentials
  /** Called once per SDK command, after its retries: `outcome` is `ok` or the error code. */
  recordCall?: (operation: string, outcome: string) => void
}

// The SDK's session name for an assumed role, visible in the account's CloudTrail.
const ROLE_SESSION_NAME = 'cf-signer'
const CONNECTION_TIMEOUT_MS = 5000

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', '::1', 'localhost'])

/** True when `endpoint` is a URL on this machine's loopback interface (127.0.0.1, ::1 or localhost). */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined || !URL.canParse(endpoint)) return false
  return LOOPBACK_HOSTS.has(new URL(endpoint).hostname.toLowerCase())
}

export function credentialsFor(account: AwsAccountConfig, fixed: StaticCredentials | undefined) {
  if (fixed !== undefined) return fixed
  // A loopback endpoint is the local emulator, which checks no signature: real credentials never leave for it.
  if (account.profile === undefined && account.roleArn === undefined && isLoopbackEndpoint(account.endpoint)) return EMULATOR_CREDENTIALS
  const base = account.profile !== undefined ? fromIni({ profile: account.profile }) : undefined
  if (account.roleArn !== undefined) {
    return fromTemporaryCredentials({
      params: { RoleArn: account.roleArn, RoleSessionName: ROLE_SESSION_NAME },
      masterCredentials: base,
      clientConfig: { region: account.region },
    })
  }
  return base ?? fromNodeProviderChain()
}

// The slice of the SDK's middleware stack the boundary needs (both clients share it).
type Handler = (args: unknown) => Promise<unknown>
interface MiddlewareStack {
  add(middleware: (next: Handler, context: { commandName?: string }) => Handler, options: { step: 'initialize'; priority: 'high'; name: string }): void
}

/**
 * The adapter's boundary, outside the SDK's retries: every command is counted once, and anything it
 * throws becomes a coded error, so callers never see an AWS type.
 */
function guard(stack: MiddlewareStack, recordCall: AwsAccountsOptions['recordCall']): void {
  stack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '')
      try {
        const output = await next(args)
        recordCall?.(operation, 'ok')
        return output
      } catch (err) {
        const coded = translateAwsError(err, operation)
        recordCall?.(operation, coded.code)
        throw coded
      }
    },
    { step: 'initialize', priority: 'high', name: 'cfSignerBoundary' },
  )
}

function createAccount(name: string, account: AwsAccountConfig, aws: AwsConfig, options: AwsAccountsOptions): AwsAccount {
  const common = {
    region: account.region,
    credentials: credentialsFor(account, options.credentials),
    maxAttempts: aws.maxAttempts,
    requestHandler: { requestTimeout: aws.requestTimeoutMs, throwOnRequestTimeout: true, connectionTimeout: Math.min(CONNECTION_TIMEOUT_MS, aws.requestTimeoutMs) },
    ...(account.endpoint !== undefined && { endpoint: account.endpoint }),
  }
  const cloudFront = new CloudFrontClient(common)
  const s3 = new S3Client({ ...common, forcePathStyle: account.endpoint !== undefined })
  // The data plane's rules put the account ID in front of the host (`<id>.cloudfront-kvs...`); an emulator takes the endpoint as is.
  const { endpoint, ...rest } = common as typeof common & { endpoint?: string }
  const keyValueStore = new CloudFrontKeyValueStoreClient({ ...rest, ...(endpoint !== undefined && { endpointProvider: () => ({ url: new URL(endpoint) }) }) })
  for (const [client, service] of [[cloudFront, 'CloudFront'], [s3, 'S3'], [keyValueStore, 'CloudFrontKeyValueStore']] as const) {
    guard(client.middlewareStack as unknown as MiddlewareStack, options.recordCall)
    traceCommands(client.middlewareStack as unknown as MiddlewareStack, service, { region: account.region, account: name })
  }
  return { name, cloudFront, s3, keyValueStore }
}

/** The configured accounts, each with its clients created once; resolves the account a request names. */
export function createAwsAccounts(aws: AwsConfig | undefined, options: AwsAccountsOptions = {}) {
  const accounts = new Map<string, AwsAccount>()
  for (const [name, account] of Object.entries(aws?.accounts ?? {})) accounts.set(name, createAccount(name, account, aws!, options))
  const defaultName = aws?.defaultAccount ?? (accounts.size === 1 ? [...accounts.keys()][0] : undefined)

  return {
    configured: accounts.size > 0,
    names: (): string[] => [...accounts.keys()],
    /** The account named by `?account=`, or the default one. */
    resolve(name: string | undefined): AwsAccount {
      if (accounts.size === 0) throw appError('ADMIN_NOT_CONFIGURED', 'the admin API needs an AWS account: configure aws.accounts')
      const account = accounts.get(name ?? defaultName ?? '')
      if (account === undefined) {
        throw appError('UNKNOWN_ACCOUNT', `account must be one of ${[...accounts.keys()].join(', ')}`)
      }
      return account
    },
    close(): void {
      for (const account of accounts.values()) {
        account.cloudFront.destroy()
        account.s3.destroy()
        account.keyValueStore.destroy()
      }
    },
  }
}

export type AwsAccounts = ReturnType<typeof createAwsAccounts>
