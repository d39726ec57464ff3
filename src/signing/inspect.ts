import type { KeyObject } from 'node:crypto'
import { isIPv6 } from 'node:net'
import { CodedError, signingError, type SigningErrorCode } from './errors.js'
import type { KeyAlgorithm } from './keys.js'
import { buildPolicy, fromCloudFrontBase64, hasWildcard, ipv4InCidr, SIGNING_PARAMS, toIpv4Cidr, type HashAlgorithm, type PolicyType } from './policy.js'
import { checkPatternLimits, matchesWildcard, stripSigningParams } from './resource.js'
import { verifyPolicySignature } from './verify.js'

/**
 * Why CloudFront denies a signed request, in the order it checks:
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-signed-urls.html
 */
export const DENIAL_REASONS = [
  'MISSING_PARAMS',
  'MALFORMED',
  'UNKNOWN_KEY',
  'UNSUPPORTED_HASH',
  'BAD_SIGNATURE',
  'BAD_POLICY',
  'RESOURCE_MISMATCH',
  'NOT_YET_VALID',
  'EXPIRED',
  'IP_NOT_ALLOWED',
] as const
export type DenialReason = (typeof DENIAL_REASONS)[number]

export const CHECK_NAMES = ['params', 'keyId', 'hashAlgorithm', 'signature', 'policy', 'resource', 'notBefore', 'expiry', 'ipAddress'] as const
export type CheckName = (typeof CHECK_NAMES)[number]

export interface Check {
  name: CheckName
  outcome: 'pass' | 'fail' | 'skipped'
  /** Only on a failed check. */
  reason?: DenialReason
  detail: string
}

/** The public half of a key CloudFront trusts. */
export interface VerificationKey {
  id: string
  algorithm: KeyAlgorithm
  publicKey: KeyObject
}

export interface InspectRequest {
  /** A signed URL, an `rtmp://…/cfx/st/<stream>` URL, or a (signed or Flash-escaped) stream name; the request URL when `cookies` carry the grant. */
  url: string
  /** Cookie names and values; only `CloudFront-*` ones are read, and only when the URL carries no signing parameters. */
  cookies?: Record<string, string>
  /** Request time, epoch seconds. */
  at: number
  /** The viewer's address; without it an IP condition is reported, not judged. */
  ip?: string
  lookupKey: (id: string) => VerificationKey | undefined
}

/** The policy CloudFront evaluates: decoded from `Policy`, or rebuilt from the request and `Expires` for a canned one. */
export interface DecodedPolicy {
  type: PolicyType
  json: string
  resource: string | null
  expires: number
  notBefore: number | null
  ipAddress: string | null
}

export interface Inspection {
  verdict: 'allow' | 'deny'
  reason: DenialReason | null
  /** Where the signing parameters came from. */
  source: 'url' | 'cookies'
  /** What CloudFront compares with the policy: the URL without signing parameters, or the stream name. */
  resource: string
  keyId: string | null
  hashAlgorithm: string
  policy: DecodedPolicy | null
  checks: Check[]
}

type Params = Partial<Record<(typeof SIGNING_PARAMS)[number], string>>

const CLOUDFRONT_BASE64 = /^[A-Za-z0-9\-_~]+$/

/**
 * Judges a signed request the way a CloudFront edge does and says which check fails first. Every
 * check whose inputs are available runs, so one answer can show several problems; `reason` is the
 * first failure in CloudFront's order.
 */
