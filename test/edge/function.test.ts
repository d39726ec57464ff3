// The viewer-request function's source, run in a vm with CloudFront's event shape and an in-memory KeyValueStore
// behind the `cloudfront` module: the runtime's boundary, the same one the emulator's TestFunction uses.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runFunction } from '../../src/dev/emulator/function-runtime.js'
import { EDGE_FUNCTION_SOURCE, MAX_FUNCTION_CODE_BYTES } from '../../src/edge/function-source.js'
import { createEdgeToken, formatRevocationValue, hashSubject, type EdgeTokenInput } from '../../src/edge/token.js'

const KEY = { id: 'k1', secret: 'k1-secret-0123456789abcdefghijklmnopqrstu' }
const NEXT_KEY = { id: 'k2', secret: 'k2-secret-0123456789abcdefghijklmnopqrstu' }
const FAR = Math.floor(Date.now() / 1000) + 3600

function grant(overrides: Partial<EdgeTokenInput> = {}): EdgeTokenInput {
  return { grantId: 'g-abc123', sub: 'user-42', issuedAt: FAR - 7200, expires: FAR, ...overrides }
}

interface Viewer {
  token?: string
  cookie?: string
  ip?: string
  headers?: Record<string, string>
  /** More query parameters and cookies, e.g. the CloudFront Signature a bound token is checked against. */
  query?: Record<string, string>
  cookies?: Record<string, string>
  /** Query values in CloudFront's own shape, for names that repeat (multiValue holds every value). */
  querystring?: Record<string, { value: string; multiValue?: { value: string }[] }>
  uri?: string
}

const values = (entries: Record<string, string>) => Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, { value }]))

function event({ token, cookie, ip = '2001:db8::7', headers = {}, query = {}, cookies = {}, querystring = {}, uri = '/media/a.mp4' }: Viewer) {
  return {
    version: '1.0',
    context: { eventType: 'viewer-request', distributionId: 'EDFDVBD6EXAMPLE' },
    viewer: { ip },
    request: {
      method: 'GET',
      uri,
      querystring: { ...querystring, ...values({ ...query, ...(token !== undefined && { 'cf-edge': token }) }) },
      headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), { value }])),
      cookies: values({ ...cookies, ...(cookie !== undefined && { 'CloudFront-Edge': cookie }) }),
    },
  }
}

function storeWith(entries: Record<string, string> = {}): Map<string, string> {
  return new Map(Object.entries({ [`hmac:${KEY.id}`]: KEY.secret, ...entries }))
}

/** The deny reason, or 'pass' when the function hands the request on. */
function outcome(viewer: Viewer, store = storeWith()): string {
  // The verdict, not the speed: a loaded test machine may take longer than CloudFront's budget.
  const run = runFunction(EDGE_FUNCTION_SOURCE, event(viewer), store, { timeoutMs: 5000 })
  assert.equal(run.error, undefined, `the function failed: ${run.error}`)
  const output = run.output as { statusCode?: number; headers: Record<string, { value: string }>; uri?: string }
  if (output.statusCode === undefined) {
    assert.equal(output.uri, viewer.uri ?? '/media/a.mp4', 'a passed request is handed on unchanged')
    return 'pass'
  }
  assert.equal(output.statusCode, 403, 'a denial is a 403')
  return output.headers['x-edge-deny']?.value ?? 'no reason header'
}

