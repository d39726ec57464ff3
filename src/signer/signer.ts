import { sign as cryptoSign } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { Config } from '../config/schema.js'
import type { Kms } from '../aws/kms.js'
import type { FileSigningKey, SigningKey } from '../signing/keys.js'
import { toCloudFrontBase64, type HashAlgorithm } from '../signing/policy.js'
import { signPolicy, type SignedPolicy } from '../signing/sign.js'
import type { Metrics } from '../metrics/registry.js'
import { defaultWorkerCount } from './cpu-limit.js'
import { createKmsSigner, type KmsSignerOptions } from './kms.js'
import { createWorkerPool } from './pool.js'
import type { SignRequest, Signer } from './port.js'

/**
 * Where the private-key operation runs (`npm run bench` measures all three):
 * - `event-loop`: the SDK, synchronously on the event loop (one core);
 * - `workers`: the SDK in a pool of worker threads, one per CPU the container may use;
 * - `libuv`: node:crypto's asynchronous sign on libuv's thread pool, without the SDK.
 */
export type SignerBackend = 'event-loop' | 'workers' | 'libuv'

export interface SignerOptions {
  backend?: SignerBackend
  /** Worker threads for the `workers` backend (default: one per CPU the container may use). */
  workers?: number
  cacheMaxEntries?: number
  /** Approximate bytes the cache may hold (policy JSON, signature and bookkeeping per entry). */
  cacheMaxBytes?: number
  /** Retries, jitter and circuit breaker for keys in KMS (src/signer/kms.ts). */
  kms?: KmsSignerOptions
}

// Workers and libuv both use every core and measured alike (README, Performance): the SDK stays the signer.
export const DEFAULT_SIGNER_BACKEND: SignerBackend = 'workers'
export const DEFAULT_CACHE_MAX_ENTRIES = 50_000
export const DEFAULT_CACHE_MAX_BYTES = 16 * 1024 * 1024
// Besides the key text: the signature, the cached promise and lru-cache's slots (README, Signature cache).
const CACHE_ENTRY_OVERHEAD_BYTES = 768
const CACHE_PURGE_INTERVAL_MS = 60_000

type SignatureBackend = (policyJson: string, key: FileSigningKey, hashAlgorithm: HashAlgorithm) => Promise<string>

function signOnThreadPool(policyJson: string, key: FileSigningKey, hashAlgorithm: HashAlgorithm): Promise<string> {
  return new Promise((resolve, reject) => {
    cryptoSign(hashAlgorithm === 'SHA256' ? 'sha256' : 'sha1', Buffer.from(policyJson), key.privateKey, (err, signature) =>
      err ? reject(err) : resolve(toCloudFrontBase64(signature)),
    )
  })
}

function createBackend(options: SignerOptions): { sign: SignatureBackend; close: () => Promise<void> } {
  const backend = options.backend ?? DEFAULT_SIGNER_BACKEND
  if (backend === 'workers') return createWorkerPool(options.workers ?? defaultWorkerCount())
  if (backend === 'libuv') return { sign: signOnThreadPool, close: async () => {} }
  return { sign: async (policyJson, key, hashAlgorithm) => signPolicy(policyJson, key, hashAlgorithm), close: async () => {} }
}

export interface SignerDependencies {
  metrics: Metrics
  distributions: Config['distributions']
  /** The KMS adapter keys.kms keys sign through (the app always has one; a bare signer needs none). */
  kms?: Pick<Kms, 'sign' | 'describeKey'>
  /** The clock in epoch milliseconds (cache entries live until their policy expires). */
  now: () => number
}

/**
 * The signer port's implementation: turns a policy into a signed policy, off the event loop (a file
 * key) or in AWS KMS (a KMS key), with a signature cache for distributions whose expiry granularity
 * is above one second: a signature is a pure function of the policy JSON, the key and the hash
 * algorithm, so requests that round to the same expiry share it. Concurrent requests for the same
 * signature share one signing, cached or not.
 */
