import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { CodedError } from './errors.js'

export type KeyAlgorithm = 'RSA' | 'ECDSA'

/** What every signing key has, wherever its private half lives. */
interface SigningKeyBase {
  /** The CloudFront public key ID (`K…`) or legacy key pair ID (`APKA…`): the file name without `.pem`, or `keys.kms[].keyId`. */
  id: string
  algorithm: KeyAlgorithm
  publicKey: KeyObject
  publicKeyPem: string
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex. */
  fingerprint: string
  /** The key file's modification time, or the KMS key's creation (epoch milliseconds), for the key age metric. */
  modifiedMs: number
}

/** A key from the keys directory, parsed once at load and never again per request. */
export interface FileSigningKey extends SigningKeyBase {
  kind: 'file'
  privateKey: KeyObject
  file: string
}

/** A key whose private half never leaves AWS KMS: the signer asks KMS to sign, always with SHA-256. */
export interface KmsSigningKey extends SigningKeyBase {
  kind: 'kms'
  kms: KmsKeyReference
  // Absent, so code that reads them off any key still compiles and finds nothing.
  privateKey?: undefined
  file?: undefined
}

/** Where a KMS key lives: the configured entry, and the key ARN it resolved to (an alias is resolved once, at load). */
export interface KmsKeyReference {
  /** The `keys.kms[].kmsKeyId` as configured: key ID, ARN or alias. */
  kmsKeyId: string
  /** The key's ARN, which every Sign call names, so a re-pointed alias never signs for the published public key. */
  keyArn: string
  /** The `aws.accounts` entry whose region and credentials reach it. */
  account: string
  keySpec: KmsKeySpec
}

/** The KMS key specs CloudFront can verify: RSA 2048 and NIST P-256. */
export type KmsKeySpec = 'RSA_2048' | 'ECC_NIST_P256'

export type SigningKey = FileSigningKey | KmsSigningKey

/** Key IDs as CloudFront issues them: upper-case letters and digits. */
export const KEY_ID_PATTERN = /^[A-Z0-9]{6,64}$/

/** Every way a key file can fail to serve; each is a stable code. */
export type KeyErrorCode =
  | 'KEY_FILE_MISSING'
  | 'KEY_FILE_UNREADABLE'
  | 'KEY_NOT_PEM'
  | 'KEY_IS_PUBLIC'
  | 'KEY_UNSUPPORTED'
  | 'KEY_ENCRYPTED'
  | 'KEY_BAD_PASSPHRASE'
  | 'KEY_INVALID'
  | 'KEY_BAD_NAME'
  | 'KEY_ACTIVE_INVALID'
  | 'KEY_ACTIVE_UNSET'
  | 'KEY_DUPLICATE_ID'

export class KeyLoadError extends CodedError {
  readonly file: string
  constructor(code: KeyErrorCode, file: string, reason: string) {
    super(code, `${basename(file)}: ${reason}`)
    this.file = file
  }
}

/** Loads and checks one `<KEY_ID>.pem` file. */
export function loadSigningKey(file: string, passphrase?: string): FileSigningKey {
  const id = basename(file).replace(/\.pem$/, '')
  if (!KEY_ID_PATTERN.test(id)) {
    throw new KeyLoadError('KEY_BAD_NAME', file, `the file name must be <KEY_ID>.pem with the CloudFront key ID in upper-case letters and digits (e.g. K2JCJMDEHXQW5F.pem)`)
  }
  let text: string
  let modifiedMs: number
  try {
    text = readFileSync(file, 'utf8')
    modifiedMs = statSync(file).mtimeMs
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new KeyLoadError('KEY_FILE_MISSING', file, 'file not found')
    throw new KeyLoadError('KEY_FILE_UNREADABLE', file, `cannot read the file (${code ?? 'unknown error'})`)
  }
  const privateKey = parsePrivateKey(text, file, passphrase)
  const publicKey = createPublicKey(privateKey)
  return {
    kind: 'file',
    id,
    algorithm: checkKeyType(privateKey, file),
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex'),
    file,
    modifiedMs,
  }
}

