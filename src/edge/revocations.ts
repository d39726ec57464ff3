// Revocations in each edge distribution's KeyValueStore: `revoked:g:<grantId>` and `revoked:s:<subHash>`, valued
// `{"t":revokedAt,"x":removeAfter,"r"?:reason}` (epoch seconds). The viewer-request function reads them; this writes,
// lists and sweeps them. No Fastify here: the routes and the sweep plugin hand in the targets and the clock.
import type { AwsAccount } from '../aws/accounts.js'
import { findKeyValueStore, getKvsKey, listKvsKeys, updateKvsKeys } from '../aws/keyvaluestore.js'
import { appError, CodedError } from '../http/errors.js'
import { edgeResourceName } from './naming.js'
import {
  EDGE_KVS_REVOKED_GRANT_PREFIX,
  EDGE_KVS_REVOKED_SUB_PREFIX,
  formatRevocationValue,
  parseRevocationValue,
  type RevocationValue,
} from './token.js'

/** Added to a revocation's lifetime: another replica's clock may run this far ahead when it signs. */
export const REVOCATION_CLOCK_SKEW_SECONDS = 60
/** A listing answers at most this many revocations (the store's 5 MB hold some 24,000 to 85,000: README, Edge layer). */
export const MAX_LISTED_REVOCATIONS = 10_000
/** Store ARNs remembered, one per (account, distribution); more distributions than this only cost a lookup. */
const MAX_CACHED_STORES = 256
/** Where the store a route name deploys: said when it is missing. */
export const EDGE_DEPLOY_ROUTE = 'PUT /v1/admin/distributions/{id}/edge'

export type RevocationKind = 'grant' | 'sub'

/** One edge distribution a revocation goes to. */
export interface EdgeTarget {
  /** The configured distribution name. */
  name: string
  distributionId: string
  account: AwsAccount
  maxTtlSeconds: number
}

export interface RevocationSubject {
  kind: RevocationKind
  /** The grant ID, or the subject's hash (hashSubject): the raw sub never reaches the store. */
  id: string
}

export interface Revocation extends RevocationSubject {
  revokedAt: number
  removeAfter: number
  reason?: string
  /** The distribution names whose stores hold it. */
  distributions: string[]
}

export interface RevocationOutcome {
  revocation: Revocation
  /** Distribution names written; present when `failures` is not empty too. */
  revokedIn: string[]
  failures: Array<{ name: string; error: unknown }>
}

export function revocationKey(subject: RevocationSubject): string {
  return (subject.kind === 'grant' ? EDGE_KVS_REVOKED_GRANT_PREFIX : EDGE_KVS_REVOKED_SUB_PREFIX) + subject.id
}

export function subjectOfKey(key: string): RevocationSubject | undefined {
  if (key.startsWith(EDGE_KVS_REVOKED_GRANT_PREFIX)) return { kind: 'grant', id: key.slice(EDGE_KVS_REVOKED_GRANT_PREFIX.length) }
  if (key.startsWith(EDGE_KVS_REVOKED_SUB_PREFIX)) return { kind: 'sub', id: key.slice(EDGE_KVS_REVOKED_SUB_PREFIX.length) }
  return undefined
}

/**
 * The value to write over `existing`. A subject's `t` moves forward (grants issued since the last revocation are
 * denied too); a grant's keeps the earlier `t` (it has been revoked since then). `x` only grows: every token the
 * entry could deny (issued at or before `t`, living at most maxTtlSeconds) has expired by then, skew included.
 */
export function nextRevocationValue(kind: RevocationKind, existing: RevocationValue | undefined, nowSeconds: number, maxTtlSeconds: number, reason: string | undefined): RevocationValue {
  const t = existing === undefined ? nowSeconds : kind === 'sub' ? Math.max(existing.t, nowSeconds) : Math.min(existing.t, nowSeconds)
  const x = Math.max(existing?.x ?? 0, t + maxTtlSeconds + REVOCATION_CLOCK_SKEW_SECONDS, nowSeconds + maxTtlSeconds + REVOCATION_CLOCK_SKEW_SECONDS)
  const r = reason ?? existing?.r
  return { t, x, ...(r !== undefined && { r }) }
}

const codeOf = (err: unknown): string | undefined => (err instanceof CodedError ? err.code : undefined)

export interface RevocationsOptions {
  /** Epoch milliseconds. */
  now: () => number
}