export function inspectSignedRequest(request: InspectRequest): Inspection {
  const target = parseTarget(request.url)
  const viewer = request.ip === undefined ? undefined : parseViewerIp(request.ip)
  const fromUrl = extractUrlParams(target.query)
  const source = fromUrl.found || request.cookies === undefined ? 'url' : 'cookies'
  const { params, problem } = source === 'url' ? fromUrl : extractCookieParams(request.cookies!)
  const resource = source === 'url' ? stripSigningParams(target.resource) : target.resource
  const label = (name: string) => (source === 'cookies' ? `CloudFront-${name}` : name)
  const checks: Check[] = []
  const pass = (name: CheckName, detail: string) => checks.push({ name, outcome: 'pass', detail })
  const fail = (name: CheckName, reason: DenialReason, detail: string) => checks.push({ name, outcome: 'fail', reason, detail })
  const skip = (name: CheckName, detail: string) => checks.push({ name, outcome: 'skipped', detail })

  // 1. Parameters present and well-formed.
  const missing = (['Signature', 'Key-Pair-Id'] as const).filter((name) => params[name] === undefined).map(label)
  if (params.Expires === undefined && params.Policy === undefined) missing.unshift(`${label('Expires')} or ${label('Policy')}`)
  const malformed = problem ?? findMalformed(params, label)
  if (missing.length > 0) {
    const none = Object.keys(params).length === 0
    fail('params', 'MISSING_PARAMS', none ? 'no signing parameters in the URL and no CloudFront-* cookies' : `missing ${missing.join(', ')}`)
  } else if (malformed !== undefined) {
    fail('params', 'MALFORMED', malformed)
  } else {
    pass('params', `${params.Policy !== undefined ? 'custom' : 'canned'} policy in the ${source === 'url' ? 'URL' : 'cookies'}`)
  }
  const usable = malformed === undefined

  // 2. A key CloudFront trusts.
  const keyId = params['Key-Pair-Id'] ?? null
  const key = keyId !== null && keyId !== '' ? request.lookupKey(keyId) : undefined
  if (keyId === null || keyId === '') skip('keyId', `no ${label('Key-Pair-Id')}`)
  else if (key === undefined) fail('keyId', 'UNKNOWN_KEY', `no loaded or retired key has the ID ${keyId}; CloudFront needs its public key in a trusted key group of the distribution`)
  else pass('keyId', `${keyId} (${key.algorithm})`)

  // 3. Hash algorithm.
  const hashParam = params['Hash-Algorithm']
  let hash: HashAlgorithm | undefined
  if (hashParam === undefined) {
    hash = 'SHA1'
    pass('hashAlgorithm', `SHA1 (no ${label('Hash-Algorithm')})`)
  } else if (hashParam === 'SHA1' || hashParam === 'SHA256') {
    hash = hashParam
    pass('hashAlgorithm', hashParam)
  } else {
    fail('hashAlgorithm', 'UNSUPPORTED_HASH', `${label('Hash-Algorithm')}=${hashParam}: CloudFront accepts SHA1 or SHA256`)
  }

  // The exact bytes that were signed: the Policy parameter, or the canned policy rebuilt from the request.
  let policyJson: string | undefined
  let type: PolicyType = 'custom'
  if (usable && params.Policy !== undefined) policyJson = fromCloudFrontBase64(params.Policy).toString('utf8')
  else if (usable && params.Expires !== undefined) {
    type = 'canned'
    policyJson = buildPolicy(resource, { expires: Number(params.Expires) }).json
  }

  // 4. Signature.
  const signature = params.Signature
  if (policyJson === undefined || signature === undefined || !usable) skip('signature', 'needs well-formed signing parameters')
  else if (key === undefined) skip('signature', 'needs a known key')
  else if (hash === undefined) skip('signature', 'needs a supported hash algorithm')
  else if (verifyPolicySignature(policyJson, signature, key.publicKey, hash)) pass('signature', `verified with ${key.algorithm}-${hash}`)
  else fail('signature', 'BAD_SIGNATURE', explainBadSignature(policyJson, signature, key, hash, type, label))

  // 5. Policy JSON.
  let policy: DecodedPolicy | null = null
  if (policyJson === undefined) skip('policy', 'no policy to decode')
  else {
    const parsed = type === 'canned' ? { resource, expires: Number(params.Expires), notBefore: null, ipAddress: null } : parsePolicy(policyJson)
    if (typeof parsed === 'string') fail('policy', 'BAD_POLICY', parsed)
    else {
      policy = { type, json: policyJson, ...parsed }
      pass('policy', type === 'canned' ? `canned policy rebuilt from the request and ${label('Expires')}` : 'custom policy')
    }
  }

  // 6.–9. The statement's resource and conditions.
  if (policy === null) {
    for (const name of ['resource', 'notBefore', 'expiry', 'ipAddress'] as const) skip(name, 'needs a valid policy')
  } else {
    checkResource(policy, resource, pass, fail)
    if (policy.notBefore === null) pass('notBefore', 'no DateGreaterThan condition')
    else if (request.at < policy.notBefore) fail('notBefore', 'NOT_YET_VALID', `request time ${request.at} is before DateGreaterThan ${policy.notBefore}`)
    else pass('notBefore', `request time ${request.at} is not before DateGreaterThan ${policy.notBefore}`)

    const expiryName = type === 'canned' ? 'Expires' : 'DateLessThan'
    if (request.at < policy.expires) pass('expiry', `request time ${request.at} is before ${expiryName} ${policy.expires}`)
    else fail('expiry', 'EXPIRED', `request time ${request.at} is not before ${expiryName} ${policy.expires}`)

    checkIp(policy.ipAddress, viewer, pass, fail, skip)
  }

  const firstFailure = checks.find((check) => check.outcome === 'fail')
  return {
    verdict: firstFailure === undefined ? 'allow' : 'deny',
    reason: firstFailure?.reason ?? null,
    source,
    resource,
    keyId,
    hashAlgorithm: hashParam ?? 'SHA1',
    policy,
    checks,
  }
}

