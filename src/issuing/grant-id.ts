import { randomFillSync } from 'node:crypto'

const GRANT_ID_BYTES = 12
// One call to the system's random source per 512 grants: a call per grant costs more than the rest of its ID.
const pool = Buffer.alloc(GRANT_ID_BYTES * 512)
let offset = pool.length

/**
 * A grant's ID: 16 base64url characters from 12 random bytes. It names one answer in the logs and
 * in an edge revocation (`revoked:g:<grantId>`); it is not a secret and never enters a non-edge policy.
 */
export function newGrantId(): string {
  if (offset === pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  offset += GRANT_ID_BYTES
  return pool.toString('base64url', offset - GRANT_ID_BYTES, offset)
}
