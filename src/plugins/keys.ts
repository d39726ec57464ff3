import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createKeyStore, type KeyStore } from '../keys/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyStore
  }
}

async function keysPlugin(app: FastifyInstance) {
  const store = createKeyStore(app.config, { now: app.now, log: app.log.child({ component: 'keys' }), metrics: app.metrics })
  store.watch()
  app.decorate('keyStore', store)
  app.addHook('onClose', async () => store.close())
}

export default fp(keysPlugin, { name: 'keys', dependencies: ['config', 'metrics'] })
