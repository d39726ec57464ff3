import { appError } from '../http/errors.js'
import type { SigningKey } from '../signing/keys.js'

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