/**
 * What CloudFront would be asked for: an http(s) URL, an RTMP URL (the stream name follows the
 * `cfx/st` application), or a stream name as an RTMP player sends it. Flash-escaped stream names
 * (`%3F`, `%3D`, `%26`) are unescaped as the RTMP server does. The fragment never reaches CloudFront.
 */
function parseTarget(url: string): { resource: string; query: string } {
  let target = url.split('#')[0]
  if (/^https?:\/\//i.test(target)) {
    try {
      new URL(target)
    } catch {
      throw signingError('INVALID_URL', 'url is not a valid http(s) URL')
    }
  } else if (/^rtmp[a-z]?:\/\//i.test(target)) {
    const app = /^rtmp[a-z]?:\/\/[^/]+\/cfx\/st\/(.+)$/i.exec(target)
    if (app === null) throw signingError('INVALID_URL', 'an RTMP URL must be rtmp://<rtmpDomain>/cfx/st/<stream name>')
    target = app[1]
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw signingError('INVALID_URL', 'url must be an http(s) or rtmp URL, or a stream name')
  } else if (!target.includes('?') && /%3F/i.test(target)) {
    target = target.replace(/%3F|%3D|%26/gi, (escaped) => ({ '%3F': '?', '%3D': '=', '%26': '&' })[escaped.toUpperCase()]!)
  }
  const q = target.indexOf('?')
  return { resource: target, query: q === -1 ? '' : target.slice(q + 1) }
}

function extractUrlParams(query: string): { params: Params; problem?: string; found: boolean } {
  const params: Params = {}
  let problem: string | undefined
  for (const pair of query === '' ? [] : query.split('&')) {
    const eq = pair.indexOf('=')
    const name = eq === -1 ? pair : pair.slice(0, eq)
    if (!(SIGNING_PARAMS as readonly string[]).includes(name)) continue
    const key = name as keyof Params
    let value: string
    try {
      value = decodeURIComponent(eq === -1 ? '' : pair.slice(eq + 1))
    } catch {
      problem ??= `${name} has a malformed percent-encoding`
      value = ''
    }
    if (params[key] !== undefined) problem ??= `${name} appears more than once`
    params[key] = value
  }
  return { params, problem, found: Object.keys(params).length > 0 }
}

