import type { SigningKey } from '../signing/keys.js'
import type { HashAlgorithm, Policy } from '../signing/policy.js'
import type { SignedPolicy } from '../signing/sign.js'

/** What a signature is for: the `kind` label of cf_signer_signatures_issued_total. */
export type SignatureKind = 'url' | 'cookie' | 'stream' | 'query'

export interface SignRequest {
  kind: SignatureKind
  policy: Policy
  key: SigningKey
  hashAlgorithm: HashAlgorithm
  /** The configured distribution name: metrics, and its expiryGranularitySeconds turns the signature cache on. */
  distribution: string
}

/** What the issuer needs from a signer: the signature of a planned policy, wherever it is computed. */
export interface Signer {
  sign(request: SignRequest): Promise<SignedPolicy>
}
