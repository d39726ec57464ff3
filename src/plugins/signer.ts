import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { SigningKey } from '../signing/keys.js'
import type { HashAlgorithm, Policy } from '../signing/policy.js'
import { signPolicy, type Grant } from '../signing/sign.js'
import type { Metrics } from './metrics.js'

export interface SignRequest {
  policy: Policy
  key: SigningKey
  hashAlgorithm: HashAlgorithm
  /** The configured distribution name, for metrics. */
  distribution: string
}

/** Turns a policy into a grant (policy + signature). Asynchronous so the work can move off the event loop. */
export function createPolicySigner(metrics: Metrics) {
  return {
    async sign({ policy, key, hashAlgorithm, distribution }: SignRequest): Promise<Grant> {
      const signature = signPolicy(policy.json, key, hashAlgorithm)
      metrics.signaturesIssued.inc({ distribution, policy: policy.type, algorithm: `${key.algorithm}-${hashAlgorithm}`, key_id: key.id })
      return { policy, keyId: key.id, hashAlgorithm, signature }
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    signer: ReturnType<typeof createPolicySigner>
  }
}

async function signerPlugin(app: FastifyInstance) {
  app.decorate('signer', createPolicySigner(app.metrics))
}

export default fp(signerPlugin, { name: 'signer', dependencies: ['keys', 'metrics'] })
