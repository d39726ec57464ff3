import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { VECTORS_DIR } from './keys.js'

/** One reference signer's output (test/fixtures/vectors/signed-urls.json): the fields the tests read. */
export interface SignedUrlVector {
  id: string
  kind: 'url' | 'rtmp'
  policy_type: 'canned' | 'custom'
  key_pair_id: string
  date_less_than: number
  date_greater_than: number | null
  ip_address: string | null
  hash_algorithm: 'SHA1' | 'SHA256'
  policy_resource: string | null
  url?: string
  stream?: string
  signer: string
  signed_url: string
  signed_stream_flash_escaped?: string
  policy: string
  signature: string
  deterministic?: boolean
  /** The policy type the signer emitted, where it differs from the one asked for. */
  emitted_policy_type?: 'canned' | 'custom'
  differences_from_reference?: string[]
  /** The reference verifier's judgement of this vector, check by check, at this time and viewer address. */
  verify_at: number
  verify_ip: string
  checks: Record<string, ReferenceCheck>
}

export interface ReferenceCheck {
  verdict: 'ACCEPT' | 'REJECT'
  reason: string | null
  detail?: string
}

export const SIGNED_URL_VECTORS = JSON.parse(readFileSync(join(VECTORS_DIR, 'signed-urls.json'), 'utf8')) as Record<
  'vectors' | 'divergent' | 'single_signer',
  SignedUrlVector[]
>

const publicKeyFiles = JSON.parse(readFileSync(join(VECTORS_DIR, 'keys.json'), 'utf8')) as Record<string, string>

/** A published test key's public half, read from the fixtures (not through the service's key store). */
export function vectorPublicKey(keyId: string): KeyObject {
  return createPublicKey(readFileSync(join(VECTORS_DIR, publicKeyFiles[keyId])))
}

/** Checks a CloudFront signature with node:crypto alone: the code under test plays no part. */
export function verifyWithNodeCrypto(policyJson: string, signature: string, publicKey: KeyObject, hashAlgorithm: 'SHA1' | 'SHA256'): boolean {
  const standard = signature.replaceAll('-', '+').replaceAll('_', '=').replaceAll('~', '/')
  return verify(hashAlgorithm, Buffer.from(policyJson), publicKey, Buffer.from(standard, 'base64'))
}
