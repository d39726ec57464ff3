// The signing invariant, over generated paths and queries: the returned URL minus its signing
// parameters is exactly the signed policy's resource (or a URL its wildcard matches), the policy in
// the URL is the one answered, the signature verifies with the public key, and the URL is what a
// browser sends (the WHATWG parser leaves it unchanged). Then the pure helpers it rests on.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { build, TEST_NOW_MS } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { EC_KEY_ID, EC_PEM, LEGACY_KEY_ID, RSA_KEY_ID, RSA_PEM } from '../support/keys.js'
import { fromCloudFrontBase64, SIGNING_PARAMS, toIpv4Cidr } from '../../src/signing/policy.js'
import {
  canonicalisePathAndQuery,
  encodePath,
  matchesPathPattern,
  matchesWildcard,
  MAX_PATTERN_LENGTH,
  pathPatternCovers,
  stripSigningParams,
} from '../../src/signing/resource.js'
import { verifyPolicySignature } from '../../src/signing/verify.js'

const RUNS = 200
const NOW = Math.floor(TEST_NOW_MS / 1000)
const DOMAIN = 'd333333abcdef8.cloudfront.net'
const ALIAS = 'cdn.example.org'
const CONFIG = {
  distributions: { inv: { domain: DOMAIN, aliases: [ALIAS], allowedPaths: ['/*'], defaultTtlSeconds: 300, maxTtlSeconds: 30 * 86_400 } },
}
const PUBLIC_KEYS = { [RSA_KEY_ID]: createPublicKey(RSA_PEM), [LEGACY_KEY_ID]: createPublicKey(RSA_PEM), [EC_KEY_ID]: createPublicKey(EC_PEM) }

/** The reference encoding, written independently of the code under test: every byte but RFC 3986 unreserved. */
function refEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('')
}
const refEncodePath = (rawPath: string) => rawPath.split('/').map(refEncode).join('/')
const refEncodeQuery = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${refEncode(k)}=${refEncode(v)}`).join('&')

// ---- generators ----------------------------------------------------------------------------
const TOKENS = [
  'a', 'Z', '0', '9', '-', '_', '.', '~', ' ', '+', '=', ',', '%', '%20', '%2F', '%2f', '%41', '%zz', '%E2%82%AC', '%%',
  '*', '?', '#', '&', ';', ':', '@', '!', "'", '(', ')', '[', ']', '$', '"', '<', '>', '\\', '^', '`', '{', '|', '}',
  'é', 'ß', 'Ω', '日本', '€', '🎬', '👩‍👩‍👧', 'video', 'index.m3u8', 'my file', 'a+b=c,d',
]
const segment = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', ' ', '🎬', '%'), fc.integer({ min: 100, max: 400 })).map(([c, n]) => c.repeat(n)) },
).filter((s) => s !== '.' && s !== '..' && !s.includes('/') && !/[\u0000-\u001f\u007f]/.test(s))

/** Dot segments as the service refuses them: split on `/` and `\`, as written or with `%2E`, `%2F`, `%5C` decoded once. */
const hasDotSegment = (path: string) =>
  [path, path.replace(/%(2e|2f|5c)/gi, (e) => String.fromCharCode(parseInt(e.slice(1), 16)))].some((p) => p.split(/[/\\]/).some((s) => s === '.' || s === '..'))

/** A raw (unencoded) path: `/` then segments, possibly empty ones; encoded, it fits in a request's `url`. */
const rawPath = fc
  .array(fc.oneof({ weight: 9, arbitrary: segment }, { weight: 1, arbitrary: fc.constant('') }), { minLength: 1, maxLength: 5 })
  .map((s) => `/${s.join('/')}`)
  .filter((path) => refEncodePath(path).length < 6000 && !hasDotSegment(path))

