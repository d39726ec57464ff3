import type { FastifyInstance, FastifyRequest } from 'fastify'
import { selectKey, type Distribution, type GrantContext } from '../../grants/resolve.js'
import type { HashAlgorithm, Policy } from '../../signing/policy.js'
import type { Grant } from '../../signing/sign.js'

/** The per-request facts every signing route needs. */
export function grantContext(app: FastifyInstance, request: FastifyRequest): GrantContext {
  return { config: app.config, caller: request.caller, now: Math.floor(app.now() / 1000), clientIp: request.ip }
}

/** Signs a planned policy with the key asked for (or the active one): the step every signing route shares. */
export function signPlan(
  app: FastifyInstance,
  plan: { policy: Policy; distribution: Distribution },
  options: { keyId?: string; hashAlgorithm?: HashAlgorithm },
): Promise<Grant> {
  const key = selectKey(app.keyStore, options.keyId)
  return app.signer.sign({ policy: plan.policy, key, hashAlgorithm: options.hashAlgorithm ?? 'SHA1', distribution: plan.distribution.name })
}

/** What every signing answer carries besides the credential itself. */
export function grantFields(grant: Grant) {
  const { expires } = grant.policy.conditions
  return { expires, expiresAt: isoFromEpoch(expires), policy: grant.policy.type, resource: grant.policy.resource, keyId: grant.keyId }
}

// Expiries repeat (a granularity rounds them, and requests of the same second share one): keep the last.
let lastIso = { seconds: NaN, iso: '' }

export function isoFromEpoch(seconds: number): string {
  if (seconds !== lastIso.seconds) lastIso = { seconds, iso: new Date(seconds * 1000).toISOString() }
  return lastIso.iso
}
