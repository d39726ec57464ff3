import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { GrantContext } from '../../grants/resolve.js'

/** The per-request facts every signing route needs. */
export function grantContext(app: FastifyInstance, request: FastifyRequest): GrantContext {
  return { config: app.config, caller: request.caller, now: Math.floor(app.now() / 1000), clientIp: request.ip }
}

export function isoFromEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString()
}
