import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { Config } from '../config/schema.js'
import { appError, type CodedError } from '../http/errors.js'
import type { Metrics } from '../metrics/registry.js'
import { createCircuitBreaker } from './circuit-breaker.js'

const REDIS_KEY_PREFIX = 'cf-signer:rate-limit:'

/** Where store trouble is reported: the app's logger. */
export interface StoreLog {
  info(message: string): void
  warn(details: object, message: string): void
}

export interface StoreDependencies {
  metrics: Metrics
  log: StoreLog
  /** The clock in epoch milliseconds. */
  now: () => number
}

/** In-memory budgets stay bounded: the least recently seen callers are forgotten first. */
const MEMORY_STORE_MAX_CALLERS = 100_000

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void

/**
 * Fixed-window counters in memory, on the app's clock. The plugin's own LocalStore hands every
 * caller the same mutable counter, so concurrent requests all read the final count and a burst at
 * the limit is refused whole; here each request gets its own snapshot.
 */
export function createMemoryStore(now: () => number) {
  return class MemoryStore {
    private readonly windows = new LRUCache<string, { count: number; resetAtMs: number }>({ max: MEMORY_STORE_MAX_CALLERS })

    incr(key: string, callback: IncrCallback, timeWindowMs: number): void {
      const nowMs = now()
      let window = this.windows.get(key)
      if (window === undefined || window.resetAtMs <= nowMs) {
        window = { count: 0, resetAtMs: nowMs + timeWindowMs }
        this.windows.set(key, window)
      }
      window.count += 1
      callback(null, { current: window.count, ttl: window.resetAtMs - nowMs })
    }

    child(): MemoryStore {
      return new MemoryStore()
    }
  }
}

// Atomic, one round trip: count the request, and start the window with the first one.
const INCR_WINDOW_LUA = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {current, redis.call('PTTL', KEYS[1])}`

/** The longest a TCP connection to Redis may take, and the start waits for the first one. */
export const REDIS_CONNECT_TIMEOUT_MS = 2000

// ioredis rejects a command that outlived `commandTimeout` with this message (it exports no error class).
const COMMAND_TIMED_OUT = 'Command timed out'

/**
 * The same fixed windows in Redis, shared by every instance: `cf-signer:rate-limit:<group>:<caller>`.
 * Redis sits behind a circuit breaker: a command waits at most `redisTimeoutMs`, and after
 * `redisFailureThreshold` failures in a row requests skip Redis for `redisCoolDownSeconds`, so a
 * Redis that hangs costs a request a bounded wait, then none. A request Redis did not count fails
 * with RATE_LIMIT_UNAVAILABLE, which the limiter skips (`onStoreFailure: open`) or answers (`closed`).
 */
export function createRedisStore({ metrics, log, now }: StoreDependencies, redis: Redis, settings: Config['rateLimit']) {
  const consequence = settings.onStoreFailure === 'open' ? 'requests pass unlimited' : 'limited requests are refused'
  let lastFailure = ''
  const breaker = createCircuitBreaker({
    failureThreshold: settings.redisFailureThreshold,
    coolDownMs: settings.redisCoolDownSeconds * 1000,
    now,
    onOpen: () => {
      metrics.rateLimitStoreCircuitOpen.set(1)
      metrics.rateLimitStoreCircuitTrips.inc()
      log.warn(
        { failures: settings.redisFailureThreshold, reason: lastFailure, coolDownSeconds: settings.redisCoolDownSeconds },
        `rate-limit store circuit open: Redis is skipped and ${consequence} until a probe succeeds`,
      )
    },
    onClose: () => {
      metrics.rateLimitStoreCircuitOpen.set(0)
      log.info('rate-limit store circuit closed: Redis answers again, limits are enforced')
    },
  })

  function unavailable(reason: 'timeout' | 'error' | 'circuit_open'): CodedError {
    metrics.rateLimitStoreUnavailable.inc({ reason })
    const retryAfterSeconds = Math.max(1, Math.ceil(breaker.retryInMs() / 1000))
    return appError('RATE_LIMIT_UNAVAILABLE', 'rate limiting is unavailable; try again later', { retryAfterSeconds })
  }

  return class RedisStore {
    incr(key: string, callback: IncrCallback, timeWindowMs: number): void {
      const report = breaker.acquire()
      if (report === undefined) return callback(unavailable('circuit_open'))
      redis.eval(INCR_WINDOW_LUA, 1, `${REDIS_KEY_PREFIX}${key}`, timeWindowMs).then(
        (result) => {
          report(true)
          const [current, ttl] = result as [number, number]
          callback(null, { current, ttl })
        },
        (err: Error) => {
          lastFailure = err.message
          report(false)
          callback(unavailable(err.message === COMMAND_TIMED_OUT ? 'timeout' : 'error'))
        },
      )
    }

    child(): RedisStore {
      return new RedisStore()
    }
  }
}

export function createRedis(log: StoreLog, url: string, settings: Config['rateLimit']): Redis {
  // Commands fail at once while Redis is away (no queue), and wait at most redisTimeoutMs on one that hangs.
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: settings.redisTimeoutMs,
  })
  const consequence = settings.onStoreFailure === 'open' ? 'limits are not enforced' : 'limited requests are refused'
  let reachable: boolean | undefined
  redis.on('error', (err: Error) => {
    if (reachable !== false) log.warn({ reason: err.message }, `rate-limit store unreachable: ${consequence} until it is back`)
    reachable = false
  })
  redis.on('ready', () => {
    if (reachable === false) log.info('rate-limit store reachable again')
    reachable = true
  })
  return redis
}