export function createRevocations(options: RevocationsOptions) {
  const nowSeconds = () => Math.floor(options.now() / 1000)
  // Store ARNs by account and distribution ID; a store deleted since is dropped on ResourceNotFoundException.
  const arns = new Map<string, string>()
  const cacheKey = (target: EdgeTarget) => `${target.account.name}/${target.distributionId}`

  async function storeArn(target: EdgeTarget): Promise<string> {
    const cached = arns.get(cacheKey(target))
    if (cached !== undefined) return cached
    const name = edgeResourceName(target.distributionId)
    const store = await findKeyValueStore(target.account, name)
    if (store === undefined) {
      throw appError(
        'EDGE_NOT_DEPLOYED',
        `distribution ${target.name} has no edge KeyValueStore ${name} in account ${target.account.name}: deploy the edge layer with ${EDGE_DEPLOY_ROUTE.replace('{id}', target.distributionId)}`,
      )
    }
    if (arns.size >= MAX_CACHED_STORES) arns.delete(arns.keys().next().value!)
    arns.set(cacheKey(target), store.arn)
    return store.arn
  }

  /** Runs `work` on the target's store; a store gone since it was cached is looked up again once. */
  async function withStore<T>(target: EdgeTarget, work: (arn: string) => Promise<T>): Promise<T> {
    const arn = await storeArn(target)
    try {
      return await work(arn)
    } catch (err) {
      if (codeOf(err) !== 'ResourceNotFoundException') throw err
      arns.delete(cacheKey(target))
      return work(await storeArn(target))
    }
  }

  async function revokeIn(target: EdgeTarget, subject: RevocationSubject, reason: string | undefined, now: number): Promise<RevocationValue> {
    const key = revocationKey(subject)
    return withStore(target, async (arn) => {
      const current = await getKvsKey(target.account, arn, key)
      const value = nextRevocationValue(subject.kind, current === undefined ? undefined : parseRevocationValue(current), now, target.maxTtlSeconds, reason)
      await updateKvsKeys(target.account, arn, { puts: [{ key, value: formatRevocationValue(value) }] })
      return value
    })
  }

  /** The entries of one store, the due ones deleted first (they deny nothing any more). */
  async function activeIn(target: EdgeTarget, now: number): Promise<Array<{ key: string; value: RevocationValue }>> {
    return withStore(target, async (arn) => {
      const { active, due } = partition(await listRevocationEntries(target.account, arn), now)
      // Best effort: a listing is a read, and the periodic sweep deletes what this could not.
      if (due.length > 0) await updateKvsKeys(target.account, arn, { deletes: due }).catch(() => undefined)
      return active
    })
  }

  return {
    /**
     * Writes the revocation to every target's store, all of them tried even when one fails: each write is
     * idempotent, so a retry after a partial failure is safe. `revokedAt` is the earliest `t` written (every
     * store denies since then at least), `removeAfter` the latest `x`.
     */
    async revoke(targets: readonly EdgeTarget[], subject: RevocationSubject, reason?: string): Promise<RevocationOutcome> {
      const now = nowSeconds()
      const settled = await Promise.allSettled(targets.map((target) => revokeIn(target, subject, reason, now)))
      const written: Array<{ name: string; value: RevocationValue }> = []
      const failures: RevocationOutcome['failures'] = []
      settled.forEach((result, index) => {
        const name = targets[index]!.name
        if (result.status === 'fulfilled') written.push({ name, value: result.value })
        else failures.push({ name, error: result.reason })
      })
      const values = written.map((entry) => entry.value)
      const revocation: Revocation = {
        ...subject,
        revokedAt: values.length > 0 ? Math.min(...values.map((value) => value.t)) : now,
        removeAfter: Math.max(0, ...values.map((value) => value.x)),
        ...(reason !== undefined ? { reason } : values[0]?.r !== undefined && { reason: values[0].r }),
        distributions: written.map((entry) => entry.name),
      }
      return { revocation, revokedIn: revocation.distributions, failures }
    },

    /**
     * The active revocations of the targets, merged by key (earliest `t`, latest `x`), at most
     * MAX_LISTED_REVOCATIONS, sorted by kind and ID. Entries already due are deleted on the way, not listed. A
     * distribution whose store is not deployed yet is named in `notDeployed`, not an error (unless requireDeployed).
     */
    async list(targets: readonly EdgeTarget[], options: { requireDeployed?: boolean } = {}): Promise<{ items: Revocation[]; truncated: boolean; notDeployed: string[] }> {
      const now = nowSeconds()
      const merged = new Map<string, Revocation>()
      const notDeployed: string[] = []
      for (const target of targets) {
        let active
        try {
          active = await activeIn(target, now)
        } catch (err) {
          if (codeOf(err) !== 'EDGE_NOT_DEPLOYED' || options.requireDeployed === true) throw err
          notDeployed.push(target.name)
          continue
        }
        for (const { key, value } of active) {
          const known = merged.get(key)
          if (known === undefined) {
            const subject = subjectOfKey(key)!
            merged.set(key, { ...subject, revokedAt: value.t, removeAfter: value.x, ...(value.r !== undefined && { reason: value.r }), distributions: [target.name] })
          } else {
            known.revokedAt = Math.min(known.revokedAt, value.t)
            known.removeAfter = Math.max(known.removeAfter, value.x)
            if (known.reason === undefined && value.r !== undefined) known.reason = value.r
            known.distributions.push(target.name)
          }
        }
      }
      const items = [...merged.values()].sort((a, b) => (a.kind === b.kind ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.kind === 'grant' ? -1 : 1))
      return { items: items.slice(0, MAX_LISTED_REVOCATIONS), truncated: items.length > MAX_LISTED_REVOCATIONS, notDeployed }
    },

    /**
     * Deletes every entry whose removeAfter has passed from each target's store. A store that fails (missing,
     * throttled) is reported and the others still swept; nothing throws.
     */
    async sweep(targets: readonly EdgeTarget[]): Promise<{ removed: number; failures: Array<{ name: string; error: unknown }> }> {
      const now = nowSeconds()
      let removed = 0
      const failures: Array<{ name: string; error: unknown }> = []
      for (const target of targets) {
        try {
          removed += await withStore(target, async (arn) => {
            const { due } = partition(await listRevocationEntries(target.account, arn), now)
            if (due.length > 0) await updateKvsKeys(target.account, arn, { deletes: due })
            return due.length
          })
        } catch (error) {
          failures.push({ name: target.name, error })
        }
      }
      return { removed, failures }
    },
  }
}

