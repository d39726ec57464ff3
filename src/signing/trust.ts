import { matchesWildcard } from './resource.js'

/** Who a cache behaviour trusts to sign: its enabled trusted key groups and trusted signers (`self` or account IDs). */
export interface BehaviourTrust {
  /** The behaviour's path pattern; `*` for the default behaviour. */
  pathPattern: string
  trustedKeyGroupIds: string[]
  trustedSigners: string[]
}

/** What CloudFront says of a distribution's trust: its behaviours in order, the default, and each key group's public key IDs. */
export interface DistributionTrust {
  id: string
  behaviours: BehaviourTrust[]
  defaultBehaviour: BehaviourTrust
  keyGroups: Record<string, string[]>
}

/** Why the distribution, not the signature, would refuse (or not need) a credential. */
export const TRUST_REASONS = ['KEY_NOT_TRUSTED', 'SIGNING_NOT_REQUIRED', 'KEY_GROUP_ID_AS_KEY_ID', 'LEGACY_KEY_PAIR_ID'] as const
export type TrustReason = (typeof TRUST_REASONS)[number]

export interface TrustJudgement {
  distributionId: string
  /** The path pattern of the behaviour that serves the path (`*`: the default behaviour). */
  behaviour: string
  /** null when it cannot be known: no Key-Pair-Id, no signing required, or a legacy key pair of a trusted signer account. */
  trusted: boolean | null
  reason: TrustReason | null
  keyGroups: Array<{ id: string; publicKeyIds: string[] }>
  trustedSigners: string[]
  detail: string
}

const KEY_GROUP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// CloudFront key pairs (trusted signers, made by the root user) have IDs starting APKA.
const LEGACY_KEY_PAIR_ID = /^APKA[A-Z0-9]+$/

/**
 * The behaviour CloudFront routes a path to: the first cache behaviour whose pattern matches (`*` any
 * run, `?` one character, case-sensitive, the leading `/` optional), else the default one.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/distribution-web-values-specify.html#DownloadDistValuesPathPattern
 */
export function matchBehaviour(trust: DistributionTrust, path: string): BehaviourTrust {
  return trust.behaviours.find((b) => matchesWildcard(b.pathPattern.startsWith('/') ? b.pathPattern : `/${b.pathPattern}`, path)) ?? trust.defaultBehaviour
}

/** Whether the behaviour serving `path` trusts `keyId`, and if not, the likely mistake. */
export function judgeKeyTrust(trust: DistributionTrust, path: string, keyId: string | null): TrustJudgement {
  const behaviour = matchBehaviour(trust, path)
  const keyGroups = behaviour.trustedKeyGroupIds.map((id) => ({ id, publicKeyIds: trust.keyGroups[id] ?? [] }))
  const base = { distributionId: trust.id, behaviour: behaviour.pathPattern, keyGroups, trustedSigners: behaviour.trustedSigners }
  const where = behaviour.pathPattern === '*' ? 'the default behaviour' : `the behaviour ${behaviour.pathPattern}`
  const judged = (trusted: boolean | null, reason: TrustReason | null, detail: string): TrustJudgement => ({ ...base, trusted, reason, detail })

  if (keyGroups.length === 0 && behaviour.trustedSigners.length === 0) {
    return judged(null, 'SIGNING_NOT_REQUIRED', `${where} restricts no viewer access: CloudFront serves ${path} without any signature`)
  }
  if (keyId === null || keyId === '') return judged(null, null, 'no Key-Pair-Id to look up')
  const group = keyGroups.find((g) => g.publicKeyIds.includes(keyId))
  if (group !== undefined) return judged(true, null, `public key ${keyId} is in key group ${group.id}, trusted by ${where}`)
  if (KEY_GROUP_ID.test(keyId) || keyId in trust.keyGroups) {
    return judged(false, 'KEY_GROUP_ID_AS_KEY_ID', `${keyId} is a key group ID: Key-Pair-Id must be the ID of a public key in the group`)
  }
  if (LEGACY_KEY_PAIR_ID.test(keyId)) {
    if (behaviour.trustedSigners.length > 0) {
      return judged(null, null, `${keyId} is a CloudFront key pair: ${where} trusts the key pairs of ${behaviour.trustedSigners.join(', ')}, which the API cannot list`)
    }
    return judged(false, 'LEGACY_KEY_PAIR_ID', `${keyId} is a legacy CloudFront key pair ID (trusted signers); ${where} trusts key groups only: sign with a public key of ${keyGroups.map((g) => g.id).join(', ')}`)
  }
  const trusted = keyGroups.map((g) => `${g.id} (${g.publicKeyIds.join(', ') || 'no keys'})`).join('; ')
  return judged(false, 'KEY_NOT_TRUSTED', `public key ${keyId} is in none of the key groups ${where} trusts: ${trusted || 'none (trusted signers only)'}`)
}
