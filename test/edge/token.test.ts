// The edge token reference: its shape, its bounds and their codes, a signature checked with node:crypto, and the
// same verdict as the function itself on every rule.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import { runFunction } from '../../src/dev/emulator/function-runtime.js'
import { EDGE_FUNCTION_SOURCE } from '../../src/edge/function-source.js'
import {
  createEdgeToken,
  EDGE_DENY_REASONS,
  hashSubject,
  MAX_EDGE_TOKEN_LENGTH,
  verifyEdgeToken,
  type EdgeTokenInput,
  type EdgeViewer,
} from '../../src/edge/token.js'

const KEY = { id: 'k1', secret: 'reference-secret-0123456789abcdefghijklmn' }
const NOW = 1_900_000_000
const keys = new Map([[KEY.id, KEY.secret]])
const input = (overrides: Partial<EdgeTokenInput> = {}): EdgeTokenInput => ({ grantId: 'g1', sub: 'alice', issuedAt: NOW - 60, expires: NOW + 60, ...overrides })

function codeOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code'
  }
  return 'no error'
}

describe('edge token', () => {
  it('is v1.<payload>.<HMAC-SHA256> with short fields and only the hash of sub', () => {
    const token = createEdgeToken(input({ referrers: ['example.com'], allowEmptyReferrer: true, countries: { deny: ['US'] }, ipRanges: ['2001:db8::/32'] }), KEY)
    const [version, payload, mac] = token.split('.')
    assert.equal(version, 'v1')
    assert.match(token, /^[A-Za-z0-9._-]+$/, 'URL-safe without encoding')
    assert.deepEqual(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')), {
      k: 'k1',
      g: 'g1',
      s: hashSubject('alice'),
      i: NOW - 60,
      e: NOW + 60,
      r: ['example.com'],
      re: 1,
      cd: ['US'],
      ip: ['2001:db8::/32'],
    })
    assert.ok(!token.includes(Buffer.from('alice').toString('base64url')), 'the sub itself is not in the token')
    assert.equal(mac, createHmac('sha256', KEY.secret).update(`v1.${payload}`).digest('base64url'), 'an independent HMAC agrees')
    assert.equal(hashSubject('alice').length, 22)
  })

  it('refuses bad input with stable codes', () => {
    assert.equal(codeOf(() => createEdgeToken(input({ grantId: 'has space' }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ sub: '' }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ expires: 1.5 }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ referrers: ['https://example.com'] }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ referrers: [] }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ allowEmptyReferrer: true }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ countries: { allow: ['fr'] } }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ ipRanges: ['2001:db8::/129'] }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ ipRanges: ['10.0.0.0/33'] }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ ipRanges: Array.from({ length: 11 }, () => '10.0.0.0/8') }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input(), { id: 'k1', secret: 'short' })), 'EDGE_TOKEN_INVALID_KEY')
    assert.equal(codeOf(() => createEdgeToken(input(), { id: 'k 1', secret: KEY.secret })), 'EDGE_TOKEN_INVALID_KEY')
    const long = Array.from({ length: 10 }, (_, index) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.host${index}.example`)
    assert.equal(codeOf(() => createEdgeToken(input({ referrers: long }), KEY)), 'EDGE_TOKEN_TOO_LONG', `over ${MAX_EDGE_TOKEN_LENGTH} characters`)
  })

  it('verifies with either key of a rotation and reports why it refuses', () => {
    const next = { id: 'k2', secret: 'next-secret-0123456789abcdefghijklmnopqrs' }
    const both = new Map([...keys, [next.id, next.secret]])
    const viewer: EdgeViewer = { ip: '192.0.2.1' }
    assert.equal(verifyEdgeToken(createEdgeToken(input(), next), both, viewer, NOW).allowed, true)
    assert.deepEqual(verifyEdgeToken(createEdgeToken(input(), next), keys, viewer, NOW), { allowed: false, reason: 'key' })
    assert.deepEqual(verifyEdgeToken(createEdgeToken(input(), KEY), keys, viewer, NOW + 60), { allowed: false, reason: 'expired' })
    assert.deepEqual(verifyEdgeToken(undefined, keys, viewer, NOW), { allowed: false, reason: 'missing' })
    const revocations = { isGrantRevoked: (id: string) => id === 'g1', subjectRevokedAt: () => undefined }
    assert.deepEqual(verifyEdgeToken(createEdgeToken(input(), KEY), keys, viewer, NOW, revocations), { allowed: false, reason: 'revoked-grant' })
  })

  it('gives the same verdict as the function on every rule', () => {
    const now = Math.floor(Date.now() / 1000)
    const cases: Array<{ token: string; viewer: EdgeViewer }> = [
      { token: createEdgeToken(input({ expires: now + 60 }), KEY), viewer: { ip: '192.0.2.1' } },
      { token: createEdgeToken(input({ expires: now - 1 }), KEY), viewer: { ip: '192.0.2.1' } },
      { token: createEdgeToken(input({ expires: now + 60, grantId: 'revoked' }), KEY), viewer: { ip: '192.0.2.1' } },
      { token: createEdgeToken(input({ expires: now + 60, sub: 'mallory' }), KEY), viewer: { ip: '192.0.2.1' } },
      { token: createEdgeToken(input({ expires: now + 60, referrers: ['*.example.com'] }), KEY), viewer: { ip: '192.0.2.1', referer: 'https://x.example.com/' } },
      { token: createEdgeToken(input({ expires: now + 60, referrers: ['*.example.com'] }), KEY), viewer: { ip: '192.0.2.1', referer: 'https://example.com/' } },
      { token: createEdgeToken(input({ expires: now + 60, countries: { allow: ['FR'] } }), KEY), viewer: { ip: '192.0.2.1', country: 'fr' } },
      { token: createEdgeToken(input({ expires: now + 60, countries: { deny: ['FR'] } }), KEY), viewer: { ip: '192.0.2.1', country: 'FR' } },
      { token: createEdgeToken(input({ expires: now + 60, ipRanges: ['2001:db8::/126'] }), KEY), viewer: { ip: '2001:db8::3' } },
      { token: createEdgeToken(input({ expires: now + 60, ipRanges: ['2001:db8::/126'] }), KEY), viewer: { ip: '2001:db8::4' } },
      { token: 'v1.x', viewer: { ip: '192.0.2.1' } },
      { token: 'v9.e30.x', viewer: { ip: '192.0.2.1' } },
    ]
    const store = new Map([[`hmac:${KEY.id}`, KEY.secret], ['revoked:g:revoked', '1'], [`revoked:s:${hashSubject('mallory')}`, '1']])
    const revocations = { isGrantRevoked: (id: string) => store.has(`revoked:g:${id}`), subjectRevokedAt: (hash: string) => (store.has(`revoked:s:${hash}`) ? NOW : undefined) }
    const reasons = new Set<string>()
    for (const { token, viewer } of cases) {
      const reference = verifyEdgeToken(token, keys, viewer, now, revocations)
      const headers = {
        ...(viewer.referer !== undefined && { referer: { value: viewer.referer } }),
        ...(viewer.country !== undefined && { 'cloudfront-viewer-country': { value: viewer.country } }),
      }
      const event = { viewer: { ip: viewer.ip }, request: { method: 'GET', uri: '/', querystring: { 'cf-edge': { value: token } }, headers, cookies: {} } }
      const run = runFunction(EDGE_FUNCTION_SOURCE, event, store, { timeoutMs: 5000 })
      const output = run.output as { statusCode?: number; headers?: Record<string, { value: string }> }
      const edge = output.statusCode === undefined ? 'pass' : output.headers?.['x-edge-deny']?.value
      const expected = reference.allowed ? 'pass' : reference.reason
      reasons.add(expected)
      assert.equal(edge, expected, `${JSON.stringify(viewer)}: the function and the reference agree`)
    }
    const covered = EDGE_DENY_REASONS.filter((reason) => reasons.has(reason))
    assert.deepEqual(covered, ['malformed', 'version', 'expired', 'revoked-grant', 'revoked-sub', 'referrer', 'country', 'ip'])
  })
})
