import { appError } from '../errors.js'
import { buildPolicy, hasWildcard, type Policy } from '../signing/policy.js'
import { appendQuery, canonicalisePathAndQuery, checkRawPath, encodePath, encodeQuery, matchesWildcard } from '../signing/resource.js'
import {
  checkPathAllowed,
  checkPatternAllowed,
  resolveConditions,
  resolveDistribution,
  resolveDistributionByHost,
  type ConditionsInput,
  type Distribution,
  type GrantContext,
} from './resolve.js'

export interface UrlRequest extends ConditionsInput {
  distribution?: string
  path?: string
  url?: string
  query?: Record<string, string>
  resource?: string
}

export interface UrlPlan {
  /** The URL exactly as it will be requested, before the signing parameters are added. */
  url: string
  policy: Policy
  distribution: Distribution
}

/** Turns a signed-URL request into the URL and policy to sign, enforcing configuration and claims. */
export function planSignedUrl(request: UrlRequest, ctx: GrantContext): UrlPlan {
  const { distribution, origin, path, rawPath, query } = request.url !== undefined ? fromUrl(request.url, request, ctx) : fromPath(request, ctx)
  checkPathAllowed(distribution, ctx.caller, rawPath)
  let url = origin + path + (query === '' ? '' : `?${query}`)
  if (request.query !== undefined) url = appendQuery(url, encodeQuery(request.query))
  const conditions = resolveConditions(request, distribution, ctx)
  if (request.resource === undefined) return { url, policy: buildPolicy(url, conditions), distribution }

  const resource = request.resource.startsWith('/') ? origin + request.resource : request.resource
  if (!resource.startsWith(`${origin}/`)) {
    throw appError('INVALID_RESOURCE', `resource must be a path pattern or a URL pattern on ${origin}`)
  }
  if (!matchesWildcard(resource, url)) throw appError('RESOURCE_NOT_COVERING', `resource ${resource} does not cover the URL being signed`)
  const wildcard = hasWildcard(resource)
  if (wildcard) checkPatternAllowed(distribution, ctx.caller, decodePattern(resource.slice(origin.length)))
  return { url, policy: buildPolicy(resource, conditions, wildcard), distribution }
}

function fromPath(request: UrlRequest, ctx: GrantContext) {
  if (request.distribution === undefined || request.path === undefined) {
    throw appError('VALIDATION_ERROR', 'body must have either url, or distribution and path')
  }
  const distribution = resolveDistribution(ctx, request.distribution)
  // encodePath refuses what checkRawPath refuses.
  return { distribution, origin: `${distribution.scheme}://${distribution.domain}`, path: encodePath(request.path), rawPath: request.path, query: '' }
}

function fromUrl(rawUrl: string, request: UrlRequest, ctx: GrantContext) {
  if (request.distribution !== undefined || request.path !== undefined) {
    throw appError('VALIDATION_ERROR', 'body must have either url, or distribution and path, not both')
  }
  let parsed: URL
  try {
    parsed = new URL(rawUrl)
  } catch {
    throw appError('INVALID_URL', 'url is not an absolute URL')
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw appError('INVALID_URL', 'url must be http or https')
  if (parsed.username !== '' || parsed.password !== '' || parsed.port !== '' || rawUrl.includes('#')) {
    throw appError('INVALID_URL', 'url must not carry credentials, a port or a fragment (CloudFront never sees them)')
  }
  const distribution = resolveDistributionByHost(ctx, parsed.hostname)
  const { path, rawPath, query } = canonicalisePathAndQuery(parsed.pathname, parsed.search)
  checkRawPath(rawPath)
  return { distribution, origin: `${parsed.protocol}//${parsed.hostname}`, path, rawPath, query }
}

// allowedPaths are written unencoded, so a resource pattern is compared in its decoded form.
function decodePattern(pattern: string): string {
  try {
    return decodeURIComponent(pattern)
  } catch {
    throw appError('INVALID_RESOURCE', 'resource has a malformed percent-encoding')
  }
}
