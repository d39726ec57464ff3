import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { loadKmsKeys } from '../keys/kms.js'
import { createKeyStore, type KeyStore } from '../keys/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyStore
  }
}

async function keysPlugin(app: FastifyInstance) {
  // Described before the store loads: a KMS key that cannot serve stops the start like a broken key file.
  const kmsKeys = await loadKmsKeys(app.config.keys.kms, app.kms)
  const store = createKeyStore(app.config, { now: app.now, log: app.log.child({ component: 'keys' }), metrics: app.metrics, kmsKeys })
  store.watch()
  app.decorate('keyStore', store)
  app.addHook('onClose', async () => store.close())
}

export default fp(keysPlugin, { name: 'keys', dependencies: ['config', 'metrics', 'kms'] })
