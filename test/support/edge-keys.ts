import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EdgeKey } from '../../src/edge/token.js'

/** Two edge keys for tests: any base64url secret of 32 characters or more is one. */
export const TEST_EDGE_KEYS: readonly EdgeKey[] = [
  { id: 'edge1', secret: 'edge-test-secret-one-0123456789abcdefghij' },
  { id: 'edge2', secret: 'edge-test-secret-two-0123456789abcdefghij' },
]

/** An edge.keysDir as the service reads it (one file per key ID holding its secret), removed after the test (`t`, or node:test's `{ after }` for a file). */
export function makeEdgeKeyDir(t: { after(fn: () => void): void }, keys: readonly EdgeKey[] = TEST_EDGE_KEYS): { dir: string; keys: readonly EdgeKey[] } {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-edge-keys-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const key of keys) writeFileSync(join(dir, key.id), key.secret)
  return { dir, keys }
}
