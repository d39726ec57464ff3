import { countQueryValues, EDGE_TOKEN_PARAMETER, isEdgeTokenInPath } from '../edge/token.js'
import type { ViewerRules } from '../edge/viewer-rules.js'
import { appError, CodedError } from '../http/errors.js'
import { downloadParams, type DownloadOptions } from '../signing/download.js'
import { buildPolicy, hasWildcard, type Policy, type PolicyConditions } from '../signing/policy.js'
import { appendQuery, canonicalisePathAndQuery, checkRawPath, checkUrlLength, encodePath, encodeQuery, matchesWildcard, splitUrlPattern } from '../signing/resource.js'
import { resolveConditions, type ConditionsInput } from './conditions.js'
import type { IssueContext } from './context.js'
import { resolveDistribution, resolveDistributionByHost, type Distribution } from './distributions.js'
import { createGrantToken, edgeTokenParam } from './edge-grant.js'
import { checkPathAllowed, checkPatternAllowed } from './narrowing.js'

export interface UrlRequest extends ConditionsInput {
  distribution?: string
  path?: string
  url?: string
  query?: Record<string, string>
  resource?: string
  /** S3's response-content-disposition (and -type) overrides, signed as part of the URL. */
  download?: DownloadOptions
}

export interface UrlPlan {
  /** The URL exactly as it will be requested, before the signing parameters are added (an exact resource's edge token included). */
  url: string
  policy: Policy
  distribution: Distribution
  /** On an edge distribution: the rules of the edge token bound to the signature once signed (withBoundToken). */
  boundRules?: ViewerRules
  /** For an exact URL on an edge distribution: the query values the token allows (its own included). */
  queryValueCount?: number
}

/**
 * Turns a signed-URL request into the URL and policy to sign, enforcing configuration and claims;
 * `resolved` is the request's distribution when the caller already resolved it (playback). On an edge
 * distribution the plan says which rules the grant's token carries once signed (withBoundToken).
 */
export function planSignedUrl(request: UrlRequest, ctx: IssueContext, resolved?: Distribution): UrlPlan {
  const { distribution, scheme, host, path, rawPath, query } = request.url !== undefined ? fromUrl(request.url, request, ctx) : fromPath(request, ctx, resolved)
  checkPathAllowed(distribution, ctx.caller, rawPath)
  let url = `${scheme}://${host}${path}${query === '' ? '' : `?${query}`}`
  if (request.query !== undefined) url = appendQuery(url, encodeQuery(request.query))
  if (request.download !== undefined) url = appendDownload(url, request.download)
  checkUrlLength(url)
  checkNoEdgeParameter(url)
  const { policy: conditions, viewerRules } = resolveConditions(request, distribution, ctx)
  if (request.resource === undefined) return planExact(url, conditions, viewerRules, distribution)

  const { resource, pathPattern } = resolveResource(request.resource, scheme, host)
  const wildcard = hasWildcard(resource)
  // Scope, limits and narrowing first: until they pass, the pattern is a hostile caller's input.
  if (wildcard) checkPatternAllowed(distribution, ctx.caller, resource, pathPattern)
  if (!matchesWildcard(resource, url)) throw appError('RESOURCE_NOT_COVERING', `resource ${resource} does not cover the URL being signed`)
  // Without a wildcard the resource is the URL itself.
  if (!wildcard) return planExact(url, conditions, viewerRules, distribution)
  if (viewerRules !== undefined) checkCoversToken(resource, appendQuery(url, edgeTokenParam('x')))
  return { url, policy: buildPolicy(resource, conditions, true), distribution, boundRules: viewerRules }
}

/**
 * An exact resource: the URL itself. On an edge distribution the policy's resource is the URL followed by
 * `cf-edge=*`, so every grant of the URL in one expiry window shares one signature (and the signature cache), and
 * each grant's token is bound to that signature and to the URL's query values (`n`): the `*` cannot carry more.
 */
function planExact(url: string, conditions: PolicyConditions, viewerRules: ViewerRules | undefined, distribution: Distribution): UrlPlan {
  if (viewerRules === undefined) return { url, policy: buildPolicy(url, conditions), distribution }
  const q = url.indexOf('?')
  // The function refuses such a path: CloudFront's `?` wildcard could stand for the `/` before it.
  if (isEdgeTokenInPath(url.slice(0, q === -1 ? undefined : q))) {
    throw appError('INVALID_PATH', `a path on an edge distribution cannot contain "${EDGE_TOKEN_PARAMETER}="`)
  }
  // The URL's own values, and the token's.
  const queryValueCount = (q === -1 ? 0 : countQueryValues(new URLSearchParams(url.slice(q + 1)))) + 1
  return { url, policy: buildPolicy(appendQuery(url, edgeTokenParam('*')), conditions, true), distribution, boundRules: viewerRules, queryValueCount }
}

