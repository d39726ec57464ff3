import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SecretVolume {
  dir: string
  /** Replaces the whole content the way the kubelet does: one atomic rename of `..data`. */
  update(files: Record<string, string>): void
  cleanup(): void
}

/**
 * A directory laid out like a Kubernetes secret volume: the data in a timestamped `..2026_…`
 * folder, a `..data` link to it, and each visible `<name>` linking to `..data/<name>`.
 */
export function makeSecretVolume(files: Record<string, string>): SecretVolume {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-secret-'))
  let generation = 0
  let visible: string[] = []

  function update(next: Record<string, string>): void {
    generation += 1
    const dataDir = `..2026_01_15_08_00_00.${String(generation).padStart(9, '0')}`
    mkdirSync(join(dir, dataDir), { mode: 0o755 })
    for (const [name, content] of Object.entries(next)) writeFileSync(join(dir, dataDir, name), content, { mode: 0o600 })
    const previousData = readdirSync(dir).filter((name) => name.startsWith('..2026_') && name !== dataDir)
    // The kubelet's AtomicWriter: a temporary link renamed over `..data`, then the visible links.
    symlinkSync(dataDir, join(dir, '..data_tmp'))
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
    for (const name of Object.keys(next).filter((n) => !visible.includes(n))) symlinkSync(join('..data', name), join(dir, name))
    for (const name of visible.filter((n) => !(n in next))) unlinkSync(join(dir, name))
    visible = Object.keys(next)
    for (const name of previousData) rmSync(join(dir, name), { recursive: true, force: true })
  }

  update(files)
  return { dir, update, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
