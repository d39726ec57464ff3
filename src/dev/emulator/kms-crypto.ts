// The signatures KMS makes, over a message (MessageType RAW: KMS hashes it) or over a digest the caller made (DIGEST).
// node:crypto only signs what it hashes itself, so a digest is signed one level down: RSA through privateEncrypt,
// ECDSA with P-256 arithmetic on BigInt (slower than OpenSSL, but only DIGEST calls take it).
// https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html
import {
  constants,
  createHash,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
  sign as signMessage,
  timingSafeEqual,
  verify as verifyMessage,
  type KeyObject,
} from 'node:crypto'

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
  switch (scheme) {
    case 'pkcs1':
      return rsaPrivate(privateKey, Buffer.concat([DIGEST_INFO_PREFIX[hash], message]), constants.RSA_PKCS1_PADDING)
    case 'pss':
      return rsaPrivate(privateKey, encodePss(message, hash, modulusBits(privateKey) - 1), constants.RSA_NO_PADDING)
    case 'ecdsa':
      return signP256Digest(privateKey, message)
  }
}

export function verifyWithKey(algorithm: SigningAlgorithm, publicKey: KeyObject, message: Buffer, isDigest: boolean, signature: Buffer): boolean {
  const { scheme, hash } = SIGNING_ALGORITHMS[algorithm]
  try {
    if (!isDigest) return verifyMessage(hash, message, { key: publicKey, ...rsaOptions(scheme, hash), dsaEncoding: 'der' }, signature)
    switch (scheme) {
      case 'pkcs1':
        return equalBytes(rsaPublic(publicKey, signature, constants.RSA_PKCS1_PADDING), Buffer.concat([DIGEST_INFO_PREFIX[hash], message]))
      case 'pss':
        return verifyPss(message, hash, rsaPublic(publicKey, signature, constants.RSA_NO_PADDING), modulusBits(publicKey) - 1)
      case 'ecdsa':
        return verifyP256Digest(publicKey, message, signature)
    }
  } catch {
    // A signature of the wrong size or shape is simply not valid.
    return false
  }
}

function rsaOptions(scheme: string, hash: HashName) {
  // KMS's PSS salt is as long as the digest.
  return scheme === 'pss' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_LENGTH[hash] } : {}
}

function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 2048
}

function rsaPrivate(key: KeyObject, data: Buffer, padding: number): Buffer {
  return privateEncrypt({ key, padding }, data)
}

function rsaPublic(key: KeyObject, data: Buffer, padding: number): Buffer {
  return publicDecrypt({ key, padding }, data)
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

function mgf1(seed: Buffer, length: number, hash: HashName): Buffer {
  const blocks: Buffer[] = []
  for (let counter = 0; blocks.length * DIGEST_LENGTH[hash] < length; counter += 1) {
    const suffix = Buffer.alloc(4)
    suffix.writeUInt32BE(counter)
    blocks.push(createHash(hash).update(seed).update(suffix).digest())
  }
  return Buffer.concat(blocks).subarray(0, length)
}

/** EMSA-PSS-ENCODE, RFC 8017 §9.1.1, salt as long as the digest; padded to the modulus for raw RSA. */
function encodePss(digest: Buffer, hash: HashName, emBits: number): Buffer {
  const hashLength = DIGEST_LENGTH[hash]
  const emLength = Math.ceil(emBits / 8)
  const salt = randomBytes(hashLength)
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest()
  const db = Buffer.concat([Buffer.alloc(emLength - 2 * hashLength - 2), Buffer.from([1]), salt])
  const mask = mgf1(h, db.length, hash)
  for (let index = 0; index < db.length; index += 1) db[index]! ^= mask[index]!
  db[0]! &= 0xff >> (8 * emLength - emBits)
  const encoded = Buffer.concat([db, h, Buffer.from([0xbc])])
  return Buffer.concat([Buffer.alloc(Math.ceil((emBits + 1) / 8) - emLength), encoded])
}

/** EMSA-PSS-VERIFY, RFC 8017 §9.1.2, over the raw RSA output. */
function verifyPss(digest: Buffer, hash: HashName, raw: Buffer, emBits: number): boolean {
  const hashLength = DIGEST_LENGTH[hash]
  const emLength = Math.ceil(emBits / 8)
  const encoded = raw.subarray(raw.length - emLength)
  if (raw.subarray(0, raw.length - emLength).some((byte) => byte !== 0) || encoded[emLength - 1] !== 0xbc) return false
  const maskedDb = Buffer.from(encoded.subarray(0, emLength - hashLength - 1))
  const h = encoded.subarray(emLength - hashLength - 1, emLength - 1)
  const topMask = 0xff >> (8 * emLength - emBits)
  if ((maskedDb[0]! & ~topMask) !== 0) return false
  const mask = mgf1(h, maskedDb.length, hash)
  for (let index = 0; index < maskedDb.length; index += 1) maskedDb[index]! ^= mask[index]!
  maskedDb[0]! &= topMask
  const separator = emLength - 2 * hashLength - 2
  if (maskedDb.subarray(0, separator).some((byte) => byte !== 0) || maskedDb[separator] !== 1) return false
  const salt = maskedDb.subarray(separator + 1)
  return equalBytes(h, createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest())
}

// P-256 (FIPS 186-4 D.1.2.3); sums in Jacobian coordinates (one inversion per product), a point at infinity is undefined.
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
}

interface Point {
  x: bigint
  y: bigint
}

interface Jacobian {
  x: bigint
  y: bigint
  z: bigint
}

const mod = (value: bigint, modulus: bigint) => ((value % modulus) + modulus) % modulus

