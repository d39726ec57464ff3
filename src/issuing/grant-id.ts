import { randomBytes } from 'node:crypto'

/**
 * A grant's ID: 16 base64url characters from 12 random bytes. It names one answer in the logs and
 * in an edge revocation (`revoked:g:<grantId>`); it is not a secret and never enters a non-edge policy.
 */
export function newGrantId(): string {
  return randomBytes(12).toString('base64url')
}
