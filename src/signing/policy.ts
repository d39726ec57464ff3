import { signingError } from './errors.js'

export type HashAlgorithm = 'SHA1' | 'SHA256'
export type PolicyType = 'canned' | 'custom'

/** The conditions CloudFront checks; times are epoch seconds. */
export interface PolicyConditions {
  expires: number
  notBefore?: number
  /** IPv4 CIDR, always with a prefix length (`/32` for one address). */
  ipCidr?: string
}

export interface Policy {
  type: PolicyType
  resource: string
  conditions: PolicyConditions
  /** The exact JSON that is signed. */
  json: string
}

/** The query parameters CloudFront reads for signing; a resource must never contain them. */
export const SIGNING_PARAMS = ['Expires', 'Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'] as const

export function hasWildcard(resource: string): boolean {
  return resource.includes('*') || resource.includes('?')
}

/**
 * Builds the policy CloudFront will check. A canned policy serves whenever it can (shorter URLs):
 * an exact resource with nothing but an expiry.
 *
 * Key order follows botocore (DateLessThan, IpAddress, DateGreaterThan) so that custom-policy
 * signatures are byte-identical to the reference signers' for RSA keys.
 */
export function buildPolicy(resource: string, conditions: PolicyConditions, wildcard = false): Policy {
  const type: PolicyType = wildcard || conditions.notBefore !== undefined || conditions.ipCidr !== undefined ? 'custom' : 'canned'
  const condition: Record<string, unknown> = { DateLessThan: { 'AWS:EpochTime': conditions.expires } }
  if (conditions.ipCidr !== undefined) condition.IpAddress = { 'AWS:SourceIp': conditions.ipCidr }
  if (conditions.notBefore !== undefined) condition.DateGreaterThan = { 'AWS:EpochTime': conditions.notBefore }
  const json = JSON.stringify({ Statement: [{ Resource: resource, Condition: condition }] })
  return { type, resource, conditions, json }
}

/** CloudFront's URL-safe base64: `+` → `-`, `=` → `_`, `/` → `~`. */
export function toCloudFrontBase64(data: string | Buffer): string {
  return Buffer.from(data).toString('base64').replace(/[+=/]/g, (c) => (c === '+' ? '-' : c === '=' ? '_' : '~'))
}

export function fromCloudFrontBase64(text: string): Buffer {
  return Buffer.from(text.replace(/[-_~]/g, (c) => (c === '-' ? '+' : c === '_' ? '=' : '/')), 'base64')
}

const IPV4_OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`)

/** Normalises an IPv4 address or CIDR to CIDR form; CloudFront's IP condition is IPv4 only. */
export function toIpv4Cidr(input: string): string {
  const value = input.trim()
  const [address, prefix, ...rest] = value.split('/')
  if (address.includes(':')) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    if (mapped && rest.length === 0 && prefix === undefined) return `${mapped[1]}/32`
    throw signingError('IPV6_NOT_SUPPORTED', `CloudFront signed-URL IP conditions accept IPv4 only; got the IPv6 address "${value}"`)
  }
  if (rest.length > 0 || !IPV4.test(address)) {
    throw signingError('INVALID_IP_ADDRESS', `"${value}" is not an IPv4 address or CIDR (a.b.c.d or a.b.c.d/n)`)
  }
  if (prefix === undefined) return `${address}/32`
  if (!/^(3[0-2]|[12]?\d)$/.test(prefix)) {
    throw signingError('INVALID_IP_ADDRESS', `"${value}" has an invalid prefix length (0 to 32)`)
  }
  return `${address}/${prefix}`
}

/** Whether an IPv4 address lies in an IPv4 CIDR. */
export function ipv4InCidr(address: string, cidr: string): boolean {
  const [network, prefixText] = cidr.split('/')
  const prefix = Number(prefixText ?? 32)
  const toInt = (ip: string) => ip.split('.').reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0
  if (!IPV4.test(address) || !IPV4.test(network)) return false
  if (prefix === 0) return true
  const mask = (~0 << (32 - prefix)) >>> 0
  return (toInt(address) & mask) === (toInt(network) & mask)
}
