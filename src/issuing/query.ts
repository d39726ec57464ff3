import { buildPolicy } from '../signing/policy.js'
import type { ConditionsInput } from './conditions.js'
import type { IssueContext } from './context.js'
import { planSignedCookies, type CookiePlan } from './cookies.js'

export interface QueryRequest extends ConditionsInput {
  distribution: string
  /** A path pattern (`/hls/movie-42/*`) or a URL pattern on one of the distribution's hosts. */
  resource: string
}

/**
 * Turns a signed-query request into the policy to sign: the cookie plan (same host, resource,
 * narrowing, conditions and viewer rules), always a custom policy, since the query is appended to every URL
 * under the resource and a canned one names a single URL by its Expires alone.
 */
export function planSignedQuery(request: QueryRequest, ctx: IssueContext): CookiePlan {
  const plan = planSignedCookies({ ...request, setCookies: false }, ctx)
  if (plan.policy.type === 'custom') return plan
  return { ...plan, policy: buildPolicy(plan.policy.resource, plan.policy.conditions, true) }
}
