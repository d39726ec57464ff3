import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config/schema.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    /** The clock, in epoch milliseconds; tests inject a fixed one. */
    now: () => number
  }
}

async function configPlugin(app: FastifyInstance, options: { config: Config; now?: () => number }) {
  app.decorate('config', options.config)
  app.decorate('now', options.now ?? Date.now)
}

export default fp(configPlugin, { name: 'config' })
