import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { appError } from '../errors.js'
import { verifyRequestToken } from './auth.js'

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
 * the one authentication then reuses (verifyRequestToken), so a token is verified once per request.
 */
async function callerKey(request: FastifyRequest): Promise<string> {
  try {
    const { claims } = await verifyRequestToken(request)
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

/** The same fixed windows in Redis, shared by every instance: `cf-signer:rate-limit:<group>:<caller>`. */
function createRedisStore(redis: Redis) {
  return class RedisStore {
    incr(key: string, callback: IncrCallback, timeWindowMs: number): void {
      redis.eval(INCR_WINDOW_LUA, 1, `${REDIS_KEY_PREFIX}${key}`, timeWindowMs).then(
        (result) => {
          const [current, ttl] = result as [number, number]
          callback(null, { current, ttl })
        },
        (err: Error) => callback(err),
      )
    }

    child(): RedisStore {
      return new RedisStore()
    }
  }
}

function createRedis(app: FastifyInstance, url: string): Redis {
  // Commands fail at once while Redis is away (no queue), so a request never waits on it.
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 1000 })
  let reachable: boolean | undefined
  redis.on('error', (err: Error) => {
    if (reachable !== false) app.log.warn({ reason: err.message }, 'rate-limit store unreachable: limits are not enforced until it is back')
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
 * shares the budget; if Redis is unreachable requests pass unlimited (availability first) and the
 * log says so.
 */
async function rateLimitPlugin(app: FastifyInstance) {
  const settings = app.config.rateLimit
  const groups = RATE_LIMIT_GROUPS.filter((group) => settings[group] !== undefined)
  if (groups.length === 0) return

  let store
  if (settings.redisUrl !== undefined) {
    const redis = createRedis(app, settings.redisUrl)
    // A first connection that fails is retried in the background; the start does not wait for Redis.
    await redis.connect().catch(() => undefined)
    app.addHook('onClose', async () => redis.disconnect())
    store = createRedisStore(redis)
  } else {
    store = createMemoryStore(app.now)
  }

  await app.register(fastifyRateLimit, {
    global: false,
    store,
    skipOnError: true,
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

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['config', 'auth', 'errors'] })