function invert(value: bigint, modulus: bigint): bigint {
  let [low, high] = [mod(value, modulus), modulus]
  let [lowCoefficient, highCoefficient] = [1n, 0n]
  while (low > 1n) {
    const quotient = high / low
    ;[low, high] = [high - quotient * low, low]
    ;[lowCoefficient, highCoefficient] = [highCoefficient - quotient * lowCoefficient, lowCoefficient]
  }
  return mod(lowCoefficient, modulus)
}

// https://hyperelliptic.org/EFD/g1p/auto-shortw-jacobian-3.html#doubling-dbl-2001-b
function doublePoint(p: Jacobian | undefined): Jacobian | undefined {
  if (p === undefined || p.y === 0n) return undefined
  const delta = mod(p.z * p.z, P)
  const gamma = mod(p.y * p.y, P)
  const beta = mod(p.x * gamma, P)
  const alpha = mod(3n * (p.x - delta) * (p.x + delta), P)
  const x = mod(alpha * alpha - 8n * beta, P)
  const z = mod((p.y + p.z) ** 2n - gamma - delta, P)
  return { x, y: mod(alpha * (4n * beta - x) - 8n * gamma * gamma, P), z }
}

// https://hyperelliptic.org/EFD/g1p/auto-shortw-jacobian-3.html#addition-add-2007-bl
function addPoints(p: Jacobian | undefined, q: Jacobian | undefined): Jacobian | undefined {
  if (p === undefined) return q
  if (q === undefined) return p
  const pz2 = mod(p.z * p.z, P)
  const qz2 = mod(q.z * q.z, P)
  const u1 = mod(p.x * qz2, P)
  const u2 = mod(q.x * pz2, P)
  const s1 = mod(p.y * q.z * qz2, P)
  const s2 = mod(q.y * p.z * pz2, P)
  if (u1 === u2) return s1 === s2 ? doublePoint(p) : undefined
  const h = mod(u2 - u1, P)
  const i = mod(4n * h * h, P)
  const j = mod(h * i, P)
  const r = mod(2n * (s2 - s1), P)
  const v = mod(u1 * i, P)
  const x = mod(r * r - j - 2n * v, P)
  return { x, y: mod(r * (v - x) - 2n * s1 * j, P), z: mod(((p.z + q.z) ** 2n - pz2 - qz2) * h, P) }
}

function toAffine(point: Jacobian | undefined): Point | undefined {
  if (point === undefined) return undefined
  const zInverse = invert(point.z, P)
  return { x: mod(point.x * zInverse * zInverse, P), y: mod(point.y * zInverse ** 3n, P) }
}

/** u·A + v·B (Shamir's trick), or u·A alone. */
function multiply(u: bigint, a: Point, v = 0n, b?: Point): Point | undefined {
  const aj: Jacobian = { ...a, z: 1n }
  const bj: Jacobian | undefined = b === undefined ? undefined : { ...b, z: 1n }
  const both = addPoints(aj, bj)
  let result: Jacobian | undefined
  for (let bit = BigInt(Math.max(u.toString(2).length, v.toString(2).length) - 1); bit >= 0n; bit -= 1n) {
    result = doublePoint(result)
    const fromU = (u >> bit) & 1n
    const fromV = (v >> bit) & 1n
    if (fromU && fromV) result = addPoints(result, both)
    else if (fromU) result = addPoints(result, aj)
    else if (fromV) result = addPoints(result, bj)
  }
  return toAffine(result)
}

const toBigInt = (bytes: Buffer) => BigInt(`0x${bytes.toString('hex') || '0'}`)
const fromJwk = (value: string | undefined) => toBigInt(Buffer.from(value ?? '', 'base64url'))

function signP256Digest(privateKey: KeyObject, digest: Buffer): Buffer {
  const d = fromJwk(privateKey.export({ format: 'jwk' }).d)
  const z = toBigInt(digest)
  for (;;) {
    const k = mod(toBigInt(randomBytes(40)), N - 1n) + 1n
    const r = mod(multiply(k, G)!.x, N)
    const s = mod(invert(k, N) * (z + r * d), N)
    if (r !== 0n && s !== 0n) return encodeDerSignature(r, s)
  }
}

function verifyP256Digest(publicKey: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const jwk = publicKey.export({ format: 'jwk' })
  const q: Point = { x: fromJwk(jwk.x), y: fromJwk(jwk.y) }
  const decoded = decodeDerSignature(signature)
  if (decoded === undefined) return false
  const { r, s } = decoded
  if (r < 1n || r >= N || s < 1n || s >= N) return false
  const w = invert(s, N)
  const point = multiply(mod(toBigInt(digest) * w, N), G, mod(r * w, N), q)
  return point !== undefined && mod(point.x, N) === r
}

function encodeDerInteger(value: bigint): Buffer {
  let bytes = Buffer.from(value.toString(16).padStart(2, '0').replace(/^(.(..)*)$/, '0$1'), 'hex')
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes])
}

function encodeDerSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([encodeDerInteger(r), encodeDerInteger(s)])
  return Buffer.concat([Buffer.from([0x30, body.length]), body])
}

/** SEQUENCE { INTEGER r, INTEGER s } with short lengths, which every P-256 signature has. */
function decodeDerSignature(signature: Buffer): { r: bigint; s: bigint } | undefined {
  if (signature[0] !== 0x30 || signature[1] !== signature.length - 2) return undefined
  const integers: bigint[] = []
  let offset = 2
  while (offset < signature.length) {
    const length = signature[offset + 1] ?? 0
    if (signature[offset] !== 0x02 || length === 0 || offset + 2 + length > signature.length) return undefined
    integers.push(toBigInt(signature.subarray(offset + 2, offset + 2 + length)))
    offset += 2 + length
  }
  const [r, s] = integers
  return integers.length === 2 && r !== undefined && s !== undefined ? { r, s } : undefined
}
