import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { inspectSignedRequest, type DenialReason, type Inspection, type VerificationKey } from '../../src/signing/inspect.js'
import { VECTORS_DIR } from './keys.js'

// The published test keys' public halves, as CloudFront holds them: independent of the service's key store.
const keyFiles = JSON.parse(readFileSync(join(VECTORS_DIR, 'keys.json'), 'utf8')) as Record<string, string>
const publicKeys = new Map<string, VerificationKey>(
  Object.entries(keyFiles).map(([id, file]) => {
    const publicKey = createPublicKey(readFileSync(join(VECTORS_DIR, file)))
    return [id, { id, algorithm: publicKey.asymmetricKeyType === 'ec' ? 'ECDSA' : 'RSA', publicKey }]
  }),
)

/** Looks a key up among the published test keys. */
export function lookupTestKey(id: string): VerificationKey | undefined {
  return publicKeys.get(id)
}

/** Inspects a signed URL, stream name or cookie set with the test keys. */
export function inspectWithTestKeys(url: string, options: { at: number; ip?: string; cookies?: Record<string, string> }): Inspection {
  return inspectSignedRequest({ url, ...options, lookupKey: lookupTestKey })
}

/** Asserts the inspector's verdict: allowed, or denied for exactly this reason. */
export function assertVerdict(inspection: Inspection, expected: DenialReason | 'allow', label = ''): void {
  const failures = inspection.checks.filter((c) => c.outcome === 'fail').map((c) => `${c.name}: ${c.detail}`)
  if (expected === 'allow') {
    assert.equal(inspection.verdict, 'allow', `${label} should be allowed: ${failures.join('; ')}`)
    assert.equal(inspection.reason, null, label)
  } else {
    assert.equal(inspection.verdict, 'deny', `${label} should be denied ${expected}`)
    assert.equal(inspection.reason, expected, `${label}: ${failures.join('; ')}`)
  }
}

/** Replaces one query parameter's value in a URL or stream name, keeping everything else as written. */
export function replaceParam(signed: string, name: string, value: string): string {
  const q = signed.indexOf('?')
  const pairs = signed.slice(q + 1).split('&').map((pair) => (pair.split('=')[0] === name ? `${name}=${value}` : pair))
  return `${signed.slice(0, q)}?${pairs.join('&')}`
}

export function getParam(signed: string, name: string): string | undefined {
  return new URLSearchParams(signed.slice(signed.indexOf('?') + 1)).get(name) ?? undefined
}

/** Flips one character of CloudFront base64 (a "signature byte"), keeping the alphabet valid. */
export function flipChar(text: string, index = 10): string {
  const c = text[index]
  return text.slice(0, index) + (c === 'A' ? 'B' : 'A') + text.slice(index + 1)
}
