// The signatures KMS makes, over a message (MessageType RAW: KMS hashes it) or over a digest the caller made (DIGEST).
// node:crypto only signs what it hashes itself: a digest is signed for PKCS#1 v1.5 through privateEncrypt and its
// DigestInfo; PSS and ECDSA over a caller's digest would need padding and curve code by hand, so the emulator refuses them.
// https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
import { constants, privateEncrypt, publicDecrypt, sign as signMessage, timingSafeEqual, verify as verifyMessage, type KeyObject } from 'node:crypto'

type HashName = 'sha256' | 'sha384' | 'sha512'

export const SIGNING_ALGORITHMS = {
  RSASSA_PSS_SHA_256: { scheme: 'pss', hash: 'sha256' },
  RSASSA_PSS_SHA_384: { scheme: 'pss', hash: 'sha384' },
  RSASSA_PSS_SHA_512: { scheme: 'pss', hash: 'sha512' },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'pkcs1', hash: 'sha256' },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'pkcs1', hash: 'sha384' },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'pkcs1', hash: 'sha512' },
  ECDSA_SHA_256: { scheme: 'ecdsa', hash: 'sha256' },
} as const satisfies Record<string, { scheme: 'pss' | 'pkcs1' | 'ecdsa'; hash: HashName }>

export type SigningAlgorithm = keyof typeof SIGNING_ALGORITHMS

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && Object.hasOwn(SIGNING_ALGORITHMS, value)
}

const DIGEST_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 }

/** The digest length a DIGEST message must have for `algorithm`. */
export function digestLength(algorithm: SigningAlgorithm): number {
  return DIGEST_LENGTH[SIGNING_ALGORITHMS[algorithm].hash]
}

// DER DigestInfo prefixes from RFC 8017 §9.2, note 1.
const DIGEST_INFO_PREFIX: Record<HashName, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
}

/** Signs `message` (RAW) or `message` as a digest (DIGEST); ECDSA signatures are DER, as KMS returns them. */
export function signWithKey(algorithm: SigningAlgorithm, privateKey: KeyObject, message: Buffer, isDigest: boolean): Buffer {
  const { scheme, hash } = SIGNING_ALGORITHMS[algorithm]
  if (!isDigest) {
    return signMessage(hash, message, { key: privateKey, ...rsaOptions(scheme, hash), dsaEncoding: 'der' })
  }
  if (scheme !== 'pkcs1') throw new RangeError(`${algorithm} over a DIGEST`)
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_PREFIX[hash], message]))
}

/** Whether the emulator signs a caller's digest with `algorithm` (PKCS#1 v1.5 only). */
export function signsDigest(algorithm: SigningAlgorithm): boolean {
  return SIGNING_ALGORITHMS[algorithm].scheme === 'pkcs1'
}

export function verifyWithKey(algorithm: SigningAlgorithm, publicKey: KeyObject, message: Buffer, isDigest: boolean, signature: Buffer): boolean {
  const { scheme, hash } = SIGNING_ALGORITHMS[algorithm]
  try {
    if (!isDigest) return verifyMessage(hash, message, { key: publicKey, ...rsaOptions(scheme, hash), dsaEncoding: 'der' }, signature)
    if (scheme !== 'pkcs1') return false
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature)
    const expected = Buffer.concat([DIGEST_INFO_PREFIX[hash], message])
    return recovered.length === expected.length && timingSafeEqual(recovered, expected)
  } catch {
    // A signature of the wrong size or shape is simply not valid.
    return false
  }
}

function rsaOptions(scheme: string, hash: HashName) {
  // KMS's PSS salt is as long as the digest.
  return scheme === 'pss' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_LENGTH[hash] } : {}
}
