// The edge layer's HMAC keys from a mounted secret: one file per key, named by its ID, holding its secret. Kubernetes
// mounts a secret as files beside `..data` links; names starting with `.` are skipped like the signing keys'.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { checkEdgeKey, type EdgeKey } from './token.js'

/** Every key in `dir`, sorted by ID; throws with the file at fault when one is not a valid key. */
export function loadEdgeKeys(dir: string): EdgeKey[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    throw new Error(`cannot read ${dir} (${(err as NodeJS.ErrnoException).code})`)
  }
  const keys: EdgeKey[] = []
  for (const name of names.filter((entry) => !entry.startsWith('.')).sort()) {
    const file = join(dir, name)
    if (!statSync(file).isFile()) continue
    const key = { id: name, secret: readFileSync(file, 'utf8').trim() }
    try {
      checkEdgeKey(key)
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`)
    }
    keys.push(key)
  }
  if (keys.length === 0) throw new Error(`${dir} holds no edge key (one file per key ID, its content a secret of base64url characters)`)
  return keys
}