const queryText = fc.array(fc.constantFrom(...TOKENS), { minLength: 0, maxLength: 5 }).map((parts) => parts.join(''))
const queryPairs = fc.uniqueArray(fc.tuple(queryText.filter((k) => k.length > 0 && !(SIGNING_PARAMS as readonly string[]).includes(k)), queryText), {
  maxLength: 4,
  selector: ([k]) => k,
})

const signingOptions = fc.record({
  keyId: fc.constantFrom(RSA_KEY_ID, LEGACY_KEY_ID, EC_KEY_ID),
  hashAlgorithm: fc.constantFrom('SHA1', 'SHA256') as fc.Arbitrary<'SHA1' | 'SHA256'>,
  expiresIn: fc.integer({ min: 1, max: 30 * 86_400 }),
  host: fc.constantFrom(DOMAIN, ALIAS),
})

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'))
const ipAddress = fc.oneof(ipv4, fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`), fc.constant('client'))
const customConditions = fc
  .record({ ipAddress: fc.option(ipAddress, { nil: undefined }), notBeforeAgo: fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: undefined }) })
  .filter((c) => c.ipAddress !== undefined || c.notBeforeAgo !== undefined)

/** How the caller wrote a `{url}`: each segment fully encoded, or as typed with only the URL delimiters escaped. */
const urlStyle = fc.constantFrom('encodeURIComponent', 'typed')
function writeUrl(host: string, path: string, pairs: Array<[string, string]>, style: string): string {
  const typed = (s: string) => s.replace(/[%?#\\/&=+]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  const enc = style === 'typed' ? typed : encodeURIComponent
  const query = pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')
  const url = `https://${host}${path.split('/').map(enc).join('/')}${query === '' ? '' : `?${query}`}`
  // A URL parser drops trailing spaces, so a caller typing them would escape them.
  return url.replace(/ +$/, (spaces) => '%20'.repeat(spaces.length))
}

// ---- the checks ----------------------------------------------------------------------------
interface Signed {
  url: string
  expires: number
  expiresAt: string
  policy: 'canned' | 'custom'
  resource: string
  keyId: string
}

/** Everything the invariant demands of one answer; returns the signed policy for further checks. */
function checkInvariant(res: Signed, hashAlgorithm: 'SHA1' | 'SHA256'): { Resource: string; Condition: Record<string, Record<string, unknown>> } {
  assert.equal(new URL(res.url).href, res.url, 'the WHATWG parser leaves the URL unchanged')
  const params = new URLSearchParams(res.url.slice(res.url.indexOf('?') + 1))
  assert.equal(params.get('Key-Pair-Id'), res.keyId)
  assert.equal(params.get('Hash-Algorithm'), hashAlgorithm === 'SHA256' ? 'SHA256' : null)
  let policyJson: string
  if (res.policy === 'canned') {
    assert.equal(params.get('Expires'), String(res.expires))
    assert.equal(params.has('Policy'), false)
    policyJson = JSON.stringify({ Statement: [{ Resource: res.resource, Condition: { DateLessThan: { 'AWS:EpochTime': res.expires } } }] })
  } else {
    assert.equal(params.has('Expires'), false)
    policyJson = fromCloudFrontBase64(params.get('Policy')!).toString('utf8')
  }
  const statement = JSON.parse(policyJson).Statement[0]
  assert.equal(statement.Resource, res.resource, "the policy's Resource is the answered resource")
  assert.equal(statement.Condition.DateLessThan['AWS:EpochTime'], res.expires)
  assert.equal(res.expiresAt, new Date(res.expires * 1000).toISOString())
  assert.ok(verifyPolicySignature(policyJson, params.get('Signature')!, PUBLIC_KEYS[res.keyId as keyof typeof PUBLIC_KEYS], hashAlgorithm), 'signature verifies')
  return statement
}

async function sign(app: FastifyInstance, token: string, body: Record<string, unknown>): Promise<Signed> {
  const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(token), payload: body })
  assert.equal(res.statusCode, 200, `${JSON.stringify(body).slice(0, 1000)} → ${res.body}`)
  return res.json()
}

