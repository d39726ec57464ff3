import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { StaticCredentials } from '../aws/accounts.js'
import { createKms } from '../aws/kms.js'

declare module 'fastify' {
  interface FastifyInstance {
    kms: ReturnType<typeof createKms>
  }
}

export interface KmsPluginOptions {
  /** Replaces the standard credential chain: only the emulator's dummy credentials, never real ones. */
  credentials?: StaticCredentials
}

/** AWS KMS for keys.kms (described at start, signing) and the admin route that registers a KMS key's public key. */
async function kmsPlugin(app: FastifyInstance, options: KmsPluginOptions) {
  const kms = createKms(app.config.aws, {
    credentials: options.credentials,
    recordCall: (operation, outcome, seconds) => {
      app.metrics.kmsCalls.inc({ operation, outcome })
      app.metrics.kmsCallDuration.observe({ operation }, seconds)
    },
  })
  app.decorate('kms', kms)
  app.addHook('onClose', async () => kms.close())
}

export default fp(kmsPlugin, { name: 'kms', dependencies: ['config', 'metrics'] })
