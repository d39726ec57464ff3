import { getSignedCookies } from '@aws-sdk/cloudfront-signer'
import type { HashAlgorithm, Policy } from './policy.js'
import { toCloudFrontBase64 } from './policy.js'
import { appendQuery } from './resource.js'
import type { FileSigningKey } from './keys.js'

/** A policy with its signature: everything CloudFront needs besides the resource itself. */
export interface SignedPolicy {
  policy: Policy
  keyId: string
  hashAlgorithm: HashAlgorithm
  signature: string
}

/**
 * Signs the exact policy JSON with @aws-sdk/cloudfront-signer (RSA PKCS#1 v1.5 or ECDSA, SHA-1 or
 * SHA-256, CloudFront base64). The signer is handed the policy, never a URL: assembling URLs here
 * keeps the signed resource and the returned URL identical by construction, whatever URL-encoding
 * changes the library makes between versions.
 */
export function signPolicy(policyJson: string, key: Pick<FileSigningKey, 'id' | 'privateKey'>, hashAlgorithm: HashAlgorithm): string {
  const cookies = getSignedCookies({
    policy: policyJson,
    keyPairId: key.id,
    // A KeyObject, not the documented PEM string: the SDK hands it to node:crypto as is, and a string is re-parsed per call (README, Performance).
    privateKey: key.privateKey as unknown as Buffer,
    algorithm: hashAlgorithm,
  })
  return cookies['CloudFront-Signature']
}

/** The signing parameters in botocore's order: Expires or Policy, Signature, Key-Pair-Id[, Hash-Algorithm]. */
export function signingParams(signed: SignedPolicy): Array<[string, string]> {
  const params: Array<[string, string]> =
    signed.policy.type === 'canned'
      ? [['Expires', String(signed.policy.conditions.expires)]]
      : [['Policy', toCloudFrontBase64(signed.policy.json)]]
  params.push(['Signature', signed.signature], ['Key-Pair-Id', signed.keyId])
  if (signed.hashAlgorithm === 'SHA256') params.push(['Hash-Algorithm', 'SHA256'])
  return params
}

/** The signed URL: the exact URL that was the policy's resource (or is covered by it) plus the signing parameters. */
export function buildSignedUrl(url: string, signed: SignedPolicy): string {
  return appendQuery(url, signingParams(signed).map(([name, value]) => `${name}=${value}`).join('&'))
}

export type SignedCookies = Record<string, string>

/** Cookie names and values: CloudFront-Expires (canned) or CloudFront-Policy, -Signature, -Key-Pair-Id[, -Hash-Algorithm]. */
export function buildSignedCookies(signed: SignedPolicy): SignedCookies {
  return Object.fromEntries(signingParams(signed).map(([name, value]) => [`CloudFront-${name}`, value]))
}

/**
 * An RTMP stream name with its signing parameters, plain and escaped for Flash players that mangle
 * query strings (only `?`, `=` and `&` become `%3F`, `%3D`, `%26`).
 */
export function buildSignedStream(streamName: string, signed: SignedPolicy): { stream: string; streamEscaped: string } {
  const stream = buildSignedUrl(streamName, signed)
  const streamEscaped = stream.replace(/[?=&]/g, (c) => (c === '?' ? '%3F' : c === '=' ? '%3D' : '%26'))
  return { stream, streamEscaped }
}
