// The edge token: `v1.<base64url JSON payload>.<base64url HMAC-SHA256 over "v1.<payload>">`, read at the edge by the
// viewer-request function (function-source.ts). This file is the reference: it makes tokens and verifies them the
// way the function does, with the same deny reasons. No clock: `now` is a parameter (epoch seconds).
import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto'
import { CodedError } from '../signing/errors.js'

export const EDGE_TOKEN_VERSION = 'v1'
/** The query parameter that carries the token inside a signed URL or query. */
export const EDGE_TOKEN_PARAMETER = 'cf-edge'
/** The cookie that carries the token beside the CloudFront-* cookies of a cookie grant. */
export const EDGE_TOKEN_COOKIE = 'CloudFront-Edge'
/** The response header a denial's reason travels in. */
export const EDGE_DENY_HEADER = 'x-edge-deny'
/** KeyValueStore key prefixes the function reads: HMAC key secrets, revoked grants, revoked subjects. */
export const EDGE_KVS_KEY_PREFIX = 'hmac:'
export const EDGE_KVS_REVOKED_GRANT_PREFIX = 'revoked:g:'
export const EDGE_KVS_REVOKED_SUB_PREFIX = 'revoked:s:'

export const MAX_EDGE_TOKEN_LENGTH = 2048
export const MAX_REFERRER_PATTERNS = 10
export const MAX_COUNTRIES = 50
export const MAX_IP_RANGES = 10
/** Characters of the base64url SHA-256 of `sub` a token carries (128 bits). */
export const SUB_HASH_LENGTH = 22
/** Characters of the base64url SHA-256 of the CloudFront signature a bound token carries (128 bits). */
export const BINDING_LENGTH = 22
/** The query parameter and the cookie a bound token's signature is read from, in that order. */
export const SIGNATURE_PARAMETER = 'Signature'
export const SIGNATURE_COOKIE = 'CloudFront-Signature'
/**
 * The query parameters a token's `n` does not count: CloudFront's signing parameters as it reads them (exact,
 * case-sensitive). `Expires` is not among them: a custom-policy URL has none, so an added one counts.
 */
export const UNCOUNTED_QUERY_PARAMETERS = ['Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'] as const
/** Bounds of `n`, the number of query values a request may carry besides the signing parameters. */
export const MIN_QUERY_VALUE_COUNT = 1
export const MAX_QUERY_VALUE_COUNT = 100
// CloudFront's signatures are base64 with + = / as - _ ~; bounded so hashing caller input stays cheap.
const MAX_SIGNATURE_LENGTH = 4096
const SIGNATURE_PATTERN = /^[A-Za-z0-9~_-]+$/
/** Revocation values in the KeyValueStore: `{"t":<revokedAt>,"x":<removeAfter>,"r":"<reason>"?}` (epoch seconds). */
export const MAX_REVOCATION_REASON_LENGTH = 200
/** CloudFront KeyValueStore values are at most 1 KB. */
export const MAX_REVOCATION_VALUE_BYTES = 1024
export const MIN_SECRET_LENGTH = 32
const MAX_SECRET_LENGTH = 256

