import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { Config } from '../config/schema.js'
import { appError, type CodedError } from '../http/errors.js'
import { createCircuitBreaker } from '../rate-limit/circuit-breaker.js'

export const RATE_LIMIT_GROUPS = ['sign', 'admin'] as const
export type RateLimitGroup = (typeof RATE_LIMIT_GROUPS)[number]

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Puts the route under the `rateLimit.<group>` budget: `config: { rateLimitGroup: 'sign' }`. */
    rateLimitGroup?: RateLimitGroup
  }
}

const REDIS_KEY_PREFIX = 'cf-signer:rate-limit:'

/**
 * Whose budget a request spends: the `sub` of a token that verifies, else the client address.
 * The limiter runs before the route's authentication, so it verifies the token itself: an
 * unverified `sub` would let anyone spend (or dodge) someone else's budget. The verification is
 * the one authentication then reuses (app.verifiedToken), so a token is verified once per request.
 */
async function callerKey(request: FastifyRequest): Promise<string> {
  try {
    const { claims } = await request.server.verifiedToken(request)
    if (typeof claims.sub === 'string' && claims.sub !== '') return `sub:${claims.sub}`
  } catch {
    // No token, or one that does not verify: limited by address (the route answers the 401 itself).
  }
  return `ip:${normalizeIP(request.ip)}`
}

/** In-memory budgets stay bounded: the least recently seen callers are forgotten first. */
const MEMORY_STORE_MAX_CALLERS = 100_000

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void

/**
 * Fixed-window counters in memory, on the app's clock. The plugin's own LocalStore hands every
 * caller the same mutable counter, so concurrent requests all read the final count and a burst at
 * the limit is refused whole; here each request gets its own snapshot.
 */
function createMemoryStore(now: () => number) {
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
const REDIS_CONNECT_TIMEOUT_MS = 2000

// ioredis rejects a command that outlived `commandTimeout` with this message (it exports no error class).
const COMMAND_TIMED_OUT = 'Command timed out'

/**
 * The same fixed windows in Redis, shared by every instance: `cf-signer:rate-limit:<group>:<caller>`.
 * Redis sits behind a circuit breaker: a command waits at most `redisTimeoutMs`, and after
 * `redisFailureThreshold` failures in a row requests skip Redis for `redisCoolDownSeconds`, so a
 * Redis that hangs costs a request a bounded wait, then none. A request Redis did not count fails
 * with RATE_LIMIT_UNAVAILABLE, which the limiter skips (`onStoreFailure: open`) or answers (`closed`).
 */
function createRedisStore(app: FastifyInstance, redis: Redis, settings: Config['rateLimit']) {
  const { metrics } = app
  const consequence = settings.onStoreFailure === 'open' ? 'requests pass unlimited' : 'limited requests are refused'
  let lastFailure = ''
  const breaker = createCircuitBreaker({
    failureThreshold: settings.redisFailureThreshold,
    coolDownMs: settings.redisCoolDownSeconds * 1000,
    now: app.now,
    onOpen: () => {
      metrics.rateLimitStoreCircuitOpen.set(1)
      metrics.rateLimitStoreCircuitTrips.inc()
      app.log.warn(
        { failures: settings.redisFailureThreshold, reason: lastFailure, coolDownSeconds: settings.redisCoolDownSeconds },
        `rate-limit store circuit open: Redis is skipped and ${consequence} until a probe succeeds`,
      )
    },
    onClose: () => {
      metrics.rateLimitStoreCircuitOpen.set(0)
      app.log.info('rate-limit store circuit closed: Redis answers again, limits are enforced')
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

function createRedis(app: FastifyInstance, url: string, settings: Config['rateLimit']): Redis {
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
    if (reachable !== false) app.log.warn({ reason: err.message }, `rate-limit store unreachable: ${consequence} until it is back`)
    reachable = false
  })
  redis.on('ready', () => {
    if (reachable === false) app.log.info('rate-limit store reachable again')
    reachable = true
  })
  return redis
}

/**
 * Per-caller budgets per route group (`rateLimit.sign`, `rateLimit.admin`), off for a group that is
 * not configured. A route opts in with `config: { rateLimitGroup: 'sign' }`; every route of a group
 * spends the same budget, and a batch is one request. With `rateLimit.redisUrl` every instance
 * shares the budget; while Redis is unreachable, slow or skipped by its circuit breaker, requests
 * pass unlimited (availability first) or, with `onStoreFailure: closed`, get 503; the log says so.
 */
async function rateLimitPlugin(app: FastifyInstance) {
  const settings = app.config.rateLimit
  const groups = RATE_LIMIT_GROUPS.filter((group) => settings[group] !== undefined)
  if (groups.length === 0) return

  let store
  if (settings.redisUrl !== undefined) {
    const redis = createRedis(app, settings.redisUrl, settings)
    // A first connection that fails or hangs is retried in the background; the start waits for it only briefly.
    await Promise.race([redis.connect().catch(() => undefined), sleep(REDIS_CONNECT_TIMEOUT_MS, undefined, { ref: false })])
    app.addHook('onClose', async () => redis.disconnect())
    store = createRedisStore(app, redis, settings)
  } else {
    store = createMemoryStore(app.now)
  }

  await app.register(fastifyRateLimit, {
    global: false,
    store,
    skipOnError: settings.onStoreFailure === 'open',
    errorResponseBuilder: (_request, context) => appError('RATE_LIMITED', `rate limit exceeded: retry in ${context.after}`),
  })

  const limiters = new Map(
    groups.map((group) => {
      const { max, timeWindowSeconds } = settings[group]!
      return [group, app.rateLimit({ max, timeWindow: timeWindowSeconds * 1000, keyGenerator: async (request) => `${group}:${await callerKey(request)}` })]
    }),
  )

  app.addHook('onRoute', (route: RouteOptions) => {
    const group = route.config?.rateLimitGroup
    const limiter = group === undefined ? undefined : limiters.get(group)
    if (limiter === undefined) return
    // Ahead of the route's own onRequest hooks (authentication), so refused tokens spend the address's budget.
    route.onRequest = [limiter as never, ...[route.onRequest ?? []].flat()]
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['config', 'auth', 'errors', 'metrics'] })
