// A signing worker: signs policies with the pinned SDK (signPolicy) using the KeyObject that comes
// with each job. It keeps no key of its own, so a rotated or removed key is never signed with here.
import { parentPort } from 'node:worker_threads'
import type { KeyObject } from 'node:crypto'
import type { HashAlgorithm } from '../signing/policy.js'
import { signPolicy } from '../signing/sign.js'

export interface SignJob {
  id: number
  policyJson: string
  hashAlgorithm: HashAlgorithm
  keyId: string
  privateKey: KeyObject
}

export type SignResult = { id: number; signature: string } | { id: number; error: string }

parentPort!.on('message', (jobs: SignJob[]) => {
  const results: SignResult[] = jobs.map(({ id, policyJson, hashAlgorithm, keyId, privateKey }) => {
    try {
      return { id, signature: signPolicy(policyJson, { id: keyId, privateKey }, hashAlgorithm) }
    } catch (err) {
      return { id, error: (err as Error).message }
    }
  })
  parentPort!.postMessage(results)
})