const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,16}$/
const SECRET_PATTERN = /^[A-Za-z0-9_-]+$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
const SUB_HASH_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${SUB_HASH_LENGTH}}$`)
const BINDING_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${BINDING_LENGTH}}$`)
// A host, or `*.` and a host: the function matches the referrer's host exactly or by suffix.
export const REFERRER_PATTERN = /^(\*\.)?(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/
export const COUNTRY_PATTERN = /^[A-Z]{2}$/

/** Why a token is refused; the function answers 403 with the same word in `x-edge-deny`. */
export const EDGE_DENY_REASONS = [
  'missing',
  'malformed',
  'version',
  'key',
  'signature',
  'expired',
  'binding',
  'query',
  'revoked-grant',
  'revoked-sub',
  'referrer',
  'country',
  'ip',
] as const
export type EdgeDenyReason = (typeof EDGE_DENY_REASONS)[number]

export type EdgeTokenErrorCode = 'EDGE_TOKEN_INVALID_PAYLOAD' | 'EDGE_TOKEN_INVALID_KEY' | 'EDGE_TOKEN_TOO_LONG'

/** The viewer rules a token may carry; each is optional and an absent rule allows everything. */
export interface EdgeViewerRules {
  /** Host patterns the Referer must match (`example.com`, `*.example.com`). */
  referrers?: readonly string[]
  /** With `referrers`: a request without a Referer is allowed too. */
  allowEmptyReferrer?: boolean
  /**
   * ISO 3166-1 alpha-2 codes compared with CloudFront-Viewer-Country: outside `allow` or inside `deny` is refused;
   * a request without the header fails an allow list and passes a deny list.
   */
  countries?: { allow?: readonly string[]; deny?: readonly string[] }
  /** IPv4 or IPv6 CIDRs the viewer's address must fall in. */
  ipRanges?: readonly string[]
}

export interface EdgeTokenInput extends EdgeViewerRules {
  grantId: string
  /** The caller's `sub`; only its truncated hash goes in the token. */
  sub: string
  /** Epoch seconds; a subject revocation at `t` denies tokens issued at or before `t`. */
  issuedAt: number
  /** Epoch seconds. */
  expires: number
  /** The CloudFront `Signature` value the token travels with; only its truncated hash goes in the token. */
  binding?: string
  /**
   * The exact number of query values the request may carry besides the signing parameters (countQueryValues), for a
   * URL signed with a `cf-edge=*` resource: CloudFront's `*` would also match parameters appended after the token.
   */
  queryValueCount?: number
}

export interface EdgeKey {
  /** Names the secret in the KeyValueStore (`hmac:<id>`). */
  id: string
  /** base64url characters, used as the HMAC key's UTF-8 bytes, as the function does. */
  secret: string
}

/** The payload as it travels: short names keep URLs short. */
export interface EdgeTokenPayload {
  k: string
  g: string
  s: string
  i: number
  e: number
  b?: string
  n?: number
  r?: string[]
  re?: 1
  ca?: string[]
  cd?: string[]
  ip?: string[]
}

export interface EdgeViewer {
  /** The Referer header, absent when the request had none. */
  referer?: string
  /** CloudFront-Viewer-Country. */
  country?: string
  /** The viewer's address (`event.viewer.ip`). */
  ip: string
  /** The `Signature` query parameter, else the CloudFront-Signature cookie: what a bound token is checked against. */
  signature?: string
  /** The request's query values besides the signing parameters (countQueryValues); checked against a token's `n`. */
  queryValueCount?: number
  /** The request's path (`event.request.uri`): a token with `n` refuses one holding `cf-edge=` (isEdgeTokenInPath). */
  uri?: string
}

export type EdgeVerdict = { allowed: true; payload: EdgeTokenPayload } | { allowed: false; reason: EdgeDenyReason }

export interface EdgeRevocations {
  isGrantRevoked(grantId: string): boolean
  /** When the subject was revoked (the value's `t`); tokens with `i <= t` are denied. */
  subjectRevokedAt(subHash: string): number | undefined
}

export const NO_REVOCATIONS: EdgeRevocations = { isGrantRevoked: () => false, subjectRevokedAt: () => undefined }

/** A revocation's KeyValueStore value. */
export interface RevocationValue {
  /** Revoked at, epoch seconds. */
  t: number
  /** Remove the key after, epoch seconds (once every token it could deny has expired). */
  x: number
  /** Why, for people reading the store. */
  r?: string
}

function invalid(message: string): CodedError<EdgeTokenErrorCode> {
  return new CodedError('EDGE_TOKEN_INVALID_PAYLOAD', message)
}

/** The `s` field: the first 22 base64url characters of SHA-256(sub); revocations by subject are keyed by it. */
// A caller signs grant after grant: its hash is kept for the next one.
let lastSubject: { sub: string; hash: string } | undefined

export function hashSubject(sub: string): string {
  if (sub !== lastSubject?.sub) lastSubject = { sub, hash: hash('sha256', sub, 'base64url').slice(0, SUB_HASH_LENGTH) }
  return lastSubject.hash
}

/** The `b` field: the first 22 base64url characters of SHA-256 of the CloudFront `Signature` value. */
export function bindingHash(signature: string): string {
  return hash('sha256', signature, 'base64url').slice(0, BINDING_LENGTH)
}

const isEpoch = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0
const isQueryValueCount = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= MIN_QUERY_VALUE_COUNT && (value as number) <= MAX_QUERY_VALUE_COUNT

/** A query-string value as a CloudFront Function sees it: `multiValue` holds every value when the name repeats. */
export interface FunctionQueryValue {
  value: string
  multiValue?: readonly { value: string }[]
}

/**
 * Query values besides UNCOUNTED_QUERY_PARAMETERS, each repetition of a name counted, the way the function counts
 * `event.request.querystring`. URLSearchParams (names decoded, as CloudFront hands them to the function) or the
 * function's own shape.
 */
/**
 * Whether a path holds `cf-edge=` (or its encoded `=`): an exact grant's resource ends `?cf-edge=*`, and CloudFront's
 * `?` wildcard matches any one character, so `/a.mp4/cf-edge=…` would match it with the token's `*` reaching into the path.
 */
export function isEdgeTokenInPath(path: string): boolean {
  const lower = path.toLowerCase()
  return lower.includes(`${EDGE_TOKEN_PARAMETER}=`) || lower.includes(`${EDGE_TOKEN_PARAMETER}%3d`)
}

export function countQueryValues(query: URLSearchParams | Readonly<Record<string, FunctionQueryValue>>): number {
  const uncounted = (name: string) => (UNCOUNTED_QUERY_PARAMETERS as readonly string[]).includes(name)
  let count = 0
  if (query instanceof URLSearchParams) {
    for (const name of query.keys()) if (!uncounted(name)) count += 1
    return count
  }
  for (const [name, entry] of Object.entries(query)) if (!uncounted(name)) count += entry.multiValue?.length ?? 1
  return count
}

export function formatRevocationValue(value: RevocationValue): string {
  if (!isEpoch(value.t) || !isEpoch(value.x)) throw invalid('a revocation\'s t and x are epoch seconds')
  if (value.r !== undefined && value.r.length > MAX_REVOCATION_REASON_LENGTH) {
    throw invalid(`a revocation's reason is at most ${MAX_REVOCATION_REASON_LENGTH} characters`)
  }
  return JSON.stringify({ t: value.t, x: value.x, ...(value.r !== undefined && { r: value.r }) })
}

/** The value as written by formatRevocationValue, undefined when it is not one. */
export function parseRevocationValue(json: string): RevocationValue | undefined {
  if (json.length > MAX_REVOCATION_VALUE_BYTES) return undefined
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const { t, x, r } = value as Record<string, unknown>
  if (!isEpoch(t) || !isEpoch(x)) return undefined
  if (r !== undefined && (typeof r !== 'string' || r.length > MAX_REVOCATION_REASON_LENGTH)) return undefined
  return { t, x, ...(r !== undefined && { r }) }
}

/**
 * The `t` the function reads from a subject's revocation value (`undefined` value: not revoked). A value it cannot
 * read revokes every token of the subject, as in the function: Infinity.
 */
export function revokedAtOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  try {
    const t: unknown = (JSON.parse(value) as { t?: unknown }).t
    return typeof t === 'number' ? t : Number.POSITIVE_INFINITY
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** Revocations as the function reads them from KeyValueStore entries (`lookup` answers a key's value or undefined). */
export function revocationsFromStore(lookup: (key: string) => string | undefined): EdgeRevocations {
  return {
    isGrantRevoked: (grantId) => lookup(EDGE_KVS_REVOKED_GRANT_PREFIX + grantId) !== undefined,
    subjectRevokedAt: (subHash) => revokedAtOf(lookup(EDGE_KVS_REVOKED_SUB_PREFIX + subHash)),
  }
}

export function checkEdgeKey(key: EdgeKey): void {
  if (!KEY_ID_PATTERN.test(key.id)) throw new CodedError('EDGE_TOKEN_INVALID_KEY', 'an edge key id is 1 to 16 characters of A-Z a-z 0-9 _ -')
  if (key.secret.length < MIN_SECRET_LENGTH || key.secret.length > MAX_SECRET_LENGTH || !SECRET_PATTERN.test(key.secret)) {
    throw new CodedError('EDGE_TOKEN_INVALID_KEY', `an edge key secret is ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} base64url characters`)
  }
}

function checkList(name: string, values: readonly string[] | undefined, max: number, valid: (value: string) => boolean): void {
  if (values === undefined) return
  if (values.length === 0 || values.length > max) throw invalid(`${name} has 1 to ${max} entries`)
  const bad = values.find((value) => !valid(value))
  if (bad !== undefined) throw invalid(`${name} has an invalid entry: ${JSON.stringify(bad.slice(0, 64))}`)
}

export const isReferrerPattern = (value: string): boolean => REFERRER_PATTERN.test(value)
export const isCountryCode = (value: string): boolean => COUNTRY_PATTERN.test(value)

export function isCidr(value: string): boolean {
  const slash = value.indexOf('/')
  if (slash < 0) return false
  const bits = value.slice(slash + 1)
  if (!/^\d{1,3}$/.test(bits)) return false
  const address = parseAddress(value.slice(0, slash))
  return address !== undefined && Number(bits) <= address.length * 8
}

/** Builds the payload from the caller-facing input, refusing anything the function could not read. */
export function buildEdgePayload(input: EdgeTokenInput, keyId: string): EdgeTokenPayload {
  if (!ID_PATTERN.test(input.grantId)) throw invalid('grantId is 1 to 32 characters of A-Z a-z 0-9 _ -')
  if (input.sub === '') throw invalid('sub is empty')
  if (!isEpoch(input.issuedAt)) throw invalid('issuedAt is epoch seconds')
  if (!Number.isSafeInteger(input.expires) || input.expires <= 0) throw invalid('expires is positive epoch seconds')
  if (input.binding !== undefined && (input.binding.length > MAX_SIGNATURE_LENGTH || !SIGNATURE_PATTERN.test(input.binding))) {
    throw invalid('binding is a CloudFront Signature value')
  }
  if (input.queryValueCount !== undefined && !isQueryValueCount(input.queryValueCount)) {
    throw invalid(`queryValueCount is an integer from ${MIN_QUERY_VALUE_COUNT} to ${MAX_QUERY_VALUE_COUNT}`)
  }
  checkList('referrers', input.referrers, MAX_REFERRER_PATTERNS, isReferrerPattern)
  checkList('countries.allow', input.countries?.allow, MAX_COUNTRIES, isCountryCode)
  checkList('countries.deny', input.countries?.deny, MAX_COUNTRIES, isCountryCode)
  checkList('ipRanges', input.ipRanges, MAX_IP_RANGES, isCidr)
  if (input.allowEmptyReferrer === true && input.referrers === undefined) throw invalid('allowEmptyReferrer needs referrers')
  const { allow, deny } = input.countries ?? {}
  return {
    k: keyId,
    g: input.grantId,
    s: hashSubject(input.sub),
    i: input.issuedAt,
    e: input.expires,
    ...(input.binding !== undefined && { b: bindingHash(input.binding) }),
    ...(input.queryValueCount !== undefined && { n: input.queryValueCount }),
    ...(input.referrers !== undefined && { r: [...input.referrers] }),
    ...(input.allowEmptyReferrer === true && { re: 1 as const }),
    ...(allow !== undefined && { ca: [...allow] }),
    ...(deny !== undefined && { cd: [...deny] }),
    ...(input.ipRanges !== undefined && { ip: [...input.ipRanges] }),
  }
}

function sign(body: string, secret: string | KeyObject): string {
  return createHmac('sha256', typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret).update(body, 'utf8').digest('base64url')
}

// A key checked once and its HMAC key object made once: the configured keys sign every edge grant.
const preparedKeys = new WeakMap<EdgeKey, KeyObject>()

function prepare(key: EdgeKey): KeyObject {
  let prepared = preparedKeys.get(key)
  if (prepared === undefined) {
    checkEdgeKey(key)
    prepared = createSecretKey(Buffer.from(key.secret, 'utf8'))
    preparedKeys.set(key, prepared)
  }
  return prepared
}

export function createEdgeToken(input: EdgeTokenInput, key: EdgeKey): string {
  const secret = prepare(key)
  const payload = buildEdgePayload(input, key.id)
  const body = `${EDGE_TOKEN_VERSION}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`
  const token = `${body}.${sign(body, secret)}`
  if (token.length > MAX_EDGE_TOKEN_LENGTH) {
    throw new CodedError('EDGE_TOKEN_TOO_LONG', `the edge token is ${token.length} characters, over ${MAX_EDGE_TOKEN_LENGTH}: fewer rules`)
  }
  return token
}

function isPayload(value: unknown): value is EdgeTokenPayload {
  if (typeof value !== 'object' || value === null) return false
  const payload = value as Record<string, unknown>
  const strings = (field: unknown) => field === undefined || (Array.isArray(field) && field.every((item) => typeof item === 'string'))
  return (
    typeof payload.k === 'string' &&
    typeof payload.g === 'string' &&
    typeof payload.s === 'string' &&
    SUB_HASH_PATTERN.test(payload.s) &&
    isEpoch(payload.i) &&
    typeof payload.e === 'number' &&
    (payload.b === undefined || (typeof payload.b === 'string' && BINDING_PATTERN.test(payload.b))) &&
    (payload.n === undefined || isQueryValueCount(payload.n)) &&
    strings(payload.r) &&
    strings(payload.ca) &&
    strings(payload.cd) &&
    strings(payload.ip)
  )
}

/** The payload of a token of this version, unverified (it holds no secret): for explaining a verdict, never for one. */
export function decodeEdgePayload(token: string | undefined): EdgeTokenPayload | undefined {
  const parts = token === undefined || token.length > MAX_EDGE_TOKEN_LENGTH ? [] : token.split('.')
  if (parts.length !== 3 || parts[0] !== EDGE_TOKEN_VERSION || !BASE64URL.test(parts[1] ?? '')) return undefined
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'))
    return isPayload(payload) ? payload : undefined
  } catch {
    return undefined
  }
}

/**
 * Reads a token the way the function does: shape, version, key, signature, expiry, binding, query count, revocations, then the
 * viewer rules. `keys` are the secrets by id (two during a rotation).
 */
export function verifyEdgeToken(
  token: string | undefined,
  keys: ReadonlyMap<string, string>,
  viewer: EdgeViewer,
  now: number,
  revocations: EdgeRevocations = NO_REVOCATIONS,
): EdgeVerdict {
  const deny = (reason: EdgeDenyReason): EdgeVerdict => ({ allowed: false, reason })
  if (token === undefined || token === '') return deny('missing')
  const parts = token.split('.')
  if (token.length > MAX_EDGE_TOKEN_LENGTH || parts.length !== 3) return deny('malformed')
  const [version = '', encoded = '', signature = ''] = parts
  if (version !== EDGE_TOKEN_VERSION) return deny('version')
  // Buffer skips characters outside the alphabet; the function refuses them.
  if (!BASE64URL.test(encoded)) return deny('malformed')
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  } catch {
    return deny('malformed')
  }
  if (!isPayload(payload)) return deny('malformed')
  const secret = keys.get(payload.k)
  if (secret === undefined) return deny('key')
  const expected = Buffer.from(sign(`${version}.${encoded}`, secret))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return deny('signature')
  if (payload.e <= now) return deny('expired')
  if (payload.b !== undefined && (viewer.signature === undefined || viewer.signature === '' || bindingHash(viewer.signature) !== payload.b)) {
    return deny('binding')
  }
  // Fails closed: a viewer whose query was not counted does not pass a token that counts.
  if (payload.n !== undefined && (viewer.queryValueCount !== payload.n || isEdgeTokenInPath(viewer.uri ?? ''))) return deny('query')
  if (revocations.isGrantRevoked(payload.g)) return deny('revoked-grant')
  const revokedAt = revocations.subjectRevokedAt(payload.s)
  if (revokedAt !== undefined && payload.i <= revokedAt) return deny('revoked-sub')
  if (payload.r !== undefined && !referrerAllowed(payload.r, payload.re === 1, viewer.referer)) return deny('referrer')
  const country = (viewer.country ?? '').toUpperCase()
  if (payload.ca !== undefined && !payload.ca.includes(country)) return deny('country')
  if (payload.cd !== undefined && payload.cd.includes(country)) return deny('country')
  if (payload.ip !== undefined && !payload.ip.some((range) => inRange(viewer.ip, range))) return deny('ip')
  return { allowed: true, payload }
}

function referrerAllowed(patterns: readonly string[], allowEmpty: boolean, referer: string | undefined): boolean {
  if (referer === undefined || referer === '') return allowEmpty
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]+)/i.exec(referer)
  if (match === null) return false
  const host = (match[1] ?? '').toLowerCase()
  return patterns.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern))
}