function extractCookieParams(cookies: Record<string, string>): { params: Params; problem?: string } {
  const params: Params = {}
  for (const name of SIGNING_PARAMS) {
    const value = cookies[`CloudFront-${name}`]
    if (value !== undefined) params[name] = value
  }
  return { params }
}

function findMalformed(params: Params, label: (name: string) => string): string | undefined {
  for (const [name, value] of Object.entries(params)) {
    if (value === '') return `${label(name)} is empty`
  }
  if (params.Expires !== undefined && params.Policy === undefined && !/^\d{1,12}$/.test(params.Expires)) {
    return `${label('Expires')} must be epoch seconds`
  }
  for (const name of ['Signature', 'Policy'] as const) {
    const value = params[name]
    if (value !== undefined && !CLOUDFRONT_BASE64.test(value)) return `${label(name)} is not CloudFront base64 (A-Z a-z 0-9 - _ ~)`
  }
  return undefined
}

function explainBadSignature(json: string, signature: string, key: VerificationKey, hash: HashAlgorithm, type: PolicyType, label: (name: string) => string): string {
  const other: HashAlgorithm = hash === 'SHA1' ? 'SHA256' : 'SHA1'
  if (verifyPolicySignature(json, signature, key.publicKey, other)) {
    return `the signature verifies with ${other}, not ${hash}: ${other === 'SHA256' ? `add ${label('Hash-Algorithm')}=SHA256` : `remove ${label('Hash-Algorithm')}`}`
  }
  return type === 'canned'
    ? `the signature does not match the canned policy rebuilt from this request and ${label('Expires')} with key ${key.id}: the URL (path, query) or the expiry changed after signing, or another key signed it`
    : `the signature does not match the policy with key ${key.id}: the policy changed after signing, or another key signed it`
}

type Parsed = Omit<DecodedPolicy, 'type' | 'json'>