// The textual checks come first: OpenSSL's own messages ("no start line", "bad end line") are what
// operators have been stuck on for years, so each gets a plain explanation.
function parsePrivateKey(text: string, file: string, passphrase?: string): KeyObject {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)
  if (begin === null) {
    throw new KeyLoadError('KEY_NOT_PEM', file, 'not a PEM file: no start line "-----BEGIN <type>-----" (is it the key pair ID, a DER file or an empty file?)')
  }
  const label = begin[1]
  if (!text.includes(`-----END ${label}-----`)) {
    throw new KeyLoadError('KEY_NOT_PEM', file, `bad PEM end line: "-----END ${label}-----" is missing (truncated or pasted without its last line?)`)
  }
  if (/PUBLIC KEY|CERTIFICATE/.test(label)) {
    throw new KeyLoadError('KEY_IS_PUBLIC', file, `holds a ${label.toLowerCase()}, not a private key: CloudFront keeps the public key, the signer needs the private one`)
  }
  if (label === 'OPENSSH PRIVATE KEY') {
    throw new KeyLoadError('KEY_UNSUPPORTED', file, 'OpenSSH key format: convert it with `ssh-keygen -p -m PEM -f <file>` or `openssl pkey`')
  }
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(text)
  if (encrypted && !passphrase) {
    throw new KeyLoadError('KEY_ENCRYPTED', file, 'the key is encrypted and no passphrase is configured (keys.passphraseFile)')
  }
  try {
    return createPrivateKey(encrypted ? { key: text, format: 'pem', passphrase } : { key: text, format: 'pem' })
  } catch (err) {
    if (encrypted) throw new KeyLoadError('KEY_BAD_PASSPHRASE', file, 'the passphrase does not decrypt the key')
    const detail = (err as Error).message.replace(/\n/g, ' ')
    throw new KeyLoadError('KEY_INVALID', file, `the PEM content is not a valid private key (${detail}); check for lost line breaks or edits`)
  }
}

function checkKeyType(key: KeyObject, file: string): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'rsa') {
    if (details.modulusLength !== 2048) {
      throw new KeyLoadError('KEY_UNSUPPORTED', file, `RSA key of ${details.modulusLength} bits: CloudFront accepts RSA 2048 only`)
    }
    return 'RSA'
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1') {
      throw new KeyLoadError('KEY_UNSUPPORTED', file, `ECDSA key on curve ${details.namedCurve}: CloudFront accepts P-256 (prime256v1) only`)
    }
    return 'ECDSA'
  }
  throw new KeyLoadError('KEY_UNSUPPORTED', file, `${key.asymmetricKeyType} key: CloudFront accepts RSA 2048 or ECDSA P-256`)
}

export interface KeyDirectory {
  keys: Map<string, FileSigningKey>
  errors: KeyLoadError[]
}

/**
 * Loads every `*.pem` in a directory. Hidden entries are skipped: a Kubernetes secret volume keeps
 * its real files under `..data` and links each visible name to them.
 */
export function loadKeyDirectory(dir: string, passphrase?: string): KeyDirectory {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new KeyLoadError(code === 'ENOENT' ? 'KEY_FILE_MISSING' : 'KEY_FILE_UNREADABLE', dir, `cannot read the keys directory ${dir} (${code ?? 'unknown error'})`)
  }
  const keys = new Map<string, FileSigningKey>()
  const errors: KeyLoadError[] = []
  for (const name of names.filter((n) => n.endsWith('.pem') && !n.startsWith('.')).sort()) {
    try {
      const key = loadSigningKey(join(dir, name), passphrase)
      keys.set(key.id, key)
    } catch (err) {
      // Gone since the listing, or a link left dangling for a moment by a secret update: not a key.
      if (err instanceof KeyLoadError && err.code === 'KEY_FILE_MISSING') continue
      if (err instanceof KeyLoadError) errors.push(err)
      else throw err
    }
  }
  return { keys, errors }
}

/** The file that, when present in the keys directory, names the active key (it overrides `keys.activeKeyId`). */
export const ACTIVE_KEY_FILE = 'active'

/** The key ID in the directory's `active` file; undefined when there is no such file. */
export function readActiveKeyFile(dir: string): string | undefined {
  const file = join(dir, ACTIVE_KEY_FILE)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw new KeyLoadError('KEY_FILE_UNREADABLE', file, `cannot read the file (${code ?? 'unknown error'})`)
  }
  const id = text.trim()
  // The content is never echoed: a misplaced private key must not reach the logs.
  if (!KEY_ID_PATTERN.test(id)) throw new KeyLoadError('KEY_ACTIVE_INVALID', file, 'must hold one key ID (upper-case letters and digits, e.g. K2JCJMDEHXQW5F)')
  return id
}

/** A set of keys that can serve: the active key is one of them. */
export interface KeySet {
  keys: ReadonlyMap<string, SigningKey>
  active: SigningKey
}

export interface KeySetLoad {
  /** Absent when the directory cannot serve: unreadable, no keys, or no usable active key. */
  set?: KeySet
  /** Every failure, each naming its file: the files skipped, then why the set cannot serve. */
  errors: KeyLoadError[]
}

/**
 * Loads the directory as a whole, adds the KMS keys (described at start) and picks the active key:
 * the `active` file, else `configuredActiveId`, else the only key. Never throws for a bad file or directory.
 */