describe('edge function source', () => {
  it('fits CloudFront\'s 10 KB limit', () => {
    const bytes = Buffer.byteLength(EDGE_FUNCTION_SOURCE)
    assert.ok(bytes < MAX_FUNCTION_CODE_BYTES, `the source is ${bytes} bytes`)
  })

  it('keeps to what cloudfront-js-2.0 offers: its two modules, no Node globals, no newer syntax', () => {
    const imports = [...EDGE_FUNCTION_SOURCE.matchAll(/^import \w+ from '([^']+)';$/gm)].map((match) => match[1])
    assert.deepEqual(imports, ['cloudfront', 'crypto'])
    for (const forbidden of ['`', '...', 'Buffer', 'require(', 'fetch(', 'setTimeout', 'process.', 'class ', '?.', '??']) {
      assert.ok(!EDGE_FUNCTION_SOURCE.includes(forbidden), `the source has no ${forbidden}`)
    }
  })

  it('passes a valid token from the query string or the cookie', () => {
    const token = createEdgeToken(grant(), KEY)
    assert.equal(outcome({ token }), 'pass')
    assert.equal(outcome({ cookie: token }), 'pass')
  })

  it('answers 403 missing without a token', () => {
    assert.equal(outcome({}), 'missing')
  })

  it('lets a player on another origin read a denial: CORS headers on the 403 when the request has an Origin', () => {
    const headersOf = (headers: Record<string, string>) => {
      const run = runFunction(EDGE_FUNCTION_SOURCE, event({ headers }), storeWith(), { timeoutMs: 5000 })
      const output = run.output as { statusCode: number; headers: Record<string, { value: string }> }
      assert.equal(output.statusCode, 403)
      return Object.fromEntries(Object.entries(output.headers).map(([name, { value }]) => [name, value]))
    }
    assert.deepEqual(headersOf({ Origin: 'https://player.example.net' }), {
      'cache-control': 'no-store',
      'x-edge-deny': 'missing',
      'access-control-allow-origin': 'https://player.example.net',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-edge-deny',
      vary: 'Origin',
    })
    assert.deepEqual(headersOf({}), { 'cache-control': 'no-store', 'x-edge-deny': 'missing' })
  })

  it('answers 403 for a tampered, malformed, wrong-version, expired or unknown-key token', () => {
    const token = createEdgeToken(grant(), KEY)
    const [version, payload, mac] = token.split('.')
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), g: 'other' })).toString('base64url')
    assert.equal(outcome({ token: `${version}.${forged}.${mac}` }), 'signature')
    assert.equal(outcome({ token: `${token.slice(0, -2)}AA` }), 'signature')
    assert.equal(outcome({ token: 'v1.e30' }), 'malformed')
    assert.equal(outcome({ token: `v1.${Buffer.from('not json').toString('base64url')}.x` }), 'malformed')
    assert.equal(outcome({ token: `v2.${payload}.${mac}` }), 'version')
    assert.equal(outcome({ token: createEdgeToken(grant({ expires: Math.floor(Date.now() / 1000) - 1 }), KEY) }), 'expired')
    assert.equal(outcome({ token: createEdgeToken(grant(), NEXT_KEY) }), 'key')
  })

  it('accepts both keys during a rotation and refuses the retired one after', () => {
    const both = storeWith({ [`hmac:${NEXT_KEY.id}`]: NEXT_KEY.secret })
    assert.equal(outcome({ token: createEdgeToken(grant(), KEY) }, both), 'pass')
    assert.equal(outcome({ token: createEdgeToken(grant(), NEXT_KEY) }, both), 'pass')
    const after = new Map([[`hmac:${NEXT_KEY.id}`, NEXT_KEY.secret]])
    assert.equal(outcome({ token: createEdgeToken(grant(), KEY) }, after), 'key')
  })

  it('answers 403 for a revoked grant or a revoked subject, and reads the store live', () => {
    const token = createEdgeToken(grant(), KEY)
    const store = storeWith()
    assert.equal(outcome({ token }, store), 'pass')
    store.set('revoked:g:g-abc123', '1')
    assert.equal(outcome({ token }, store), 'revoked-grant')
    store.delete('revoked:g:g-abc123')
    store.set(`revoked:s:${hashSubject('user-42')}`, '1')
    assert.equal(outcome({ token }, store), 'revoked-sub')
    assert.equal(outcome({ token: createEdgeToken(grant({ sub: 'someone-else' }), KEY) }, store), 'pass')
  })

  it('denies a subject\'s tokens issued at or before the revocation\'s t, passes later ones, and treats an unreadable value as revoked', () => {
    const issued = FAR - 7200
    const store = storeWith({ [`revoked:s:${hashSubject('user-42')}`]: formatRevocationValue({ t: issued, x: FAR, r: 'offboarded' }) })
    assert.equal(outcome({ token: createEdgeToken(grant({ issuedAt: issued - 1 }), KEY) }, store), 'revoked-sub')
    assert.equal(outcome({ token: createEdgeToken(grant({ issuedAt: issued }), KEY) }, store), 'revoked-sub')
    assert.equal(outcome({ token: createEdgeToken(grant({ issuedAt: issued + 1 }), KEY) }, store), 'pass', 'a grant issued after the revocation')
    for (const unreadable of ['', 'not json', '{"x":1}', 'null', '{"t":"1"}']) {
      store.set(`revoked:s:${hashSubject('user-42')}`, unreadable)
      assert.equal(outcome({ token: createEdgeToken(grant({ issuedAt: issued + 1 }), KEY) }, store), 'revoked-sub', JSON.stringify(unreadable))
    }
  })

  it('passes a bound token only beside its signature, from the query string or the CloudFront-Signature cookie', () => {
    const signature = 'Nf~AbC-123_xyz'
    const token = createEdgeToken(grant({ binding: signature }), KEY)
    assert.equal(outcome({ token, query: { Signature: signature } }), 'pass')
    assert.equal(outcome({ cookie: token, cookies: { 'CloudFront-Signature': signature } }), 'pass')
    assert.equal(outcome({ token, query: { Signature: 'Other~sig' } }), 'binding')
    assert.equal(outcome({ cookie: token, cookies: { 'CloudFront-Signature': 'Other~sig' } }), 'binding')
    assert.equal(outcome({ token, query: { Signature: 'Other~sig' }, cookies: { 'CloudFront-Signature': signature } }), 'binding', 'the query wins')
    assert.equal(outcome({ token }), 'binding')
    assert.equal(outcome({ token: createEdgeToken(grant(), KEY), query: { Signature: 'any' } }), 'pass', 'an unbound token ignores it')
  })

  it('checks the Referer host against exact and wildcard patterns, with or without an empty referrer', () => {
    const strict = createEdgeToken(grant({ referrers: ['example.com', '*.cdn.example.org'] }), KEY)
    const lenient = createEdgeToken(grant({ referrers: ['example.com'], allowEmptyReferrer: true }), KEY)
    assert.equal(outcome({ token: strict, headers: { Referer: 'https://example.com/page' } }), 'pass')
    assert.equal(outcome({ token: strict, headers: { Referer: 'https://a.cdn.example.org:8443/x' } }), 'pass')
    assert.equal(outcome({ token: strict, headers: { Referer: 'https://cdn.example.org/' } }), 'referrer')
    assert.equal(outcome({ token: strict, headers: { Referer: 'https://evil-example.com/' } }), 'referrer')
    assert.equal(outcome({ token: strict, headers: { Referer: 'https://example.com.evil.net/' } }), 'referrer')
    assert.equal(outcome({ token: strict }), 'referrer')
    assert.equal(outcome({ token: lenient }), 'pass')
    assert.equal(outcome({ token: lenient, headers: { Referer: 'https://other.net/' } }), 'referrer')
  })

  it('allows or denies by CloudFront-Viewer-Country', () => {
    const allow = createEdgeToken(grant({ countries: { allow: ['FR', 'DE'] } }), KEY)
    const deny = createEdgeToken(grant({ countries: { deny: ['US'] } }), KEY)
    assert.equal(outcome({ token: allow, headers: { 'CloudFront-Viewer-Country': 'DE' } }), 'pass')
    assert.equal(outcome({ token: allow, headers: { 'CloudFront-Viewer-Country': 'US' } }), 'country')
    assert.equal(outcome({ token: allow }), 'country')
    assert.equal(outcome({ token: deny, headers: { 'CloudFront-Viewer-Country': 'US' } }), 'country')
    assert.equal(outcome({ token: deny, headers: { 'CloudFront-Viewer-Country': 'FR' } }), 'pass')
    assert.equal(outcome({ token: deny }), 'pass', 'no country passes a deny list')
    const both = createEdgeToken(grant({ countries: { allow: ['FR', 'DE'], deny: ['DE'] } }), KEY)
    assert.equal(outcome({ token: both, headers: { 'CloudFront-Viewer-Country': 'fr' } }), 'pass')
    assert.equal(outcome({ token: both, headers: { 'CloudFront-Viewer-Country': 'DE' } }), 'country')
    assert.equal(outcome({ token: both, headers: { 'CloudFront-Viewer-Country': 'US' } }), 'country')
  })

  it('matches the viewer address against IPv6 and IPv4 ranges', () => {
    const token = createEdgeToken(grant({ ipRanges: ['2001:db8:aa::/48', '203.0.113.0/24'] }), KEY)
    assert.equal(outcome({ token, ip: '2001:db8:aa:1::9' }), 'pass')
    assert.equal(outcome({ token, ip: '2001:db8:ab::9' }), 'ip')
    assert.equal(outcome({ token, ip: '203.0.113.200' }), 'pass')
    assert.equal(outcome({ token, ip: '203.0.114.1' }), 'ip')
    assert.equal(outcome({ token, ip: '::ffff:203.0.113.5' }), 'ip', 'an IPv4-mapped address is not an IPv4 range member')
  })

  it('passes a token with n only when the query holds exactly n values besides the signing parameters', () => {
    const token = createEdgeToken(grant({ queryValueCount: 2 }), KEY)
    const signing = { Policy: 'p', Signature: 's', 'Key-Pair-Id': 'K', 'Hash-Algorithm': 'SHA256' }
    assert.equal(outcome({ token, query: { ...signing, v: '1' } }), 'pass')
    assert.equal(outcome({ token, query: signing }), 'query', 'one value short')
    assert.equal(outcome({ token, query: { ...signing, v: '1', 'response-content-type': 'text/html' } }), 'query', 'a parameter appended after the token')
    assert.equal(outcome({ token, query: { ...signing, Expires: '2000000000', v: '1' } }), 'query', 'an added Expires counts')
    assert.equal(outcome({ token, querystring: { v: { value: '1', multiValue: [{ value: '1' }] } } }), 'pass')
    assert.equal(outcome({ token, querystring: { v: { value: '1', multiValue: [{ value: '1' }, { value: '2' }] } } }), 'query', 'a repeated name counts each value')
    assert.equal(outcome({ cookie: token, query: { v: '1' } }), 'query', 'the token in a cookie is not a query value')
    // CloudFront's `?` in `…/a.mp4?cf-edge=*` also matches `…/a.mp4/cf-edge=…`: a path holding the parameter is refused.
    assert.equal(outcome({ token, query: { v: '1' }, uri: '/media/a.mp4/cf-edge=x/b.mp4' }), 'query')
    assert.equal(outcome({ token, query: { v: '1' }, uri: '/media/a.mp4/CF-EDGE%3Dx' }), 'query')
    assert.equal(outcome({ token: createEdgeToken(grant(), KEY), uri: '/media/cf-edge=x.mp4' }), 'pass', 'only a token with n looks at the path')
    assert.equal(outcome({ token: createEdgeToken(grant(), KEY), query: { v: '1', w: '2' } }), 'pass', 'no n, no count')
  })
})
