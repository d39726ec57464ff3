// KMS over its JSON protocol (POST / with X-Amz-Target: TrentService.<Operation>), the part that signs: asymmetric
// signing keys with real signatures, aliases, and the key kinds the service must refuse. API:
// https://docs.aws.amazon.com/kms/latest/APIReference/ . Private keys are kept as PKCS#8 PEM, in the state file
// too: this is a development emulator, whose keys protect nothing.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiError } from './errors.js'
import { digestLength, isSigningAlgorithm, signsDigest, signWithKey, SIGNING_ALGORITHMS, verifyWithKey, type SigningAlgorithm } from './kms-crypto.js'
import type { EmulatorRequest, Reply, Service } from './routing.js'
import type { EmulatorState } from './state.js'

/** The account every emulated KMS ARN names. */
export const KMS_ACCOUNT_ID = '000000000000'
/** The region of a key created without a SigV4 credential scope to read one from. */
export const KMS_DEFAULT_REGION = 'us-east-1'
const TARGET_PREFIX = 'TrentService.'
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1'
const MAX_MESSAGE_BYTES = 4096
const MAX_LIST_LIMIT = 100

const RSA_SIGNING: SigningAlgorithm[] = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
]

/** The key specs and usages the emulator creates; each usage lists the algorithms KMS reports for it. */
const KEY_SPECS = {
  RSA_2048: {
    SIGN_VERIFY: { SigningAlgorithms: RSA_SIGNING },
    ENCRYPT_DECRYPT: { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] },
  },
  ECC_NIST_P256: { SIGN_VERIFY: { SigningAlgorithms: ['ECDSA_SHA_256'] } },
  SYMMETRIC_DEFAULT: { ENCRYPT_DECRYPT: { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } },
} as const satisfies Record<string, Partial<Record<KmsKeyUsage, { SigningAlgorithms?: SigningAlgorithm[]; EncryptionAlgorithms?: string[] }>>>

export type KmsKeySpec = keyof typeof KEY_SPECS
export type KmsKeyUsage = 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT'

export interface StoredKmsKey {
  keyId: string
  arn: string
  keySpec: KmsKeySpec
  keyUsage: KmsKeyUsage
  description: string
  /** Epoch milliseconds on the emulator's clock. */
  createdAt: number
  /** PKCS#8 PEM; absent for a symmetric key, which the emulator never uses. */
  privateKeyPem?: string
}

export interface StoredKmsAlias {
  name: string
  arn: string
  targetKeyId: string
  createdAt: number
}

/** KMS's part of a state file. */
export interface KmsSnapshot {
  keys: StoredKmsKey[]
  aliases: StoredKmsAlias[]
}

/** Keys and aliases, and each key parsed once: parsing PEM on every Sign would dominate a bench. */
export function createKmsStore(snapshot: KmsSnapshot = { keys: [], aliases: [] }) {
  const keys = new Map(snapshot.keys.map((key) => [key.keyId, key]))
  const aliases = new Map(snapshot.aliases.map((alias) => [alias.name, alias]))
  const parsed = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>()
  return {
    keys,
    aliases,
    /** The key's pair, parsed once; undefined for a symmetric key. */
    keyPair(key: StoredKmsKey): { privateKey: KeyObject; publicKey: KeyObject } | undefined {
      if (key.privateKeyPem === undefined) return undefined
      let pair = parsed.get(key.keyId)
      if (pair === undefined) {
        const privateKey = createPrivateKey(key.privateKeyPem)
        pair = { privateKey, publicKey: createPublicKey(privateKey) }
        parsed.set(key.keyId, pair)
      }
      return pair
    },
    snapshot(): KmsSnapshot {
      return { keys: [...keys.values()], aliases: [...aliases.values()] }
    },
  }
}

export type KmsStore = ReturnType<typeof createKmsStore>

export interface KmsOptions {
  /** Milliseconds each Sign waits before answering, without blocking other calls (default 0). */
  signLatencyMs: number
  /** Every Nth Sign call answers ThrottlingException (0, the default, never). */
  throttleSignEvery: number
}

