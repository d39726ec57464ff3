// What the inspector needs of a distribution: which keys each cache behaviour trusts, read once in a while.
import { GetDistributionCommand, type CacheBehavior, type DefaultCacheBehavior } from '@aws-sdk/client-cloudfront'
import { LRUCache } from 'lru-cache'
import type { BehaviourTrust, DistributionTrust } from '../signing/trust.js'
import type { AwsAccount, AwsAccounts } from './accounts.js'
import { itemsOf } from './cloudfront.js'

/** A distribution's trust changes with a deployment, minutes apart: a minute old is fresh enough to explain a 403. */
export const TRUST_CACHE_TTL_MS = 60_000
export const TRUST_CACHE_MAX_ENTRIES = 100

function behaviourTrust(behaviour: CacheBehavior | DefaultCacheBehavior | undefined, pathPattern: string): BehaviourTrust {
  const enabled = <T>(list: { Enabled?: boolean; Items?: T[] } | undefined) => (list?.Enabled ? itemsOf(list) : [])
  return { pathPattern, trustedKeyGroupIds: enabled(behaviour?.TrustedKeyGroups), trustedSigners: enabled(behaviour?.TrustedSigners) }
}

/** One GetDistribution: the behaviours from its config, each trusted key group's public keys from ActiveTrustedKeyGroups. */
export async function readDistributionTrust(account: AwsAccount, id: string): Promise<DistributionTrust> {
  const { Distribution: distribution } = await account.cloudFront.send(new GetDistributionCommand({ Id: id }))
  const config = distribution?.DistributionConfig
  return {
    id,
    behaviours: itemsOf(config?.CacheBehaviors).map((b) => behaviourTrust(b, b.PathPattern ?? '')),
    defaultBehaviour: behaviourTrust(config?.DefaultCacheBehavior, '*'),
    keyGroups: Object.fromEntries(itemsOf(distribution?.ActiveTrustedKeyGroups).map((g) => [g.KeyGroupId ?? '', itemsOf(g.KeyPairIds)])),
  }
}

/**
 * Distribution trust by account and ID, cached for TRUST_CACHE_TTL_MS in at most
 * TRUST_CACHE_MAX_ENTRIES entries; concurrent reads share one call, and a failed read is not kept.
 */
export function createTrustReader(accounts: AwsAccounts, now: () => number, options: { ttlMs?: number; maxEntries?: number } = {}) {
  const cache = new LRUCache<string, Promise<DistributionTrust>>({ max: options.maxEntries ?? TRUST_CACHE_MAX_ENTRIES, ttl: options.ttlMs ?? TRUST_CACHE_TTL_MS, perf: { now } })
  return {
    read(accountName: string | undefined, id: string): Promise<DistributionTrust> {
      const account = accounts.resolve(accountName)
      const key = `${account.name}/${id}`
      const cached = cache.get(key)
      if (cached !== undefined) return cached
      const reading = readDistributionTrust(account, id)
      cache.set(key, reading)
      reading.catch(() => cache.peek(key) === reading && cache.delete(key))
      return reading
    },
  }
}

export type TrustReader = ReturnType<typeof createTrustReader>
