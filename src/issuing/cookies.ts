import type { DistributionConfig } from '../config/schema.js'
import { EDGE_TOKEN_COOKIE } from '../edge/token.js'
import type { ViewerRules } from '../edge/viewer-rules.js'
import { appError, CodedError } from '../http/errors.js'
import { buildPolicy, hasWildcard, SIGNING_PARAMS, type Policy } from '../signing/policy.js'
import { canonicalisePathAndQuery, checkRawPath, splitUrlPattern } from '../signing/resource.js'
import { resolveConditions, type ConditionsInput } from './conditions.js'
import type { IssueContext } from './context.js'
import { resolveDistribution, type Distribution } from './distributions.js'
import { checkPathAllowed, checkPatternAllowed } from './narrowing.js'

export interface CookieRequest extends ConditionsInput {
  distribution: string
  /** A path pattern (`/hls/movie-42/*`) or a URL pattern on one of the distribution's hosts. */
  resource: string
  setCookies?: boolean
}

export interface CookiePlan {
  policy: Policy
  distribution: Distribution
  /** On an edge distribution: the rules of the edge token bound to the signature once signed. */
  viewerRules?: ViewerRules
}

type CookieSettings = NonNullable<DistributionConfig['cookies']>

/** CloudFront-Expires for a canned policy, CloudFront-Policy for a custom one; Hash-Algorithm with SHA256; CloudFront-Edge on an edge distribution. */
export type CloudFrontCookies = {
  'CloudFront-Expires'?: string
  'CloudFront-Policy'?: string
  'CloudFront-Signature': string
  'CloudFront-Key-Pair-Id': string
  'CloudFront-Hash-Algorithm'?: string
  'CloudFront-Edge'?: string
}

/** Turns a signed-cookie request into the policy to sign, enforcing configuration and claims. */
export function planSignedCookies(request: CookieRequest, ctx: IssueContext): CookiePlan {
  const distribution = resolveDistribution(ctx, request.distribution)
  if (request.setCookies && distribution.cookies === undefined) {
    throw appError('NO_COOKIE_DOMAIN', `distribution "${distribution.name}" has no cookies settings (distributions.${distribution.name}.cookies.domain): the service cannot set its cookies`)
  }
  const { scheme, host, path } = request.resource.startsWith('/')
    ? { scheme: distribution.scheme, host: cookieHost(distribution), path: request.resource }
    : cookieUrlPattern(request.resource, distribution)
  const { encoded, decoded } = canonicalisePattern(path)
  if (request.setCookies) checkCookiesReach(distribution.cookies!, host, decoded)
  const resource = `${scheme}://${host}${encoded}`
  // The whole resource: an `http*://` scheme is a wildcard too.
  const wildcard = hasWildcard(resource)
  if (wildcard) checkPatternAllowed(distribution, ctx.caller, resource, decoded)
  else checkPathAllowed(distribution, ctx.caller, decoded)
  const { policy: conditions, viewerRules } = resolveConditions(request, distribution, ctx)
  return { policy: buildPolicy(resource, conditions, wildcard), distribution, viewerRules }
}

/**
 * The host a path pattern is signed for: the first alias under the cookie domain (the host the
 * browser sends the cookies to); without cookie settings the first alias, else the CloudFront domain.
 */
function cookieHost(distribution: Distribution): string {
  const settings = distribution.cookies
  if (settings !== undefined) {
    const reached = distribution.aliases.find((alias) => domainReaches(settings.domain, alias))
    // load.ts refuses a cookie domain that reaches no alias, so there is always one.
    if (reached !== undefined) return reached
  }
  return distribution.aliases[0] ?? distribution.domain
}

/** Whether a cookie with `Domain=<domain>` is sent to `host`: the same host or a subdomain. */
function domainReaches(domain: string, host: string): boolean {
  const parent = domain.toLowerCase().replace(/^\./, '')
  const child = host.toLowerCase()
  return child === parent || child.endsWith(`.${parent}`)
}

/** A URL pattern on one of the distribution's hosts, in its scheme or `http*` (both schemes). */
function cookieUrlPattern(pattern: string, distribution: Distribution): { scheme: string; host: string; path: string } {
  const { scheme, host, path } = splitUrlPattern(pattern)
  if (scheme !== distribution.scheme && scheme !== 'http*') throw appError('INVALID_RESOURCE', `distribution "${distribution.name}" is served over ${distribution.scheme}`)
  if (host.includes(':') || host.includes('@')) throw appError('INVALID_RESOURCE', 'resource must not carry credentials or a port (CloudFront never sees them)')
  const known = [distribution.domain, ...distribution.aliases].find((h) => h.toLowerCase() === host.toLowerCase())
  if (known === undefined) throw appError('FORBIDDEN_HOST', `${host} is not the domain or an alias of distribution "${distribution.name}"`)
  return { scheme, host: known, path }
}

/**
 * A path pattern as browsers send it: literal parts percent-encoded like signed URLs' paths (so
 * `my file` and `my%20file` sign alike), `*` and `?` kept as wildcards. `decoded` is the form
 * allowedPaths are written in.
 */
function canonicalisePattern(path: string): { encoded: string; decoded: string } {
  try {
    const parts = path.split(/([*?])/).map((part, i) => {
      if (i % 2 === 1) return { encoded: part, decoded: part }
      const { path: encoded, rawPath } = canonicalisePathAndQuery(part, '')
      return { encoded, decoded: rawPath }
    })
    const decoded = parts.map((p) => p.decoded).join('')
    checkRawPath(decoded)
    return { encoded: parts.map((p) => p.encoded).join(''), decoded }
  } catch (err) {
    if (err instanceof CodedError) throw appError('INVALID_RESOURCE', `resource: ${err.message}`)
    throw err
  }
}

function checkCookiesReach(settings: CookieSettings, host: string, decodedPath: string): void {
  if (!domainReaches(settings.domain, host)) {
    throw appError('INVALID_RESOURCE', `cookies for ${settings.domain} never reach ${host}: use a path pattern, or a URL on an alias under ${settings.domain}`)
  }
  const cookiePath = settings.path
  if (cookiePath !== '/' && !(decodedPath.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`) || decodedPath === cookiePath)) {
    throw appError('INVALID_RESOURCE', `cookies with Path=${cookiePath} are never sent for ${decodedPath}`)
  }
}

const COOKIE_NAMES = [...SIGNING_PARAMS.filter((name) => name !== 'Signature' && name !== 'Key-Pair-Id').map((name) => `CloudFront-${name}`), EDGE_TOKEN_COOKIE]

/**
 * The Set-Cookie headers for signed cookies. The CloudFront-* cookies this answer does not use are cleared:
 * a CloudFront-Policy or CloudFront-Hash-Algorithm left over from an earlier answer would make
 * CloudFront check this signature against the wrong policy or hash, and an old CloudFront-Edge is bound to another signature.
 */
export function setCookieHeaders(cookies: CloudFrontCookies, settings: CookieSettings, maxAgeSeconds: number): string[] {
  const attributes = `Domain=${settings.domain}; Path=${settings.path}; Secure; HttpOnly; SameSite=${settings.sameSite}`
  const set = Object.entries(cookies).map(([name, value]) => `${name}=${value}; ${attributes}; Max-Age=${maxAgeSeconds}`)
  const cleared = COOKIE_NAMES.filter((name) => !(name in cookies)).map((name) => `${name}=; ${attributes}; Max-Age=0`)
  return [...set, ...cleared]
}