/**
 * An edge grant's URL with its edge token, bound to the signature it travels with, last before the signing
 * parameters: the signature cannot cover a token made after it.
 */
export function withBoundToken(plan: UrlPlan, rules: ViewerRules, signature: string, ctx: IssueContext, grantId: string): string {
  const token = createGrantToken(ctx, { grantId, expires: plan.policy.conditions.expires, rules, binding: signature, queryValueCount: plan.queryValueCount })
  const url = appendQuery(plan.url, edgeTokenParam(token))
  // Again with the real token: a `?` in the resource matched the one-character placeholder checked before signing.
  // An exact URL's resource is that URL and `cf-edge=*`: it covers any token.
  if (plan.queryValueCount === undefined) checkCoversToken(plan.policy.resource, url)
  checkUrlLength(url)
  return url
}

function checkCoversToken(resource: string, url: string): void {
  if (!matchesWildcard(resource, url)) {
    throw appError('EDGE_RESOURCE_NOT_COVERING', `resource ${resource} does not cover the URL with its ${EDGE_TOKEN_PARAMETER} parameter: end the resource with *`)
  }
}

/** `cf-edge` is the edge token's parameter: a caller's own would be read in its place. */
function checkNoEdgeParameter(url: string): void {
  const q = url.indexOf('?')
  if (q !== -1 && new URLSearchParams(url.slice(q + 1)).has(EDGE_TOKEN_PARAMETER)) {
    throw appError('RESERVED_QUERY_PARAMETER', `query parameter "${EDGE_TOKEN_PARAMETER}" is reserved for the edge token`)
  }
}

const OVERRIDE_PARAMS = ['response-content-disposition', 'response-content-type']

/** Adds the download overrides before signing: they are part of the signed URL (and of a canned policy's resource). */
function appendDownload(url: string, download: DownloadOptions): string {
  const q = url.indexOf('?')
  const names = q === -1 ? [] : [...new URLSearchParams(url.slice(q + 1)).keys()]
  if (names.some((name) => OVERRIDE_PARAMS.includes(name.toLowerCase()))) {
    throw appError('VALIDATION_ERROR', 'give download or the response-content-* query parameters, not both')
  }
  return appendQuery(url, encodeQuery(downloadParams(download)))
}

/**
 * The policy resource for a path pattern or a URL pattern on the URL's own host (`http*://` covers
 * both schemes), and its decoded path: allowedPaths are written unencoded.
 */
function resolveResource(given: string, scheme: string, host: string): { resource: string; pathPattern: string } {
  let resourceScheme = scheme
  let path = given
  if (!given.startsWith('/')) {
    const pattern = splitUrlPattern(given)
    if ((pattern.scheme !== scheme && pattern.scheme !== 'http*') || pattern.host.toLowerCase() !== host.toLowerCase()) {
      throw appError('INVALID_RESOURCE', `resource must be a path pattern or a URL pattern on ${scheme}://${host} (or http*://${host})`)
    }
    resourceScheme = pattern.scheme
    path = pattern.path
  }
  let pathPattern: string
  try {
    pathPattern = decodeURIComponent(path)
    checkRawPath(pathPattern)
  } catch (err) {
    if (err instanceof CodedError) throw appError('INVALID_RESOURCE', `resource: ${err.message}`)
    throw appError('INVALID_RESOURCE', 'resource has a malformed percent-encoding')
  }
  return { resource: `${resourceScheme}://${host}${path}`, pathPattern }
}

function fromPath(request: UrlRequest, ctx: IssueContext, resolved: Distribution | undefined) {
  if (request.distribution === undefined || request.path === undefined) {
    throw appError('VALIDATION_ERROR', 'body must have either url, or distribution and path')
  }
  const distribution = resolved ?? resolveDistribution(ctx, request.distribution)
  // encodePath refuses what checkRawPath refuses.
  return { distribution, scheme: distribution.scheme, host: distribution.domain, path: encodePath(request.path), rawPath: request.path, query: '' }
}

function fromUrl(rawUrl: string, request: UrlRequest, ctx: IssueContext) {
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
  return { distribution, scheme: parsed.protocol.slice(0, -1), host: parsed.hostname, path, rawPath, query }
}