export interface CreateKmsKeyInput {
  keySpec: KmsKeySpec
  /** Defaults to SIGN_VERIFY for RSA_2048 and ECC_NIST_P256, ENCRYPT_DECRYPT for SYMMETRIC_DEFAULT. */
  keyUsage?: KmsKeyUsage
  /** `alias/<name>` (or just `<name>`) to point at the new key. */
  alias?: string
  description?: string
  region?: string
}

export interface CreatedKmsKey {
  keyId: string
  arn: string
  /** `alias/<name>`, when one was asked for. */
  alias?: string
  /** SPKI PEM; absent for a symmetric key. */
  publicKeyPem?: string
}

/** Whether a request is for KMS rather than CloudFront or S3: only the target header tells. */
export function isKmsRequest(headers: IncomingHttpHeaders): boolean {
  const target = headers['x-amz-target']
  return typeof target === 'string' && target.startsWith(TARGET_PREFIX)
}

type Body = Record<string, unknown>
type Handler = (body: Body, region: string) => Body | undefined | Promise<Body | undefined>

export function createKmsService(state: EmulatorState, options: KmsOptions, closing: AbortSignal) {
  let signCount = 0
  const store = () => state.kms

  const handlers: Record<string, Handler> = {
    CreateKey: (body, region) => {
      const keySpec = body.KeySpec ?? body.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT'
      const keyUsage = body.KeyUsage ?? 'ENCRYPT_DECRYPT'
      const key = createKey({ keySpec: keySpec as KmsKeySpec, keyUsage: keyUsage as KmsKeyUsage, description: optionalString(body, 'Description') ?? '', region })
      return { KeyMetadata: keyMetadata(key) }
    },
    DescribeKey: (body, region) => ({ KeyMetadata: keyMetadata(findKey(body, region)) }),
    GetPublicKey: (body, region) => {
      const key = findKey(body, region)
      const pair = store().keyPair(key)
      if (pair === undefined) throw new ApiError('UnsupportedOperationException', 400, `${key.arn} is a symmetric key, which has no public key.`)
      return {
        KeyId: key.arn,
        PublicKey: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        CustomerMasterKeySpec: key.keySpec,
        KeySpec: key.keySpec,
        KeyUsage: key.keyUsage,
        ...algorithms(key),
      }
    },
    Sign: async (body, region) => {
      signCount += 1
      const count = signCount
      if (options.signLatencyMs > 0) await sleep(options.signLatencyMs, undefined, { signal: closing })
      if (options.throttleSignEvery > 0 && count % options.throttleSignEvery === 0) throw new ApiError('ThrottlingException', 400, 'Rate exceeded')
      const { key, algorithm, message, isDigest, privateKey } = readSigning(body, region, 'Sign')
      return { KeyId: key.arn, Signature: signWithKey(algorithm, privateKey, message, isDigest).toString('base64'), SigningAlgorithm: algorithm }
    },
    Verify: (body, region) => {
      const { key, algorithm, message, isDigest, publicKey } = readSigning(body, region, 'Verify')
      const signature = readBlob(body, 'Signature', 1, 6144)
      if (!verifyWithKey(algorithm, publicKey, message, isDigest, signature)) throw new ApiError('KMSInvalidSignatureException', 400, '')
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm }
    },
    CreateAlias: (body, region) => {
      const name = requireString(body, 'AliasName')
      const target = requireString(body, 'TargetKeyId')
      if (target.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(target)) {
        throw new ApiError('ValidationException', 400, 'Aliases must refer to keys. Not aliases')
      }
      const key = resolveKey(target, region)
      createAlias(name, key, region)
      return undefined
    },
    ListAliases: (body, region) => {
      const keyId = optionalString(body, 'KeyId')
      const target = keyId === undefined ? undefined : resolveKey(keyId, region)
      const limit = body.Limit === undefined ? MAX_LIST_LIMIT : Number(body.Limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw validation(`Value '${String(body.Limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000`)
      const all = [...store().aliases.values()].filter((alias) => target === undefined || alias.targetKeyId === target.keyId)
      const start = body.Marker === undefined ? 0 : Number(body.Marker)
      if (!Number.isInteger(start) || start < 0 || start > all.length) throw new ApiError('InvalidMarkerException', 400, 'Invalid marker')
      const page = all.slice(start, start + limit)
      const truncated = start + limit < all.length
      return {
        Aliases: page.map((alias) => ({
          AliasName: alias.name,
          AliasArn: alias.arn,
          TargetKeyId: alias.targetKeyId,
          CreationDate: alias.createdAt / 1000,
          LastUpdatedDate: alias.createdAt / 1000,
        })),
        Truncated: truncated,
        ...(truncated && { NextMarker: String(start + limit) }),
      }
    },
  }

  function createKey(input: Required<Omit<CreateKmsKeyInput, 'alias'>>): StoredKmsKey {
    const usages: Partial<Record<KmsKeyUsage, unknown>> | undefined = Object.hasOwn(KEY_SPECS, input.keySpec) ? KEY_SPECS[input.keySpec] : undefined
    if (usages === undefined) {
      throw validation(`Value '${input.keySpec}' at 'keySpec' failed to satisfy constraint: the emulator creates ${Object.keys(KEY_SPECS).join(', ')}`)
    }
    if (input.keyUsage !== 'SIGN_VERIFY' && input.keyUsage !== 'ENCRYPT_DECRYPT') {
      throw validation(`Value '${String(input.keyUsage)}' at 'keyUsage' failed to satisfy constraint: the emulator creates SIGN_VERIFY or ENCRYPT_DECRYPT keys`)
    }
    if (usages[input.keyUsage] === undefined) {
      throw validation(`KeyUsage ${input.keyUsage} is not compatible with KeySpec ${input.keySpec}`)
    }
    const keyId = randomUUID()
    const key: StoredKmsKey = {
      keyId,
      arn: `arn:aws:kms:${input.region}:${KMS_ACCOUNT_ID}:key/${keyId}`,
      keySpec: input.keySpec,
      keyUsage: input.keyUsage,
      description: input.description,
      createdAt: state.now(),
      ...(input.keySpec !== 'SYMMETRIC_DEFAULT' && { privateKeyPem: generatePrivateKeyPem(input.keySpec) }),
    }
    store().keys.set(keyId, key)
    return key
  }

  function createAlias(name: string, key: StoredKmsKey, region: string): StoredKmsAlias {
    checkAliasName(name, region)
    const alias: StoredKmsAlias = { name, arn: aliasArn(name, region), targetKeyId: key.keyId, createdAt: state.now() }
    store().aliases.set(name, alias)
    return alias
  }

  function checkAliasName(name: string, region: string): void {
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name)) {
      throw validation(`Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`)
    }
    if (name.startsWith('alias/aws/')) throw new ApiError('NotAuthorizedException', 400, 'Cannot create alias with prefix \'alias/aws/\'')
    if (store().aliases.has(name)) throw new ApiError('AlreadyExistsException', 400, `An alias with the name ${aliasArn(name, region)} already exists`)
  }

  function findKey(body: Body, region: string): StoredKmsKey {
    return resolveKey(requireString(body, 'KeyId'), region)
  }

  /** A key id, key ARN, `alias/<name>` or alias ARN, as every KMS operation takes them. */
  function resolveKey(keyId: string, region: string): StoredKmsKey {
    const aliasName = keyId.startsWith('alias/') ? keyId : /^arn:[^:]+:kms:[^:]*:[^:]*:(alias\/.+)$/.exec(keyId)?.[1]
    if (aliasName !== undefined) {
      const alias = store().aliases.get(aliasName)
      const key = alias === undefined || (keyId.startsWith('arn:') && alias.arn !== keyId) ? undefined : store().keys.get(alias.targetKeyId)
      if (key === undefined) throw new ApiError('NotFoundException', 400, `Alias ${keyId.startsWith('arn:') ? keyId : aliasArn(aliasName, region)} is not found.`)
      return key
    }
    const id = keyId.startsWith('arn:') ? /^arn:[^:]+:kms:[^:]*:[^:]*:key\/(.+)$/.exec(keyId)?.[1] : keyId
    const key = id === undefined ? undefined : store().keys.get(id)
    if (key === undefined || (keyId.startsWith('arn:') && key.arn !== keyId)) {
      throw new ApiError('NotFoundException', 400, `Key '${keyId.startsWith('arn:') ? keyId : `arn:aws:kms:${region}:${KMS_ACCOUNT_ID}:key/${keyId}`}' does not exist`)
    }
    return key
  }

  function readSigning(body: Body, region: string, operation: 'Sign' | 'Verify') {
    const key = findKey(body, region)
    const algorithm = requireString(body, 'SigningAlgorithm')
    if (!isSigningAlgorithm(algorithm)) {
      throw validation(`Value '${algorithm}' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [${Object.keys(SIGNING_ALGORITHMS).join(', ')}]`)
    }
    const messageType = body.MessageType ?? 'RAW'
    if (messageType !== 'RAW' && messageType !== 'DIGEST') {
      throw validation(`Value '${String(messageType)}' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST]`)
    }
    const message = readBlob(body, 'Message', 1, MAX_MESSAGE_BYTES)
    const pair = store().keyPair(key)
    if (key.keyUsage !== 'SIGN_VERIFY' || pair === undefined) {
      throw new ApiError('InvalidKeyUsageException', 400, `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`)
    }
    const supported: readonly SigningAlgorithm[] = KEY_SPECS[key.keySpec as 'RSA_2048' | 'ECC_NIST_P256'].SIGN_VERIFY.SigningAlgorithms
    if (!supported.includes(algorithm)) throw new ApiError('InvalidKeyUsageException', 400, `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`)
    const isDigest = messageType === 'DIGEST'
    if (isDigest && message.length !== digestLength(algorithm)) throw validation(`Digest is invalid length for algorithm ${algorithm}.`)
    if (isDigest && !signsDigest(algorithm)) {
      throw new ApiError('UnsupportedOperationException', 400, `The emulator signs a DIGEST with RSASSA_PKCS1_V1_5 algorithms only; send ${algorithm} a RAW message.`)
    }
    return { key, algorithm, message, isDigest, ...pair }
  }

  function handle(operation: string, request: EmulatorRequest): Reply | Promise<Reply> {
    const handler = handlers[operation]
    if (handler === undefined) throw new ApiError('UnknownOperationException', 400, `The emulator does not implement KMS ${operation}.`)
    const body = readJson(request.body)
    const region = readRegion(request.headers)
    const answer = (output: Body | undefined): Reply => ({
      status: 200,
      headers: { 'Content-Type': JSON_CONTENT_TYPE },
      body: output === undefined ? '' : JSON.stringify(output),
      // Only CreateKey and CreateAlias change the world a state file keeps.
      ...(operation !== 'CreateKey' && operation !== 'CreateAlias' && { readOnly: true }),
    })
    const output = handler(body, region)
    return output instanceof Promise ? output.then(answer) : answer(output)
  }

  const service: Service = {
    resolve: (method, path, _query, headers) => {
      const target = headers?.['x-amz-target']
      if (method !== 'POST' || path !== '/' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) return undefined
      const name = target.slice(TARGET_PREFIX.length)
      return { name, params: {}, handle: (request) => handle(name, request) }
    },
    unknownOperation: (method, path) => new ApiError('UnknownOperationException', 400, `No KMS operation matches ${method} ${path}.`),
    renderError: (error) => ({
      status: error.status,
      headers: { 'Content-Type': JSON_CONTENT_TYPE, 'x-amzn-ErrorType': error.code },
      body: JSON.stringify({ __type: error.code, message: error.message }),
    }),
    requestIdHeaders: (requestId) => ({ 'x-amzn-RequestId': requestId }),
  }

  return {
    service,
    /** Sign calls that reached KMS, throttled ones included (an injected fault answers before KMS sees the call). */
    signCount: () => signCount,
    resetCounters(): void {
      signCount = 0
    },
    configure(changes: Partial<KmsOptions>): void {
      const next = { ...options, ...changes }
      checkKmsOptions(next)
      Object.assign(options, next)
    },
    /** CreateKey (and CreateAlias) without a client, for tests and scripts. */
    createKey(input: CreateKmsKeyInput): CreatedKmsKey {
      const region = input.region ?? KMS_DEFAULT_REGION
      const keyUsage = input.keyUsage ?? (input.keySpec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY')
      const aliasName = input.alias === undefined ? undefined : input.alias.startsWith('alias/') ? input.alias : `alias/${input.alias}`
      // Checked first, so a bad alias leaves no key behind.
      if (aliasName !== undefined) checkAliasName(aliasName, region)
      const key = createKey({ keySpec: input.keySpec, keyUsage, description: input.description ?? '', region })
      if (aliasName !== undefined) createAlias(aliasName, key, region)
      const publicKey = store().keyPair(key)?.publicKey
      return {
        keyId: key.keyId,
        arn: key.arn,
        ...(aliasName !== undefined && { alias: aliasName }),
        ...(publicKey !== undefined && { publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() }),
      }
    },
    /** Every key, for the control endpoint. */
    listKeys() {
      return [...store().keys.values()].map((key) => ({
        keyId: key.keyId,
        arn: key.arn,
        keySpec: key.keySpec,
        keyUsage: key.keyUsage,
        aliases: [...store().aliases.values()].filter((alias) => alias.targetKeyId === key.keyId).map((alias) => alias.name),
      }))
    },
  }
}