export function createPolicySigner(
  { metrics, distributions, now, kms }: SignerDependencies,
  options: SignerOptions = {},
): Signer & { unreadyReason(key: SigningKey): Promise<string | undefined>; close(): Promise<void> } {
  const backend = createBackend(options)
  const kmsSigner = kms && createKmsSigner({ kms, metrics, now }, options.kms)
  // Signings under way, by cache key: bounded by the requests in flight, each entry gone when it settles.
  const inFlight = new Map<string, Promise<string>>()
  // With a granularity of 1 s every policy is unique: caching would only cost memory.
  const cachedDistributions = new Set(Object.keys(distributions).filter((name) => distributions[name].expiryGranularitySeconds > 1))
  const cache =
    cachedDistributions.size === 0
      ? undefined
      : new LRUCache<string, Promise<string>>({
          // Entries age on the app's clock, the one their ttl is computed from.
          perf: { now },
          max: options.cacheMaxEntries ?? DEFAULT_CACHE_MAX_ENTRIES,
          maxSize: options.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES,
          sizeCalculation: (_signature, cacheKey) => cacheKey.length + CACHE_ENTRY_OVERHEAD_BYTES,
        })
  // Expired entries are never asked for again (their policy's expiry has passed); free them regularly.
  const purgeTimer = cache && setInterval(() => cache.purgeStale(), CACHE_PURGE_INTERVAL_MS).unref()

  function startSigning(policyJson: string, key: SigningKey, hashAlgorithm: HashAlgorithm): Promise<string> {
    if (key.kind === 'file') return backend.sign(policyJson, key, hashAlgorithm)
    if (kmsSigner === undefined) return Promise.reject(new Error(`key ${key.id} is in KMS and the signer has no KMS client`))
    return kmsSigner.sign(policyJson, key, hashAlgorithm)
  }

  /** One signing per signature at a time: a request that finds the same one under way waits for it. */
  function signOnce(cacheKey: string, policyJson: string, key: SigningKey, hashAlgorithm: HashAlgorithm): Promise<string> {
    const pending = inFlight.get(cacheKey)
    if (pending !== undefined) return pending
    const signing = startSigning(policyJson, key, hashAlgorithm)
    inFlight.set(cacheKey, signing)
    const settle = () => {
      inFlight.delete(cacheKey)
    }
    signing.then(settle, settle)
    return signing
  }

  function signature({ policy, key, hashAlgorithm, distribution }: SignRequest): Promise<string> {
    // The fingerprint keeps a reloaded key that reuses its ID from ever being served the old key's signatures.
    const cacheKey = `${key.id}\n${key.fingerprint}\n${hashAlgorithm}\n${policy.json}`
    if (cache === undefined || !cachedDistributions.has(distribution)) return signOnce(cacheKey, policy.json, key, hashAlgorithm)
    const cached = cache.get(cacheKey)
    if (cached !== undefined) {
      metrics.signatureCache.inc({ result: 'hit' })
      return cached
    }
    metrics.signatureCache.inc({ result: 'miss' })
    const signing = signOnce(cacheKey, policy.json, key, hashAlgorithm)
    const ttl = Math.floor(policy.conditions.expires * 1000 - now())
    if (ttl >= 1) {
      // The promise itself is cached, so concurrent requests for a popular path share one signing.
      cache.set(cacheKey, signing, { ttl })
      signing.catch(() => {
        if (cache.peek(cacheKey) === signing) cache.delete(cacheKey)
      })
    }
    return signing
  }

  return {
    async sign(request: SignRequest): Promise<SignedPolicy> {
      const { kind, policy, key, hashAlgorithm, distribution } = request
      const signed = await signature(request)
      metrics.signaturesIssued.inc({ kind, distribution, policy: policy.type, algorithm: `${key.algorithm}-${hashAlgorithm}`, key_id: key.id })
      return { policy, keyId: key.id, hashAlgorithm, signature: signed }
    },
    /** Why the key cannot sign now (a KMS key whose KMS does not answer), or undefined: readiness. */
    unreadyReason(key: SigningKey): Promise<string | undefined> {
      return key.kind === 'kms' && kmsSigner !== undefined ? kmsSigner.unreadyReason(key) : Promise.resolve(undefined)
    },
    async close(): Promise<void> {
      if (purgeTimer !== undefined) clearInterval(purgeTimer)
      cache?.clear()
      await backend.close()
    },
  }
}