async function setUp(t: TestContext) {
  const app = await build(t, { configInput: CONFIG })
  return { app, token: makeToken({ sub: 'invariant', scope: 'sign sign:wildcard' }) }
}

describe('POST /v1/signed-urls: the signing invariant over generated input', () => {
  it('{distribution, path} + query, canned: the URL minus signing parameters is the resource, reference-encoded', async (t) => {
    const { app, token } = await setUp(t)
    await fc.assert(
      fc.asyncProperty(rawPath, queryPairs, signingOptions, async (path, pairs, opts) => {
        const query = Object.fromEntries(pairs)
        const body = { distribution: 'inv', path, query, expiresIn: opts.expiresIn, keyId: opts.keyId, hashAlgorithm: opts.hashAlgorithm }
        const res = await sign(app, token, body)
        assert.equal(res.policy, 'canned')
        assert.equal(res.expires, NOW + opts.expiresIn)
        checkInvariant(res, opts.hashAlgorithm)
        // The parameters follow the JSON object's order (integer-like names first, as JavaScript orders them).
        const expected = `https://${DOMAIN}${refEncodePath(path)}${pairs.length > 0 ? `?${refEncodeQuery(Object.entries(query))}` : ''}`
        assert.equal(stripSigningParams(res.url), res.resource)
        assert.equal(res.resource, expected)
        assert.equal(new URL(res.url).pathname.split('/').map(decodeURIComponent).join('/'), path, 'the URL names the requested object')
      }),
      { numRuns: RUNS },
    )
  })

  it('{url}, canned: encoded and as-typed input sign like the raw path; the host is kept', async (t) => {
    const { app, token } = await setUp(t)
    await fc.assert(
      fc.asyncProperty(rawPath, queryPairs, signingOptions, urlStyle, async (path, pairs, opts, style) => {
        const body = { url: writeUrl(opts.host, path, pairs, style), expiresIn: opts.expiresIn, keyId: opts.keyId, hashAlgorithm: opts.hashAlgorithm }
        const res = await sign(app, token, body)
        assert.equal(res.policy, 'canned')
        checkInvariant(res, opts.hashAlgorithm)
        assert.equal(stripSigningParams(res.url), res.resource)
        assert.equal(res.resource, `https://${opts.host}${refEncodePath(path)}${pairs.length > 0 ? `?${refEncodeQuery(pairs)}` : ''}`)
      }),
      { numRuns: RUNS },
    )
  })

  it('custom policy with ipAddress / notBefore: the exact URL is the resource, conditions as asked', async (t) => {
    const { app, token } = await setUp(t)
    const request = fc.oneof(
      fc.tuple(rawPath, queryPairs).map(([path, pairs]) => ({ distribution: 'inv', path, query: Object.fromEntries(pairs) })),
      fc.tuple(rawPath, queryPairs, fc.constantFrom(DOMAIN, ALIAS), urlStyle).map(([path, pairs, host, style]) => ({ url: writeUrl(host, path, pairs, style) })),
    )
    await fc.assert(
      fc.asyncProperty(request, customConditions, signingOptions, async (target, conditions, opts) => {
        const body: Record<string, unknown> = { ...target, expiresIn: opts.expiresIn, keyId: opts.keyId, hashAlgorithm: opts.hashAlgorithm }
        if (conditions.ipAddress !== undefined) body.ipAddress = conditions.ipAddress
        if (conditions.notBeforeAgo !== undefined) body.notBefore = NOW - conditions.notBeforeAgo
        const res = await sign(app, token, body)
        assert.equal(res.policy, 'custom')
        const statement = checkInvariant(res, opts.hashAlgorithm)
        assert.equal(stripSigningParams(res.url), res.resource)
        if (conditions.ipAddress !== undefined) {
          const expectedIp = conditions.ipAddress === 'client' ? '127.0.0.1/32' : conditions.ipAddress.includes('/') ? conditions.ipAddress : `${conditions.ipAddress}/32`
          assert.equal(statement.Condition.IpAddress['AWS:SourceIp'], expectedIp)
        } else assert.equal(statement.Condition.IpAddress, undefined)
        if (conditions.notBeforeAgo !== undefined) assert.equal(statement.Condition.DateGreaterThan['AWS:EpochTime'], NOW - conditions.notBeforeAgo)
        else assert.equal(statement.Condition.DateGreaterThan, undefined)
      }),
      { numRuns: RUNS },
    )
  })

  it('wildcard resource (path or URL pattern): the resource matches the URL minus signing parameters', async (t) => {
    const { app, token } = await setUp(t)
    // A pattern cut at a segment boundary, then `*`, optionally with a `?` in place of one unreserved character.
    const wildcard = fc.record({ cut: fc.nat(), question: fc.nat(), asUrl: fc.boolean(), withQuestion: fc.boolean() })
    await fc.assert(
      fc.asyncProperty(rawPath, queryPairs, signingOptions, wildcard, fc.boolean(), async (path, pairs, opts, w, byUrl) => {
        const encoded = refEncodePath(path)
        const boundaries = [...encoded.matchAll(/\//g)].map((m) => m.index!)
        let pattern = `${encoded.slice(0, boundaries[w.cut % boundaries.length] + 1)}*`
        const unreserved = [...pattern.matchAll(/%[0-9A-F]{2}|[A-Za-z0-9]/g)].filter((m) => m[0].length === 1).map((m) => m.index!)
        if (w.withQuestion && unreserved.length > 0) {
          const at = unreserved[w.question % unreserved.length]
          pattern = `${pattern.slice(0, at)}?${pattern.slice(at + 1)}`
        }
        const origin = `https://${byUrl ? opts.host : DOMAIN}`
        const target = byUrl ? { url: writeUrl(opts.host, path, pairs, 'encodeURIComponent') } : { distribution: 'inv', path, query: Object.fromEntries(pairs) }
        const body = { ...target, resource: w.asUrl ? origin + pattern : pattern, expiresIn: opts.expiresIn, keyId: opts.keyId, hashAlgorithm: opts.hashAlgorithm }
        if ((origin + pattern).length > MAX_PATTERN_LENGTH) {
          const refused = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(token), payload: body })
          assert.equal(refused.statusCode, 400)
          assert.equal(refused.json().code, 'RESOURCE_TOO_LONG')
          return
        }
        const res = await sign(app, token, body)
        assert.equal(res.policy, 'custom')
        checkInvariant(res, opts.hashAlgorithm)
        assert.equal(res.resource, origin + pattern)
        assert.ok(matchesWildcard(res.resource, stripSigningParams(res.url)), `${res.resource} matches ${stripSigningParams(res.url)}`)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('matchesWildcard', () => {
  it('reads * as any run (slashes included) and ? as exactly one character', () => {
    assert.ok(matchesWildcard('https://d.net/videos/*', 'https://d.net/videos/a/b/c.mp4?x=1'), "matchesWildcard('https://d.net/videos/*', 'https://d.net/videos/a/b/c.mp4?x=1')")
    assert.ok(matchesWildcard('https://d.net/videos/*', 'https://d.net/videos/'), "matchesWildcard('https://d.net/videos/*', 'https://d.net/videos/')")
    assert.ok(matchesWildcard('https://d.net/v?deo.mp4', 'https://d.net/video.mp4'), "matchesWildcard('https://d.net/v?deo.mp4', 'https://d.net/video.mp4')")
    assert.ok(!matchesWildcard('https://d.net/v?deo.mp4', 'https://d.net/vdeo.mp4'), "!matchesWildcard('https://d.net/v?deo.mp4', 'https://d.net/vdeo.mp4')")
    assert.ok(!matchesWildcard('https://d.net/v?deo.mp4', 'https://d.net/viideo.mp4'), "!matchesWildcard('https://d.net/v?deo.mp4', 'https://d.net/viideo.mp4')")
    assert.ok(matchesWildcard('*', ''), "matchesWildcard('*', '')")
    assert.ok(matchesWildcard('https://d.net/a*b*c', 'https://d.net/aXXbYYc'), "matchesWildcard('https://d.net/a*b*c', 'https://d.net/aXXbYYc')")
    assert.ok(!matchesWildcard('https://d.net/a*b*c', 'https://d.net/aXXcYYb'), "!matchesWildcard('https://d.net/a*b*c', 'https://d.net/aXXcYYb')")
  })

  it('treats everything else literally, regular-expression characters included', () => {
    assert.ok(matchesWildcard('https://d.net/a.b', 'https://d.net/a.b'), "matchesWildcard('https://d.net/a.b', 'https://d.net/a.b')")
    assert.ok(!matchesWildcard('https://d.net/a.b', 'https://d.net/aXb'), "!matchesWildcard('https://d.net/a.b', 'https://d.net/aXb')")
    for (const special of ['+', '(', ')', '[', ']', '{', '}', '^', '$', '|', '\\', '.']) {
      assert.ok(matchesWildcard(`/x${special}y`, `/x${special}y`), special)
      assert.ok(!matchesWildcard(`/x${special}y`, '/xy'), special)
    }
    assert.ok(!matchesWildcard('/videos/a.mp4', '/videos/a.mp4/extra'), 'anchored at the end')
    assert.ok(!matchesWildcard('/videos/a.mp4', 'x/videos/a.mp4'), 'anchored at the start')
  })

  it('matches a string against itself and against any ?-for-character variant', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 60 }), fc.nat(), (text, at) => {
        const literal = text.replace(/[*?]/g, '_')
        assert.ok(matchesWildcard(literal, literal), 'matchesWildcard(literal, literal)')
        if (literal.length > 0) {
          const i = at % literal.length
          assert.ok(matchesWildcard(`${literal.slice(0, i)}?${literal.slice(i + 1)}`, literal), 'matchesWildcard(`${literal.slice(0, i)}?${literal.slice(i + 1)}`, literal)')
          assert.ok(matchesWildcard(`${literal.slice(0, i)}*`, literal), 'matchesWildcard(`${literal.slice(0, i)}*`, literal)')
          assert.ok(!matchesWildcard(`${literal}?`, literal), '!matchesWildcard(`${literal}?`, literal)')
        }
      }),
      { numRuns: RUNS },
    )
  })
})

describe('pathPatternCovers', () => {
  it('accepts requested wildcards only inside an allowed *', () => {
    assert.ok(pathPatternCovers('/*', '/*'), "pathPatternCovers('/*', '/*')")
    assert.ok(pathPatternCovers('/*', '/anything/?/*'), "pathPatternCovers('/*', '/anything/?/*')")
    assert.ok(pathPatternCovers('/videos/*', '/videos/*'), "pathPatternCovers('/videos/*', '/videos/*')")
    assert.ok(pathPatternCovers('/videos/*', '/videos/a?b/*.m3u8'), "pathPatternCovers('/videos/*', '/videos/a?b/*.m3u8')")
    assert.ok(pathPatternCovers('/videos/*/hd/*', '/videos/x/hd/*'), "pathPatternCovers('/videos/*/hd/*', '/videos/x/hd/*')")
    assert.ok(pathPatternCovers('/videos/a.mp4', '/videos/a.mp4'), "pathPatternCovers('/videos/a.mp4', '/videos/a.mp4')")
    assert.ok(!pathPatternCovers('/videos/*', '/*'), "!pathPatternCovers('/videos/*', '/*')")
    assert.ok(!pathPatternCovers('/videos/*', '/vid*'), "!pathPatternCovers('/videos/*', '/vid*')")
    assert.ok(!pathPatternCovers('/videos/*', '/videos*'), "!pathPatternCovers('/videos/*', '/videos*')")
    assert.ok(!pathPatternCovers('/videos/a.mp4', '/videos/a?mp4'), 'a literal never covers a ?')
    assert.ok(!pathPatternCovers('/videos/*/hd/*', '/videos/*'), "!pathPatternCovers('/videos/*/hd/*', '/videos/*')")
    assert.ok(!pathPatternCovers('/videos/*/hd/*', '/videos/x/sd/*'), "!pathPatternCovers('/videos/*/hd/*', '/videos/x/sd/*')")
    assert.ok(!pathPatternCovers('/', '/*'), "!pathPatternCovers('/', '/*')")
  })

  it('is sound: every concrete path a covered pattern can match is allowed', () => {
    const piece = fc.constantFrom('/', 'a', 'b', 'v', '*', '?', '.', '/videos/', '/hd/')
    const pattern = fc.array(piece, { minLength: 1, maxLength: 8 }).map((p) => `/${p.join('')}`)
    const fill = fc.array(fc.constantFrom('', 'a', '/', 'xyz', 'b/'), { minLength: 8, maxLength: 8 })
    fc.assert(
      fc.property(pattern, pattern, fill, (allowed, requested, fills) => {
        fc.pre(pathPatternCovers(allowed, requested))
        let k = 0
        const concrete = requested.replace(/[*?]/g, (c) => (c === '*' ? fills[k++ % fills.length] : 'q'))
        assert.ok(matchesPathPattern(allowed, concrete), `${allowed} covers ${requested} but not ${concrete}`)
      }),
      { numRuns: 500 },
    )
  })
})

describe('toIpv4Cidr', () => {
  it('normalises IPv4 addresses and CIDRs', () => {
    assert.equal(toIpv4Cidr('192.0.2.7'), '192.0.2.7/32')
    assert.equal(toIpv4Cidr(' 192.0.2.7 '), '192.0.2.7/32')
    assert.equal(toIpv4Cidr('10.0.0.0/8'), '10.0.0.0/8')
    assert.equal(toIpv4Cidr('0.0.0.0/0'), '0.0.0.0/0')
    assert.equal(toIpv4Cidr('255.255.255.255/32'), '255.255.255.255/32')
    assert.equal(toIpv4Cidr('::ffff:192.0.2.7'), '192.0.2.7/32', 'an IPv4-mapped IPv6 address is its IPv4 address')
  })

  it('refuses IPv6 with IPV6_NOT_SUPPORTED', () => {
    for (const ip of ['::1', '2001:db8::1', '2001:db8::/32', 'fe80::1%eth0']) {
      assert.throws(() => toIpv4Cidr(ip), { code: 'IPV6_NOT_SUPPORTED' }, ip)
    }
  })

  it('refuses what is not an IPv4 address or CIDR with INVALID_IP_ADDRESS', () => {
    for (const ip of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/08', '1.2.3.4/8/8', 'client', '', 'a.b.c.d', '1.2.3.4 /8']) {
      assert.throws(() => toIpv4Cidr(ip), { code: 'INVALID_IP_ADDRESS' }, JSON.stringify(ip))
    }
  })
})

describe('encodePath', () => {
  it('percent-encodes every segment to the unreserved set', () => {
    assert.equal(encodePath('/my file+1.txt'), '/my%20file%2B1.txt')
    assert.equal(encodePath('/a,b=c;d'), '/a%2Cb%3Dc%3Bd')
    assert.equal(encodePath('/100%'), '/100%25', 'a % in a raw path is a literal percent sign')
    assert.equal(encodePath('/%20'), '/%2520')
    assert.equal(encodePath("/it's (1)!*?#"), '/it%27s%20%281%29%21%2A%3F%23')
    assert.equal(encodePath('/é/日本/🎬'), '/%C3%A9/%E6%97%A5%E6%9C%AC/%F0%9F%8E%AC')
    assert.equal(encodePath('/A-Z_a.z~0/'), '/A-Z_a.z~0/')
    assert.equal(encodePath('/a//b'), '/a//b')
  })

  it('agrees with the reference encoding on generated paths', () => {
    fc.assert(fc.property(rawPath, (path) => assert.equal(encodePath(path), refEncodePath(path))), { numRuns: RUNS })
  })

  it('refuses relative paths, dot segments, control characters and lone surrogates with INVALID_PATH', () => {
    for (const path of ['videos/a.mp4', '', '/a/../b', '/./a', '/a/..', '/a\u0000b', '/a\nb', '/a\u007fb', '/a\ud800b', '/\udc00']) {
      assert.throws(() => encodePath(path), { code: 'INVALID_PATH' }, JSON.stringify(path))
    }
  })
})

describe('canonicalisePathAndQuery', () => {
  it('decodes and re-encodes the path, so encoded and raw input sign alike', () => {
    assert.deepEqual(canonicalisePathAndQuery('/my%20file.txt', ''), { path: '/my%20file.txt', rawPath: '/my file.txt', query: '' })
    assert.deepEqual(canonicalisePathAndQuery('/a%2cb%2Bc', ''), { path: '/a%2Cb%2Bc', rawPath: '/a,b+c', query: '' })
    assert.deepEqual(canonicalisePathAndQuery("/it's(1)", ''), { path: '/it%27s%281%29', rawPath: "/it's(1)", query: '' })
    assert.deepEqual(canonicalisePathAndQuery('/%C3%A9', ''), { path: '/%C3%A9', rawPath: '/é', query: '' })
  })

  it('keeps an encoded slash inside its segment', () => {
    assert.deepEqual(canonicalisePathAndQuery('/a%2Fb/c', ''), { path: '/a%2Fb/c', rawPath: '/a%2Fb/c', query: '' })
  })

  it('keeps %XX (upper-cased) and + in the query and encodes the rest, * and ? included', () => {
    assert.equal(canonicalisePathAndQuery('/', '?a=b+c&d=%2f&e=%E2%82%AC').query, 'a=b+c&d=%2F&e=%E2%82%AC')
    assert.equal(canonicalisePathAndQuery('/', '?q=*&r=a?b').query, 'q=%2A&r=a%3Fb')
    assert.equal(canonicalisePathAndQuery('/', "?x='(!)'").query, 'x=%27%28%21%29%27')
    assert.equal(canonicalisePathAndQuery('/', '?flag&a=&&b=1').query, 'flag&a=&b=1')
    assert.equal(canonicalisePathAndQuery('/', '?p=100%').query, 'p=100%25', 'a lone % is a literal percent sign')
    assert.equal(canonicalisePathAndQuery('/', '?a=1=2').query, 'a=1%3D2')
  })

  it('refuses signing parameters in the query, however they are spelled', () => {
    for (const search of ['?Signature=x', '?a=1&Expires=2', '?Policy', '?Key-Pair-Id=K', '?Hash-Algorithm=SHA256', '?%53ignature=x']) {
      assert.throws(() => canonicalisePathAndQuery('/a', search), { code: 'RESERVED_QUERY_PARAMETER' }, search)
    }
    assert.equal(canonicalisePathAndQuery('/a', '?signature=x').query, 'signature=x', 'CloudFront parameter names are case-sensitive')
  })

  it('refuses a malformed percent-encoding in the path with INVALID_URL', () => {
    assert.throws(() => canonicalisePathAndQuery('/a%zz', ''), { code: 'INVALID_URL' })
    assert.throws(() => canonicalisePathAndQuery('/a%C3', ''), { code: 'INVALID_URL' })
  })
})