export type Revocations = ReturnType<typeof createRevocations>

/** What edgeTargets() reads of the configuration. */
export interface EdgeDistributionConfig {
  distributionId?: string
  account?: string
  maxTtlSeconds: number
  edge: boolean
}

/**
 * The edge distributions a revocation goes to: the one named (it must have edge: true), else every one with
 * edge: true (none is a 409). `resolveAccount` is the AWS accounts' resolve (503 with no AWS configured).
 */
export function edgeTargets(
  distributions: Readonly<Record<string, EdgeDistributionConfig>>,
  resolveAccount: (name: string | undefined) => AwsAccount,
  named?: string,
): EdgeTarget[] {
  let chosen: Array<[string, EdgeDistributionConfig]>
  if (named !== undefined) {
    const dist = Object.hasOwn(distributions, named) ? distributions[named] : undefined
    if (dist === undefined) throw appError('UNKNOWN_DISTRIBUTION', `no distribution named "${named}" is configured`)
    if (!dist.edge) throw appError('EDGE_NOT_ENABLED', `distribution ${named} does not have the edge layer on (distributions.${named}.edge)`)
    chosen = [[named, dist]]
  } else {
    chosen = Object.entries(distributions).filter(([, dist]) => dist.edge)
    if (chosen.length === 0) throw appError('EDGE_NOT_CONFIGURED', 'no distribution has the edge layer on: set distributions.<name>.edge')
  }
  // The configuration refuses edge: true without a distributionId.
  return chosen.map(([name, dist]) => ({ name, distributionId: dist.distributionId!, account: resolveAccount(dist.account), maxTtlSeconds: dist.maxTtlSeconds }))
}

/** The store's revocation entries; a value that cannot be read is kept out of listings and never swept (the function denies on it). */
async function listRevocationEntries(account: AwsAccount, arn: string): Promise<Array<{ key: string; value: RevocationValue }>> {
  // Both prefixes share `revoked:`: one listing reads them.
  const entries = await listKvsKeys(account, arn, 'revoked:')
  const revocations: Array<{ key: string; value: RevocationValue }> = []
  for (const entry of entries) {
    if (subjectOfKey(entry.key) === undefined) continue
    const value = parseRevocationValue(entry.value)
    if (value !== undefined) revocations.push({ key: entry.key, value })
  }
  return revocations
}

function partition(entries: Array<{ key: string; value: RevocationValue }>, now: number) {
  const active: Array<{ key: string; value: RevocationValue }> = []
  const due: string[] = []
  for (const entry of entries) {
    if (entry.value.x <= now) due.push(entry.key)
    else active.push(entry)
  }
  return { active, due }
}
