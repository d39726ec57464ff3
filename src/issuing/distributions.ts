import type { DistributionConfig } from '../config/schema.js'
import { appError } from '../http/errors.js'
import type { IssueContext } from './context.js'
import { checkDistributionClaim } from './narrowing.js'

export interface Distribution extends DistributionConfig {
  name: string
}

export function resolveDistribution(ctx: IssueContext, name: string): Distribution {
  const dist = Object.hasOwn(ctx.config.distributions, name) ? ctx.config.distributions[name] : undefined
  if (dist === undefined) throw appError('UNKNOWN_DISTRIBUTION', `no distribution named "${name}" is configured`)
  checkDistributionClaim(ctx.caller, name)
  return named(dist, name)
}

// The configuration never changes while it is in use: each distribution is named once, not copied per request.
const namedDistributions = new WeakMap<DistributionConfig, Distribution>()

function named(dist: DistributionConfig, name: string): Distribution {
  let distribution = namedDistributions.get(dist)
  if (distribution === undefined || distribution.name !== name) {
    distribution = Object.freeze({ ...dist, name })
    namedDistributions.set(dist, distribution)
  }
  return distribution
}

/** Finds the distribution a host belongs to (its CloudFront domain or an alias). */
export function resolveDistributionByHost(ctx: IssueContext, host: string): Distribution {
  const wanted = host.toLowerCase()
  for (const [name, dist] of Object.entries(ctx.config.distributions)) {
    if (dist.domain.toLowerCase() === wanted || dist.aliases.some((alias) => alias.toLowerCase() === wanted)) {
      checkDistributionClaim(ctx.caller, name)
      return named(dist, name)
    }
  }
  throw appError('FORBIDDEN_HOST', `${host} is not the domain or an alias of a configured distribution`)
}
