import { appError } from '../http/errors.js'
import type { SigningKey } from '../signing/keys.js'
import type { HashAlgorithm } from '../signing/policy.js'

/** The signing keys as the issuer sees them (the key store is one). */
export interface KeySource {
  active(): SigningKey
  get(id: string): SigningKey | undefined
}

/** The key that signs: the one asked for (any loaded key, legacy IDs included) or the active one. */
export function selectKey(keys: KeySource, keyId: string | undefined): SigningKey {
  if (keyId === undefined) return keys.active()
  const key = keys.get(keyId)
  if (key === undefined) throw appError('UNKNOWN_KEY', `no signing key with ID ${keyId} is loaded`)
  return key
}

/**
 * The hash a key signs with: the one asked for, else SHA1 for a file key (what CloudFront assumes
 * without Hash-Algorithm) and SHA256 for a KMS key, which cannot sign with SHA-1 at all.
 */
export function selectHashAlgorithm(key: SigningKey, requested: HashAlgorithm | undefined): HashAlgorithm {
  if (key.kind === 'file') return requested ?? 'SHA1'
  if (requested === 'SHA1') throw appError('KMS_REQUIRES_SHA256', `key ${key.id} is in AWS KMS, which signs with SHA-256 only: ask for SHA256 or leave hashAlgorithm out`)
  return 'SHA256'
}