export type KmsService = ReturnType<typeof createKmsService>

/** Throws a TypeError naming the bad option, so a bad emulator configuration fails at start. */
export function checkKmsOptions(options: KmsOptions): void {
  if (!Number.isFinite(options.signLatencyMs) || options.signLatencyMs < 0) throw new TypeError('kmsSignLatencyMs must be a non-negative number of milliseconds')
  if (!Number.isInteger(options.throttleSignEvery) || options.throttleSignEvery < 0) {
    throw new TypeError('kmsThrottleSignEvery must be a whole number (0 never throttles)')
  }
}

function aliasArn(name: string, region: string): string {
  return `arn:aws:kms:${region}:${KMS_ACCOUNT_ID}:${name}`
}

function keyMetadata(key: StoredKmsKey): Body {
  return {
    AWSAccountId: KMS_ACCOUNT_ID,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.createdAt / 1000,
    Enabled: true,
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    MultiRegion: false,
    ...algorithms(key),
  }
}

function algorithms(key: StoredKmsKey): Body {
  const usages: Partial<Record<KmsKeyUsage, Body>> = KEY_SPECS[key.keySpec]
  return { ...usages[key.keyUsage] }
}

function generatePrivateKeyPem(keySpec: 'RSA_2048' | 'ECC_NIST_P256'): string {
  const { privateKey } = keySpec === 'RSA_2048'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
}