export function loadKeySet(
  dir: string | undefined,
  options: { passphrase?: string; configuredActiveId?: string; kmsKeys?: ReadonlyMap<string, KmsSigningKey> } = {},
): KeySetLoad {
  let loaded: KeyDirectory = { keys: new Map(), errors: [] }
  let activeId = options.configuredActiveId
  if (dir !== undefined) {
    try {
      loaded = loadKeyDirectory(dir, options.passphrase)
      activeId = readActiveKeyFile(dir) ?? options.configuredActiveId
    } catch (err) {
      if (err instanceof KeyLoadError) return { errors: [err] }
      throw err
    }
  }
  const keys = new Map<string, SigningKey>(loaded.keys)
  const errors = [...loaded.errors]
  for (const [id, kmsKey] of options.kmsKeys ?? []) {
    const file = loaded.keys.get(id)?.file
    if (file !== undefined) errors.push(new KeyLoadError('KEY_DUPLICATE_ID', file, `${id} is also a KMS key (keys.kms): the KMS key is used`))
    keys.set(id, kmsKey)
  }
  const keyCount = keys.size + loaded.errors.length
  if (keyCount === 0) return { errors: [new KeyLoadError('KEY_FILE_MISSING', dir ?? 'keys', 'no <KEY_ID>.pem file in the keys directory')] }
  if (activeId === undefined && keyCount > 1) {
    const ids = [...keys.keys(), ...loaded.errors.map((e) => basename(e.file).replace(/\.pem$/, ''))].sort().join(', ')
    return { errors: [...errors, new KeyLoadError('KEY_ACTIVE_UNSET', dir ?? 'keys.activeKeyId', `several keys (${ids}) and none named active: set keys.activeKeyId or an \`${ACTIVE_KEY_FILE}\` file`)] }
  }
  // A directory holding one key file (and no KMS key): that key is the active one.
  activeId ??= keys.size === 1 ? [...keys.keys()][0] : basename(loaded.errors[0].file).replace(/\.pem$/, '')
  const active = keys.get(activeId)
  if (active === undefined) {
    // A broken active key file already has its own error; a missing one gets one here.
    const broken = errors.some((e) => basename(e.file) === `${activeId}.pem`)
    const missing =
      dir === undefined
        ? new KeyLoadError('KEY_FILE_MISSING', 'keys.activeKeyId', `${activeId} is not one of keys.kms (and there is no keys directory)`)
        : new KeyLoadError('KEY_FILE_MISSING', join(dir, `${activeId}.pem`), 'the active key file is not in the keys directory, nor a keys.kms entry')
    return { errors: broken ? errors : [...errors, missing] }
  }
  return { set: { keys, active }, errors }
}

/**
 * A KMS key as the service holds it: its public key (GetPublicKey's DER SubjectPublicKeyInfo),
 * checked against what CloudFront accepts and the key spec KMS reported. Throws KeyLoadError
 * naming `entry` (e.g. `keys.kms[0] (K3KMSEXAMPLE01, alias/cf-signer)`).
 */
export function createKmsSigningKey(id: string, publicKeyDer: Uint8Array, reference: KmsKeyReference, createdMs: number, entry: string): KmsSigningKey {
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' })
  } catch {
    throw new KeyLoadError('KEY_INVALID', entry, 'KMS answered a public key that is not a DER SubjectPublicKeyInfo')
  }
  const details = publicKey.asymmetricKeyDetails ?? {}
  const algorithm: KeyAlgorithm | undefined =
    publicKey.asymmetricKeyType === 'rsa' && details.modulusLength === 2048 ? 'RSA' : publicKey.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1' ? 'ECDSA' : undefined
  if (algorithm === undefined || (algorithm === 'RSA') !== (reference.keySpec === 'RSA_2048')) {
    throw new KeyLoadError('KEY_UNSUPPORTED', entry, `KMS answered a public key that is not ${reference.keySpec}`)
  }
  return {
    kind: 'kms',
    id,
    algorithm,
    kms: reference,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex'),
    modifiedMs: createdMs,
  }
}

/**
 * A cheap summary of what the directory holds (names, resolved paths, times and sizes of the key
 * files and the `active` file): it changes whenever a reload could find something new, including
 * when Kubernetes swaps the `..data` link behind unchanged names.
 */
export function fingerprintKeyDirectory(dir: string): string {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`
  }
  return names
    .filter((name) => !name.startsWith('.') && (name.endsWith('.pem') || name === ACTIVE_KEY_FILE))
    .sort()
    .map((name) => {
      try {
        const real = realpathSync(join(dir, name))
        const stats = statSync(real)
        return `${name}>${real}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.size}`
      } catch (err) {
        return `${name}>missing:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`
      }
    })
    .join('\n')
}
