import type { Config } from '../config/schema.js'
import type { Caller } from '../auth/caller.js'

/** What every signing request shares: who asks, when, from where. */
export interface IssueContext {
  config: Config
  caller: Caller
  /** Epoch seconds. */
  now: number
  /** The caller's address as Fastify resolved it (trustProxy applies). */
  clientIp: string
}