function validation(detail: string): ApiError {
  return new ApiError('ValidationException', 400, detail.startsWith('Value ') ? `1 validation error detected: ${detail}` : detail)
}

function readJson(body: Buffer): Body {
  if (body.length === 0) return {}
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Body
  } catch {
    // Answered below, as KMS answers a body it cannot read.
  }
  throw new ApiError('SerializationException', 400, 'Start of structure or map found where not expected.')
}

/** The region from the SigV4 credential scope (`Credential=AKID/20260101/eu-west-1/kms/aws4_request`). */
function readRegion(headers: IncomingHttpHeaders): string {
  const authorization = headers.authorization ?? ''
  return /Credential=[^/]+\/\d{8}\/([^/]+)\/kms\//.exec(authorization)?.[1] ?? KMS_DEFAULT_REGION
}

function requireString(body: Body, name: string): string {
  const value = body[name]
  if (value === undefined || value === null) throw validation(`Value null at '${camel(name)}' failed to satisfy constraint: Member must not be null`)
  if (typeof value !== 'string' || value === '') throw validation(`Value '${String(value)}' at '${camel(name)}' failed to satisfy constraint: Member must have length greater than or equal to 1`)
  return value
}

function optionalString(body: Body, name: string): string | undefined {
  return body[name] === undefined ? undefined : requireString(body, name)
}

function readBlob(body: Body, name: string, minBytes: number, maxBytes: number): Buffer {
  const bytes = Buffer.from(requireString(body, name), 'base64')
  if (bytes.length < minBytes || bytes.length > maxBytes) {
    throw validation(`Value at '${camel(name)}' failed to satisfy constraint: Member must have length between ${minBytes} and ${maxBytes}`)
  }
  return bytes
}

const camel = (name: string) => name[0]!.toLowerCase() + name.slice(1)
