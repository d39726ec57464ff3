// A grant on a distribution with the edge layer (distributions.<name>.edge) carries an edge token beside
// CloudFront's signature: its grant ID, its caller, its expiry and its viewer rules, which the viewer-request
// function checks (src/edge/token.ts). Here: which rules a grant gets, and its token.
import type { Caller } from '../auth/caller.js'
import type { Config } from '../config/schema.js'
import { createEdgeToken, EDGE_TOKEN_PARAMETER, type EdgeKey } from '../edge/token.js'
import { hasViewerRules, narrowViewerRules, type ViewerRules } from '../edge/viewer-rules.js'
import { appError } from '../http/errors.js'
import type { IssueContext } from './context.js'
import type { Distribution } from './distributions.js'

/** The viewer rules a signing request may ask for; an IPv6 `ipAddress` joins them as ipRanges (conditions.ts). */
export interface ViewerRuleInput {
  referrers?: string[]
  allowEmptyReferrer?: boolean
  countries?: { allow?: string[]; deny?: string[] }
}

function requestsViewerRules(input: ViewerRuleInput): boolean {
  return input.referrers !== undefined || input.allowEmptyReferrer !== undefined || input.countries !== undefined
}

/**
 * The viewer rules a grant's edge token carries: the request's, narrowed by the caller's claims; undefined for a
 * grant without an edge token, after refusing the rules nobody would enforce for it.
 */
export function resolveViewerRules(input: ViewerRuleInput, ipv6Range: string | undefined, dist: Distribution, caller: Caller, edge: boolean): ViewerRules | undefined {
  if (!edge) {
    if (requestsViewerRules(input)) {
      throw appError('EDGE_NOT_ENABLED', `distributions.${dist.name}.edge is off: CloudFront cannot enforce referrers/countries`)
    }
    refuseClaimedRules(caller, `distribution "${dist.name}" has no edge layer (distributions.${dist.name}.edge)`)
    return undefined
  }
  const { referrers, allowEmptyReferrer, countries } = input
  return narrowViewerRules({ referrers, allowEmptyReferrer, countries, ipRanges: ipv6Range === undefined ? undefined : [ipv6Range] }, caller.viewerRules)
}

/** A caller whose token carries viewer rules signs only where they are enforced: leaving them out would widen it. */
export function refuseClaimedRules(caller: Caller, where: string): void {
  if (hasViewerRules(caller.viewerRules)) {
    throw appError('EDGE_REQUIRED', `the token carries viewer rules (referrers, countries or ipRanges), which only the edge layer enforces: ${where}`)
  }
}

/** Refuses viewer rules where no edge function runs (RTMP streams): 400 EDGE_NOT_APPLICABLE, or 403 EDGE_REQUIRED for the caller's own. */
export function refuseViewerRules(input: ViewerRuleInput, caller: Caller, what: string): void {
  if (requestsViewerRules(input)) throw appError('EDGE_NOT_APPLICABLE', `${what} pass no edge function: referrers, allowEmptyReferrer and countries do not apply`)
  refuseClaimedRules(caller, `${what} pass no edge function`)
}

export interface EdgeGrant {
  grantId: string
  /** The policy's expiry, epoch seconds. */
  expires: number
  rules: ViewerRules
  /** The CloudFront Signature value a token outside the signed resource is bound to. */
  binding?: string
  /** For an exact URL signed with `cf-edge=*`: the query values it carries besides the signing parameters, token included. */
  queryValueCount?: number
}

/** The grant's edge token, signed with edge.activeKeyId's key; an EDGE_TOKEN_* error for a token the function could not read. */
export function createGrantToken(ctx: IssueContext, grant: EdgeGrant): string {
  const { grantId, expires, rules, binding, queryValueCount } = grant
  return createEdgeToken({ grantId, sub: ctx.caller.sub, issuedAt: ctx.now, expires, binding, queryValueCount, ...rules }, activeEdgeKey(ctx.config))
}

/** `cf-edge=<token>`: a token is base64url and dots, nothing to encode. */
export function edgeTokenParam(token: string): string {
  return `${EDGE_TOKEN_PARAMETER}=${token}`
}

function activeEdgeKey(config: Config): EdgeKey {
  // load.ts refuses an edge distribution without edge.keysDir and a loaded edge.activeKeyId.
  if (config.edge.activeKey === undefined) throw appError('EDGE_NOT_CONFIGURED', 'edge.activeKeyId names no loaded edge key')
  return config.edge.activeKey
}
