import { setTimeout as delay } from 'node:timers/promises'
import type { Kms, KmsSigningAlgorithm } from '../aws/kms.js'
import { THROTTLE_RETRY_AFTER_SECONDS } from '../aws/errors.js'
import { appError, CodedError } from '../http/errors.js'
import type { Metrics } from '../metrics/registry.js'
import { createCircuitBreaker, type CircuitBreaker } from '../rate-limit/circuit-breaker.js'
import type { KmsSigningKey } from '../signing/keys.js'
import { toCloudFrontBase64, type HashAlgorithm } from '../signing/policy.js'

export interface KmsSignerOptions {
  /** Sign attempts per signature (throttling, timeouts, network errors and KMS faults are retried). */
  maxAttempts?: number
  /** Full jitter: before attempt n+1, a random wait up to min(maxDelayMs, baseDelayMs × 2^(n-1)). */
  baseDelayMs?: number
  maxDelayMs?: number
  /** Consecutive failed signatures (after their retries) that open an account's circuit. */
  failureThreshold?: number
  /** How long an open circuit fails KMS signatures at once before one probes KMS again. */
  coolDownMs?: number
  /** Waits between attempts (tests pass one that does not). */
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export const DEFAULT_KMS_MAX_ATTEMPTS = 3
export const DEFAULT_KMS_BASE_DELAY_MS = 50
export const DEFAULT_KMS_MAX_DELAY_MS = 400
export const DEFAULT_KMS_FAILURE_THRESHOLD = 5
export const DEFAULT_KMS_COOL_DOWN_MS = 10_000

const ALGORITHMS: Record<KmsSigningKey['algorithm'], KmsSigningAlgorithm> = { RSA: 'RSASSA_PKCS1_V1_5_SHA_256', ECDSA: 'ECDSA_SHA_256' }

export interface KmsSignerDependencies {
  kms: Pick<Kms, 'sign' | 'describeKey'>
  metrics: Pick<Metrics, 'kmsSignFailures' | 'kmsCircuitOpen'>
  /** The clock in epoch milliseconds (the circuit's cool-down). */
  now: () => number
}

/**
 * The KMS backend: a policy signed by KMS (SHA-256 always), retried with jitter while KMS is
 * throttled or slow, then `503 KMS_UNAVAILABLE` with Retry-After. One circuit breaker per account:
 * after `failureThreshold` failed signatures in a row KMS signatures fail at once for the cool-down,
 * then one probes KMS again.
 */
export function createKmsSigner({ kms, metrics, now }: KmsSignerDependencies, options: KmsSignerOptions = {}) {
  const maxAttempts = options.maxAttempts ?? DEFAULT_KMS_MAX_ATTEMPTS
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_KMS_BASE_DELAY_MS
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_KMS_MAX_DELAY_MS
  const sleep = options.sleep ?? ((ms: number) => delay(ms, undefined, { ref: false }))
  const random = options.random ?? Math.random
  const breakers = new Map<string, CircuitBreaker>()

  function breakerFor(account: string): CircuitBreaker {
    let breaker = breakers.get(account)
    if (breaker === undefined) {
      breaker = createCircuitBreaker({
        failureThreshold: options.failureThreshold ?? DEFAULT_KMS_FAILURE_THRESHOLD,
        coolDownMs: options.coolDownMs ?? DEFAULT_KMS_COOL_DOWN_MS,
        now,
        onOpen: () => metrics.kmsCircuitOpen.set({ account }, 1),
        onClose: () => metrics.kmsCircuitOpen.set({ account }, 0),
      })
      breakers.set(account, breaker)
    }
    return breaker
  }

  function unavailable(key: KmsSigningKey, reason: string, retryAfterSeconds: number): CodedError {
    metrics.kmsSignFailures.inc({ code: 'KMS_UNAVAILABLE', reason })
    return appError('KMS_UNAVAILABLE', `KMS cannot sign with key ${key.id} now (${reason}); retry later`, { retryAfterSeconds })
  }

  async function signWithRetries(message: Buffer, key: KmsSigningKey): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await kms.sign(key.kms.account, key.kms.keyArn, message, ALGORITHMS[key.algorithm])
      } catch (err) {
        const retryable = (err as { retryable?: boolean }).retryable === true
        if (!retryable || attempt >= maxAttempts) throw err
        await sleep(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)))
      }
    }
  }

  return {
    /** The CloudFront-base64 signature of the policy JSON; only SHA256 (the issuer refuses SHA1 first). */
    async sign(policyJson: string, key: KmsSigningKey, hashAlgorithm: HashAlgorithm): Promise<string> {
      if (hashAlgorithm !== 'SHA256') throw appError('KMS_REQUIRES_SHA256', `key ${key.id} is in AWS KMS, which signs with SHA-256 only`)
      const breaker = breakerFor(key.kms.account)
      const report = breaker.acquire()
      if (report === undefined) throw unavailable(key, 'circuit_open', Math.max(1, Math.ceil(breaker.retryInMs() / 1000)))
      try {
        const signature = await signWithRetries(Buffer.from(policyJson), key)
        report(true)
        return toCloudFrontBase64(Buffer.from(signature))
      } catch (err) {
        report(false)
        const reason = (err as { reason?: string }).reason ?? 'error'
        if ((err as { retryable?: boolean }).retryable === true) throw unavailable(key, reason, THROTTLE_RETRY_AFTER_SECONDS)
        metrics.kmsSignFailures.inc({ code: 'KMS_REQUEST_FAILED', reason })
        // KMS's own words stay in the log (details); the caller gets a generic 5xx.
        throw appError('KMS_REQUEST_FAILED', `KMS refused to sign with key ${key.id}`, err instanceof CodedError ? err.details : undefined)
      }
    },

    /** Why the key cannot sign now (its circuit is open, DescribeKey fails or the key is no longer Enabled), or undefined: readiness. */
    async unreadyReason(key: KmsSigningKey): Promise<string | undefined> {
      const breaker = breakerFor(key.kms.account)
      // Past the cool-down DescribeKey decides: an unready pod gets no requests to probe the circuit with.
      if (breaker.state() !== 'closed' && breaker.retryInMs() > 0) return `KMS unavailable for the active key ${key.id} (circuit open)`
      try {
        const { keyState } = await kms.describeKey(key.kms.account, key.kms.keyArn)
        return keyState === 'Enabled' ? undefined : `KMS key of the active key ${key.id} is ${keyState}`
      } catch (err) {
        return `KMS unavailable for the active key ${key.id} (${(err as { reason?: string }).reason ?? 'error'})`
      }
    },
  }
}

export type KmsSigner = ReturnType<typeof createKmsSigner>
