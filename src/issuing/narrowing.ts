import { hasAnyScope, type Caller } from '../auth/caller.js'
import { appError } from '../http/errors.js'
import { checkPatternLimits, matchesPathPattern, pathPatternCovers } from '../signing/resource.js'
import type { Distribution } from './distributions.js'

/** The token's `distributions` claim, when it has one, must name the distribution. */
export function checkDistributionClaim(caller: Caller, name: string): void {
  if (caller.distributions !== undefined && !caller.distributions.includes(name)) {
    throw appError('FORBIDDEN_DISTRIBUTION', `the token does not allow distribution "${name}"`)
  }
}

/** Checks an exact raw path against the distribution's allowedPaths and the caller's `paths` claim. */
export function checkPathAllowed(dist: Distribution, caller: Caller, rawPath: string): void {
  if (!dist.allowedPaths.some((pattern) => matchesPathPattern(pattern, rawPath))) {
    throw appError('FORBIDDEN_PATH', `path ${rawPath} is outside the allowed paths of distribution "${dist.name}"`)
  }
  if (caller.paths !== undefined && !caller.paths.some((pattern) => matchesPathPattern(pattern, rawPath))) {
    throw appError('FORBIDDEN_PATH', `path ${rawPath} is outside the paths the token allows`)
  }
}

/**
 * Checks a wildcard resource before anything is matched against it: the caller needs `sign:wildcard`,
 * the resource (as signed) must be within the pattern limits, and everything its decoded path
 * pattern can match must be allowed.
 */
export function checkPatternAllowed(dist: Distribution, caller: Caller, resource: string, pathPattern: string): void {
  if (!hasAnyScope(caller, ['sign:wildcard'])) {
    throw appError('FORBIDDEN_SCOPE', 'a wildcard resource needs the sign:wildcard scope')
  }
  checkPatternLimits(resource)
  if (!dist.allowedPaths.some((pattern) => pathPatternCovers(pattern, pathPattern))) {
    throw appError('FORBIDDEN_PATH', `resource ${pathPattern} reaches outside the allowed paths of distribution "${dist.name}"`)
  }
  if (caller.paths !== undefined && !caller.paths.some((pattern) => pathPatternCovers(pattern, pathPattern))) {
    throw appError('FORBIDDEN_PATH', `resource ${pathPattern} reaches outside the paths the token allows`)
  }
}
