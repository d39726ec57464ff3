import { verify, type KeyObject } from 'node:crypto'
import type { HashAlgorithm } from './policy.js'
import { fromCloudFrontBase64 } from './policy.js'

/** Checks a CloudFront signature (CloudFront base64) over the exact policy JSON with a public key. */
export function verifyPolicySignature(policyJson: string, signature: string, publicKey: KeyObject, hashAlgorithm: HashAlgorithm): boolean {
  try {
    return verify(hashAlgorithm === 'SHA256' ? 'sha256' : 'sha1', Buffer.from(policyJson), publicKey, fromCloudFrontBase64(signature))
  } catch {
    return false
  }
}
