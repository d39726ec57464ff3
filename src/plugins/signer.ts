import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { SigningKey } from '../signing/keys.js'
import type { HashAlgorithm, Policy } from '../signing/policy.js'
import { signPolicy, type Grant } from '../signing/sign.js'

/** Turns a policy into a grant (policy + signature). Asynchronous so the work can move off the event loop. */
export function createPolicySigner() {
  return {
    async sign(policy: Policy, key: SigningKey, hashAlgorithm: HashAlgorithm): Promise<Grant> {
      return { policy, keyId: key.id, hashAlgorithm, signature: signPolicy(policy.json, key, hashAlgorithm) }
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    signer: ReturnType<typeof createPolicySigner>
  }
}

async function signerPlugin(app: FastifyInstance) {
  app.decorate('signer', createPolicySigner())
}

export default fp(signerPlugin, { name: 'signer', dependencies: ['keys'] })
