import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createPolicySigner, type SignerOptions } from '../signer/signer.js'

declare module 'fastify' {
  interface FastifyInstance {
    signer: ReturnType<typeof createPolicySigner>
  }
}

async function signerPlugin(app: FastifyInstance, options: SignerOptions) {
  const signer = createPolicySigner({ metrics: app.metrics, distributions: app.config.distributions, now: app.now, kms: app.kms }, options)
  app.decorate('signer', signer)
  app.addHook('onClose', async () => signer.close())
}

export default fp(signerPlugin, { name: 'signer', dependencies: ['config', 'keys', 'metrics', 'kms'] })
