import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `test/fixtures/vectors/`: the published test keys and the reference signers' outputs (a copy of ../shared/vectors that .ci/run keeps in step). */
export const VECTORS_DIR = fileURLToPath(new URL('../fixtures/vectors/', import.meta.url))

export const RSA_KEY_ID = 'K2JCJMDEHXQW5F'
export const LEGACY_KEY_ID = 'APKAEIBAERJR2EXAMPLE'
export const EC_KEY_ID = 'K3ECDSATEST0001'

export const RSA_PEM = readFileSync(join(VECTORS_DIR, 'test-key-rsa.pem'), 'utf8')
export const EC_PEM = readFileSync(join(VECTORS_DIR, 'test-key-ec.pem'), 'utf8')

/** A temporary keys directory holding the given `<name>: <content>` files; removed with `cleanup`. */
export function makeKeyDir(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-keys-'))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 })
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The published test keys under their three IDs (the RSA key also under its legacy key pair ID). */
export function vectorKeyFiles(): Record<string, string> {
  return { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${LEGACY_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM }
}

export function generatePem(type: 'rsa' | 'ec', options: { modulusLength?: number; namedCurve?: string; passphrase?: string } = {}): string {
  const { privateKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 })
      : generateKeyPairSync('ec', { namedCurve: options.namedCurve ?? 'prime256v1' })
  return exportPem(privateKey, options.passphrase)
}

export function exportPem(privateKey: KeyObject, passphrase?: string): string {
  return privateKey
    .export(passphrase ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type: 'pkcs8', format: 'pem' })
    .toString()
}
