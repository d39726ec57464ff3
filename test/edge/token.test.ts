// The edge token reference: its shape, its bounds and their codes, a signature checked with node:crypto, and the
// same verdict as the function itself on every rule.
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import { runFunction } from '../../src/dev/emulator/function-runtime.js'
import { EDGE_FUNCTION_SOURCE } from '../../src/edge/function-source.js'
import {
  bindingHash,
  cidrContains,
  countQueryValues,
  createEdgeToken,
  EDGE_DENY_REASONS,
  formatRevocationValue,
  hashSubject,
  MAX_EDGE_TOKEN_LENGTH,
  parseRevocationValue,
  revocationsFromStore,
  revokedAtOf,
  UNCOUNTED_QUERY_PARAMETERS,
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
    const token = createEdgeToken(
      input({ binding: 'sig~1', referrers: ['example.com'], allowEmptyReferrer: true, countries: { allow: ['FR', 'US'], deny: ['US'] }, ipRanges: ['2001:db8::/32'] }),
      KEY,
    )
    const [version, payload, mac] = token.split('.')
    assert.equal(version, 'v1')
    assert.match(token, /^[A-Za-z0-9._-]+$/, 'URL-safe without encoding')
    assert.deepEqual(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')), {
      k: 'k1',
      g: 'g1',
      s: hashSubject('alice'),
      i: NOW - 60,
      e: NOW + 60,
      b: bindingHash('sig~1'),
      r: ['example.com'],
      re: 1,
      ca: ['FR', 'US'],
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
    assert.equal(codeOf(() => createEdgeToken(input({ issuedAt: -1 }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ issuedAt: 1.5 }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ countries: { deny: [] } }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
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

  it('gives the same verdict as the function on every rule, reason for reason', () => {
    const now = Math.floor(Date.now() / 1000)
    const sig = 'Abc~def_ghi-123'
    const make = (overrides: Partial<EdgeTokenInput> = {}, key = KEY) => createEdgeToken(input({ issuedAt: now - 100, expires: now + 60, ...overrides }), key)
    const stranger = { id: 'k9', secret: 'unknown-secret-0123456789abcdefghijklmn' }
    const forged = (() => {
      const [version, payload, mac] = make().split('.')
      const body = { ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), g: 'other' }
      return `${version}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${mac}`
    })()
    const withN = (n: unknown) => `v1.${Buffer.from(JSON.stringify({ k: 'k1', g: 'g', s: hashSubject('a'), i: now - 1, e: now + 60, n })).toString('base64url')}.x`
    /** `query`: more query parameters after the token, in order (a name may repeat); the viewer's count is derived from them. */
    type Case = { token?: string; viewer: EdgeViewer; signatureIn?: 'query' | 'cookie'; tokenIn?: 'cookie'; query?: Array<[string, string]>; expect?: string }
    const ip = '192.0.2.1'
    const cases: Case[] = [
      { token: make(), viewer: { ip } },
      { token: make(), viewer: { ip }, tokenIn: 'cookie' },
      { viewer: { ip } },
      { token: 'v1.x', viewer: { ip } },
      { token: `v1.${Buffer.from(JSON.stringify({ k: 'k1', g: 'g', s: hashSubject('a'), e: now + 60 })).toString('base64url')}.x`, viewer: { ip } },
      { token: 'v9.e30.x', viewer: { ip } },
      { token: make().replace('.', '.+'), viewer: { ip } },
      { token: make({}, stranger), viewer: { ip } },
      { token: forged, viewer: { ip } },
      { token: make({ expires: now - 1 }), viewer: { ip } },
      { token: make({ binding: sig }), viewer: { ip, signature: sig }, signatureIn: 'query' },
      { token: make({ binding: sig }), viewer: { ip, signature: sig }, signatureIn: 'cookie' },
      { token: make({ binding: sig }), viewer: { ip, signature: `${sig}x` }, signatureIn: 'query' },
      { token: make({ binding: sig }), viewer: { ip } },
      { token: make({ queryValueCount: 1 }), viewer: { ip }, expect: 'pass' },
      { token: make({ queryValueCount: 1 }), viewer: { ip }, query: [['response-content-type', 'text/html']], expect: 'query' },
      { token: make({ queryValueCount: 2 }), viewer: { ip }, query: [['v', '1']], expect: 'pass' },
      { token: make({ queryValueCount: 2 }), viewer: { ip }, query: [['v', '1'], ['v', '2']], expect: 'query' },
      { token: make({ queryValueCount: 1 }), viewer: { ip }, query: [['cf-edge', 'again']], expect: 'query' },
      { token: make({ queryValueCount: 1 }), viewer: { ip }, query: [['Policy', 'p'], ['Signature', 's'], ['Key-Pair-Id', 'K'], ['Hash-Algorithm', 'SHA256']], expect: 'pass' },
      { token: make({ queryValueCount: 1 }), viewer: { ip }, query: [['Expires', '2000000000']], expect: 'query' },
      { token: make({ queryValueCount: 1 }), viewer: { ip }, query: [['signature', 's']], expect: 'query' },
      { token: make({ queryValueCount: 1 }), viewer: { ip }, tokenIn: 'cookie', expect: 'query' },
      { token: make({ queryValueCount: 1 }), viewer: { ip, uri: '/a.mp4/cf-edge=x/b.mp4' }, expect: 'query' },
      { token: make({ queryValueCount: 1 }), viewer: { ip, uri: '/a.mp4/Cf-Edge%3dx' }, expect: 'query' },
      { token: make({}), viewer: { ip, uri: '/cf-edge=x.mp4' }, expect: 'pass' },
      { token: make({ queryValueCount: 1, binding: sig }), viewer: { ip, signature: `${sig}x` }, signatureIn: 'query', expect: 'binding' },
      { token: make({ queryValueCount: 1, binding: sig }), viewer: { ip, signature: sig }, signatureIn: 'query', query: [['x', '1']], expect: 'query' },
      { token: make({ queryValueCount: 1, grantId: 'revoked' }), viewer: { ip }, expect: 'revoked-grant' },
      { token: withN(0), viewer: { ip }, expect: 'malformed' },
      { token: withN(101), viewer: { ip }, expect: 'malformed' },
      { token: withN(1.5), viewer: { ip }, expect: 'malformed' },
      { token: withN('1'), viewer: { ip }, expect: 'malformed' },
      { token: withN(1), viewer: { ip }, expect: 'signature' },
      { token: make({ grantId: 'revoked' }), viewer: { ip } },
      { token: make({ sub: 'mallory', issuedAt: now - 100 }), viewer: { ip } },
      { token: make({ sub: 'mallory', issuedAt: now - 50 }), viewer: { ip } },
      { token: make({ sub: 'mallory', issuedAt: now - 49 }), viewer: { ip } },
      { token: make({ sub: 'unreadable' }), viewer: { ip } },
      { token: make({ referrers: ['*.example.com'] }), viewer: { ip, referer: 'https://x.example.com/' } },
      { token: make({ referrers: ['*.example.com'] }), viewer: { ip, referer: 'https://example.com/' } },
      { token: make({ countries: { allow: ['FR'] } }), viewer: { ip, country: 'fr' } },
      { token: make({ countries: { allow: ['FR'] } }), viewer: { ip } },
      { token: make({ countries: { deny: ['FR'] } }), viewer: { ip, country: 'FR' } },
      { token: make({ countries: { deny: ['FR'] } }), viewer: { ip } },
      { token: make({ countries: { allow: ['FR', 'DE'], deny: ['DE'] } }), viewer: { ip, country: 'DE' } },
      { token: make({ countries: { allow: ['FR', 'DE'], deny: ['DE'] } }), viewer: { ip, country: 'FR' } },
      { token: make({ ipRanges: ['2001:db8::/126'] }), viewer: { ip: '2001:db8::3' } },
      { token: make({ ipRanges: ['2001:db8::/126'] }), viewer: { ip: '2001:db8::4' } },
    ]
    const store = new Map([
      [`hmac:${KEY.id}`, KEY.secret],
      ['revoked:g:revoked', formatRevocationValue({ t: now - 10, x: now + 60 })],
      [`revoked:s:${hashSubject('mallory')}`, formatRevocationValue({ t: now - 50, x: now + 60, r: 'left' })],
      [`revoked:s:${hashSubject('unreadable')}`, 'not json'],
    ])
    const revocations = revocationsFromStore((key) => store.get(key))
    const reasons = new Set<string>()
    for (const { token, viewer: given, signatureIn, tokenIn, query = [], expect } of cases) {
      // The URL's parameters in order, as a viewer sends them: the token, the signature, then whatever was appended.
      const pairs: Array<[string, string]> = [
        ...(token !== undefined && tokenIn !== 'cookie' ? [['cf-edge', token] as [string, string]] : []),
        ...(given.signature !== undefined && signatureIn !== 'cookie' ? [['Signature', given.signature] as [string, string]] : []),
        ...query,
      ]
      const viewer: EdgeViewer = { ...given, queryValueCount: countQueryValues(new URLSearchParams(pairs)) }
      const reference = verifyEdgeToken(token, keys, viewer, now, revocations)
      const headers = {
        ...(viewer.referer !== undefined && { referer: { value: viewer.referer } }),
        ...(viewer.country !== undefined && { 'cloudfront-viewer-country': { value: viewer.country } }),
      }
      // CloudFront's shape: the first value, and every value in multiValue when a name repeats.
      const querystring: Record<string, { value: string; multiValue?: { value: string }[] }> = {}
      for (const [name, value] of pairs) {
        const existing = querystring[name]
        if (existing === undefined) querystring[name] = { value }
        else existing.multiValue = [...(existing.multiValue ?? [{ value: existing.value }]), { value }]
      }
      assert.equal(countQueryValues(querystring), viewer.queryValueCount, 'both shapes count alike')
      const cookies: Record<string, { value: string }> = {}
      if (token !== undefined && tokenIn === 'cookie') cookies['CloudFront-Edge'] = { value: token }
      if (viewer.signature !== undefined && signatureIn === 'cookie') cookies['CloudFront-Signature'] = { value: viewer.signature }
      const event = { viewer: { ip: viewer.ip }, request: { method: 'GET', uri: viewer.uri ?? '/', querystring, headers, cookies } }
      const run = runFunction(EDGE_FUNCTION_SOURCE, event, store, { timeoutMs: 5000 })
      assert.equal(run.error, undefined)
      const output = run.output as { statusCode?: number; headers?: Record<string, { value: string }> }
      const edge = output.statusCode === undefined ? 'pass' : output.headers?.['x-edge-deny']?.value
      const expected = reference.allowed ? 'pass' : reference.reason
      reasons.add(expected)
      if (expect !== undefined) assert.equal(expected, expect, `${JSON.stringify(query)}: the reference's verdict`)
      assert.equal(edge, expected, `${JSON.stringify(viewer)}: the function and the reference agree`)
    }
    assert.deepEqual([...EDGE_DENY_REASONS, 'pass'].filter((reason) => !reasons.has(reason)), [], 'every reason and a pass are covered')
  })

  it('carries n, the query values a request may hold besides the signing parameters, and denies any other count', () => {
    const token = createEdgeToken(input({ queryValueCount: 3 }), KEY)
    assert.equal(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).n, 3)
    assert.equal(verifyEdgeToken(token, keys, { ip: '192.0.2.1', queryValueCount: 3 }, NOW).allowed, true)
    assert.deepEqual(verifyEdgeToken(token, keys, { ip: '192.0.2.1', queryValueCount: 4 }, NOW), { allowed: false, reason: 'query' })
    assert.deepEqual(verifyEdgeToken(token, keys, { ip: '192.0.2.1', queryValueCount: 2 }, NOW), { allowed: false, reason: 'query' })
    assert.deepEqual(verifyEdgeToken(token, keys, { ip: '192.0.2.1' }, NOW), { allowed: false, reason: 'query' }, 'an uncounted viewer fails closed')
    assert.equal(verifyEdgeToken(createEdgeToken(input(), KEY), keys, { ip: '192.0.2.1', queryValueCount: 50 }, NOW).allowed, true, 'no n, no count')
    assert.equal(EDGE_DENY_REASONS.indexOf('query'), EDGE_DENY_REASONS.indexOf('binding') + 1, 'checked right after the binding')
    assert.equal(EDGE_DENY_REASONS.indexOf('revoked-grant'), EDGE_DENY_REASONS.indexOf('query') + 1)
    for (const count of [1, 100]) assert.equal(codeOf(() => createEdgeToken(input({ queryValueCount: count }), KEY)), 'no error', String(count))
    for (const count of [0, -1, 101, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(codeOf(() => createEdgeToken(input({ queryValueCount: count }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD', String(count))
    }
  })

  it('counts query values the way the function does: each repetition, Expires too, never the signing parameters', () => {
    assert.deepEqual(UNCOUNTED_QUERY_PARAMETERS, ['Policy', 'Signature', 'Key-Pair-Id', 'Hash-Algorithm'])
    const count = (query: string) => countQueryValues(new URLSearchParams(query))
    assert.equal(count(''), 0)
    assert.equal(count('cf-edge=t'), 1)
    assert.equal(count('a=1&a=2&a&cf-edge=t'), 4, 'a repeated name counts each time, an empty value too')
    assert.equal(count('Policy=p&Signature=s&Key-Pair-Id=K&Hash-Algorithm=SHA256&cf-edge=t'), 1)
    assert.equal(count('Expires=1&Signature=s&Key-Pair-Id=K&cf-edge=t'), 2, 'Expires counts: a custom-policy URL has none')
    assert.equal(count('signature=s&POLICY=p&cf-edge=t'), 3, 'names are exact and case-sensitive')
    assert.equal(count('Key%2DPair%2DId=K&cf-edge=t'), 1, 'names are compared decoded, as the function sees them')
    assert.equal(countQueryValues({ 'cf-edge': { value: 't' }, a: { value: '1', multiValue: [{ value: '1' }, { value: '2' }] }, Signature: { value: 's' } }), 3)
  })

  it('denies a bound token unless it travels with the signature it was made for', () => {
    const viewer = (signature?: string): EdgeViewer => ({ ip: '192.0.2.1', ...(signature !== undefined && { signature }) })
    const token = createEdgeToken(input({ binding: 'sig-one' }), KEY)
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
    assert.equal(payload.b, createHash('sha256').update('sig-one').digest('base64url').slice(0, 22), 'b is the truncated SHA-256 of the signature')
    assert.equal(bindingHash('sig-one'), payload.b)
    assert.equal(verifyEdgeToken(token, keys, viewer('sig-one'), NOW).allowed, true)
    assert.deepEqual(verifyEdgeToken(token, keys, viewer('sig-two'), NOW), { allowed: false, reason: 'binding' })
    assert.deepEqual(verifyEdgeToken(token, keys, viewer(), NOW), { allowed: false, reason: 'binding' })
    assert.deepEqual(verifyEdgeToken(token, keys, viewer(''), NOW), { allowed: false, reason: 'binding' })
    assert.equal(verifyEdgeToken(createEdgeToken(input(), KEY), keys, viewer('anything'), NOW).allowed, true, 'an unbound token ignores the signature')
    assert.equal(codeOf(() => createEdgeToken(input({ binding: 'has space' }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => createEdgeToken(input({ binding: 'a'.repeat(4097) }), KEY)), 'EDGE_TOKEN_INVALID_PAYLOAD')
  })

  it('denies a subject\'s tokens issued at or before its revocation, and passes later ones', () => {
    const at = (revokedAt: number | undefined) => ({ isGrantRevoked: () => false, subjectRevokedAt: (hash: string) => (hash === hashSubject('alice') ? revokedAt : undefined) })
    const token = createEdgeToken(input({ issuedAt: NOW - 60 }), KEY)
    assert.deepEqual(verifyEdgeToken(token, keys, { ip: '192.0.2.1' }, NOW, at(NOW - 60)), { allowed: false, reason: 'revoked-sub' })
    assert.deepEqual(verifyEdgeToken(token, keys, { ip: '192.0.2.1' }, NOW, at(NOW - 30)), { allowed: false, reason: 'revoked-sub' })
    assert.equal(verifyEdgeToken(token, keys, { ip: '192.0.2.1' }, NOW, at(NOW - 61)).allowed, true)
    assert.equal(verifyEdgeToken(token, keys, { ip: '192.0.2.1' }, NOW, at(undefined)).allowed, true)
  })

  it('writes and reads revocation values, and reads an unreadable one as revoking everything', () => {
    const value = formatRevocationValue({ t: 100, x: 200, r: 'offboarded' })
    assert.deepEqual(JSON.parse(value), { t: 100, x: 200, r: 'offboarded' })
    assert.deepEqual(parseRevocationValue(value), { t: 100, x: 200, r: 'offboarded' })
    assert.deepEqual(parseRevocationValue(formatRevocationValue({ t: 1, x: 2 })), { t: 1, x: 2 })
    for (const bad of ['', 'null', '[]', '{"t":1}', '{"t":-1,"x":2}', '{"t":1.5,"x":2}', '{"t":1,"x":2,"r":3}', `{"t":1,"x":2,"r":"${'a'.repeat(2000)}"}`]) {
      assert.equal(parseRevocationValue(bad), undefined, bad.slice(0, 40))
    }
    assert.equal(codeOf(() => formatRevocationValue({ t: -1, x: 2 })), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(codeOf(() => formatRevocationValue({ t: 1, x: 2, r: 'a'.repeat(201) })), 'EDGE_TOKEN_INVALID_PAYLOAD')
    assert.equal(revokedAtOf(undefined), undefined)
    assert.equal(revokedAtOf(value), 100)
    assert.equal(revokedAtOf('1'), Number.POSITIVE_INFINITY)
    assert.equal(revokedAtOf('{'), Number.POSITIVE_INFINITY)
    assert.equal(revokedAtOf('null'), Number.POSITIVE_INFINITY)
  })

  it('tells whether one range holds another', () => {
    assert.equal(cidrContains('10.0.0.0/8', '10.1.0.0/16'), true)
    assert.equal(cidrContains('10.0.0.0/8', '10.0.0.0/8'), true)
    assert.equal(cidrContains('10.1.0.0/16', '10.0.0.0/8'), false)
    assert.equal(cidrContains('10.0.0.0/8', '11.0.0.0/16'), false)
    assert.equal(cidrContains('0.0.0.0/0', '203.0.113.7/32'), true)
    assert.equal(cidrContains('2001:db8::/32', '2001:db8:ffff::/48'), true)
    assert.equal(cidrContains('2001:db8::/32', '2001:db9::/48'), false)
    assert.equal(cidrContains('0.0.0.0/0', '::/0'), false, 'families never contain each other')
    assert.equal(cidrContains('10.0.0.0/8', 'not a range'), false)
  })
})