/** Bytes of an IPv4 or IPv6 address (IPv4-mapped IPv6 stays 16 bytes), undefined when it is neither. */
export function parseAddress(text: string): number[] | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const bytes = text.split('.').map(Number)
    return bytes.every((byte) => byte <= 255) ? bytes : undefined
  }
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(text)) return undefined
  let groups = text
  let tail: number[] = []
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':')
    const v4 = parseAddress(text.slice(lastColon + 1))
    if (v4 === undefined || v4.length !== 4) return undefined
    tail = [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)]
    const prefix = text.slice(0, lastColon + 1)
    groups = prefix.endsWith('::') ? prefix : prefix.slice(0, -1)
  }
  const halves = groups.split('::')
  if (halves.length > 2) return undefined
  const parse = (half: string) => (half === '' ? [] : half.split(':'))
  const head = parse(halves[0] ?? '')
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : []
  if ([...head, ...rest].some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return undefined
  const fill = 8 - tail.length - head.length - rest.length
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined
  const words = [...head.map((g) => parseInt(g, 16)), ...new Array<number>(fill).fill(0), ...rest.map((g) => parseInt(g, 16)), ...tail]
  return words.flatMap((word) => [word >> 8, word & 255])
}

/** Whether `cidr` holds `ip` (same family only: an IPv4-mapped IPv6 address is not in an IPv4 range). */
export function inRange(ip: string, cidr: string): boolean {
  const slash = cidr.indexOf('/')
  const network = parseAddress(cidr.slice(0, slash))
  const address = parseAddress(ip)
  if (network === undefined || address === undefined || network.length !== address.length) return false
  let bits = Number(cidr.slice(slash + 1))
  for (let index = 0; bits > 0; index += 1, bits -= 8) {
    const mask = bits >= 8 ? 255 : (255 << (8 - bits)) & 255
    if (((network[index] ?? 0) & mask) !== ((address[index] ?? 0) & mask)) return false
  }
  return true
}

/** Whether every address of `inner` is in `outer` (both CIDRs; families must match). */
export function cidrContains(outer: string, inner: string): boolean {
  if (!isCidr(outer) || !isCidr(inner)) return false
  const slash = inner.indexOf('/')
  return Number(outer.slice(outer.indexOf('/') + 1)) <= Number(inner.slice(slash + 1)) && inRange(inner.slice(0, slash), outer)
}
