import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit'
import { appError } from '../http/errors.js'
import { createMemoryStore, createRedis, createRedisStore, REDIS_CONNECT_TIMEOUT_MS } from '../rate-limit/stores.js'

export const RATE_LIMIT_GROUPS = ['sign', 'admin'] as const
export type RateLimitGroup = (typeof RATE_LIMIT_GROUPS)[number]

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Puts the route under the `rateLimit.<group>` budget: `config: { rateLimitGroup: 'sign' }`. */
    rateLimitGroup?: RateLimitGroup
  }
}

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
    const redis = createRedis(app.log, settings.redisUrl, settings)
    // A first connection that fails or hangs is retried in the background; the start waits for it only briefly.
    await Promise.race([redis.connect().catch(() => undefined), sleep(REDIS_CONNECT_TIMEOUT_MS, undefined, { ref: false })])
    app.addHook('onClose', async () => redis.disconnect())
    store = createRedisStore({ metrics: app.metrics, log: app.log, now: app.now }, redis, settings)
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