/** Parses and validates a custom policy; a string is the reason it is not one CloudFront can evaluate. */
function parsePolicy(json: string): Parsed | string {
  let document: unknown
  try {
    document = JSON.parse(json)
  } catch {
    return 'the policy is not JSON'
  }
  const statements = isObject(document) ? document.Statement : undefined
  if (!Array.isArray(statements) || statements.length !== 1 || !isObject(statements[0])) return 'the policy must hold a Statement array with exactly one statement'
  const statement = statements[0]
  const extra = Object.keys(statement).find((key) => key !== 'Resource' && key !== 'Condition')
  if (extra !== undefined) return `unknown statement field ${extra}`
  if (statement.Resource !== undefined && typeof statement.Resource !== 'string') return 'Resource must be a string'
  const condition = statement.Condition
  if (!isObject(condition)) return 'the statement has no Condition'
  const unknown = Object.keys(condition).find((key) => !['DateLessThan', 'DateGreaterThan', 'IpAddress'].includes(key))
  if (unknown !== undefined) return `unknown condition ${unknown}`
  const expires = epochTime(condition.DateLessThan)
  if (expires === undefined) return 'DateLessThan {"AWS:EpochTime": <epoch seconds>} is required'
  const notBefore = condition.DateGreaterThan === undefined ? null : epochTime(condition.DateGreaterThan)
  if (notBefore === undefined) return 'DateGreaterThan must be {"AWS:EpochTime": <epoch seconds>}'
  let ipAddress: string | null = null
  if (condition.IpAddress !== undefined) {
    const sourceIp = isObject(condition.IpAddress) && Object.keys(condition.IpAddress).length === 1 ? condition.IpAddress['AWS:SourceIp'] : undefined
    if (typeof sourceIp !== 'string' || !isIpv4Cidr(sourceIp)) {
      return `AWS:SourceIp ${JSON.stringify(sourceIp ?? null)} is not an IPv4 CIDR (a.b.c.d/n, /32 for one address)`
    }
    ipAddress = sourceIp
  }
  return { resource: (statement.Resource as string | undefined) ?? null, expires, notBefore, ipAddress }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function epochTime(value: unknown): number | undefined {
  if (!isObject(value) || Object.keys(value).length !== 1) return undefined
  const seconds = value['AWS:EpochTime']
  return Number.isSafeInteger(seconds) && (seconds as number) >= 0 ? (seconds as number) : undefined
}

function isIpv4Cidr(value: string): boolean {
  try {
    return value.includes('/') && toIpv4Cidr(value) === value
  } catch {
    return false
  }
}

type Report = (name: CheckName, detail: string) => void
type Fail = (name: CheckName, reason: DenialReason, detail: string) => void

function checkResource(policy: DecodedPolicy, resource: string, pass: Report, fail: Fail): void {
  if (policy.type === 'canned') {
    pass('resource', 'canned: the policy resource is the request itself (a changed URL fails the signature instead)')
  } else if (policy.resource === null) {
    pass('resource', 'no Resource: the policy covers every file of every distribution that trusts this key')
  } else if (matchesPolicyResource(policy.resource, resource)) {
    pass('resource', `policy resource '${policy.resource}' matches '${resource}'`)
  } else {
    const rtmpHint = /(^|\/)cfx\/st\//.test(policy.resource) && !resource.includes('cfx/st/') ? ' (an RTMP resource is the stream name alone, without cfx/st/)' : ''
    fail('resource', 'RESOURCE_MISMATCH', `policy resource '${policy.resource}' does not match '${resource}'${rtmpHint}`)
  }
}

/**
 * The policy may be the caller's own, unsigned: a wildcard resource beyond the signing limits is
 * refused (400 with the limit's code), never matched.
 */
function matchesPolicyResource(pattern: string, resource: string): boolean {
  if (hasWildcard(pattern)) {
    try {
      checkPatternLimits(pattern)
    } catch (err) {
      if (err instanceof CodedError) throw signingError(err.code as SigningErrorCode, `the policy's Resource is not judged: ${err.message}`)
      throw err
    }
  }
  return matchesWildcard(pattern, resource)
}

interface ViewerIp {
  given: string
  /** Undefined for an IPv6 viewer. */
  ipv4?: string
}

function checkIp(cidr: string | null, viewer: ViewerIp | undefined, pass: Report, fail: Fail, skip: Report): void {
  if (cidr === null) pass('ipAddress', 'no IpAddress condition')
  else if (viewer === undefined) skip('ipAddress', `the policy allows ${cidr} only; give ip to judge it`)
  else if (viewer.ipv4 === undefined) fail('ipAddress', 'IP_NOT_ALLOWED', `client ${viewer.given} is IPv6: CloudFront's IpAddress condition matches IPv4 clients only`)
  else if (ipv4InCidr(viewer.ipv4, cidr)) pass('ipAddress', `client ${viewer.ipv4} is inside ${cidr}`)
  else fail('ipAddress', 'IP_NOT_ALLOWED', `client ${viewer.ipv4} is outside ${cidr}`)
}

/** The viewer's address: IPv4 (IPv4-mapped IPv6 included) or IPv6; anything else is a coded error. */
function parseViewerIp(ip: string): ViewerIp {
  if (ip.includes('/')) throw signingError('INVALID_IP_ADDRESS', 'ip must be one address, not a range')
  try {
    return { given: ip, ipv4: toIpv4Cidr(ip).replace(/\/32$/, '') }
  } catch (err) {
    if (err instanceof CodedError && err.code === 'IPV6_NOT_SUPPORTED' && isIPv6(ip.trim())) return { given: ip }
    throw signingError('INVALID_IP_ADDRESS', `ip "${ip}" is not an IPv4 or IPv6 address`)
  }
}
