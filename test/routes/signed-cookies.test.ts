import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { build, captureLogs, TEST_DISTRIBUTIONS, TEST_NOW_MS, testConfig } from '../support/build.js'
import { bearer, makeToken } from '../support/tokens.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { assertVerdict, flipChar, inspectWithTestKeys } from '../support/inspector.js'
import { sharedApp } from '../support/shared-app.js'

// Tests that only read build()'s defaults share one app.
const defaultApp = sharedApp()

const NOW = TEST_NOW_MS / 1000
const WILDCARD = makeToken({ sub: 'player', scope: 'sign sign:wildcard' })
const SIGN = makeToken({ sub: 'player', scope: 'sign' })

interface CookieAnswer {
  cookies: Record<string, string>
  expires: number
  expiresAt: string
  policy: 'canned' | 'custom'
  resource: string
  keyId: string
}

function post(app: Awaited<ReturnType<typeof build>>, payload: Record<string, unknown>, token = WILDCARD) {
  return app.inject({ method: 'POST', url: '/v1/signed-cookies', headers: bearer(token), payload })
}

/** The cookies a browser would send for a request, judged as CloudFront would. */
function inspectCookies(url: string, cookies: Record<string, string>, at = NOW, ip?: string) {
  return inspectWithTestKeys(url, { at, ip, cookies })
}

describe('POST /v1/signed-cookies', () => {
  it('signs a folder with a custom policy on the alias under the cookie domain; every segment passes the inspector', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*', expiresIn: 600 })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as CookieAnswer
    assert.equal(res.headers['set-cookie'], undefined, 'no Set-Cookie unless asked')
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.deepEqual(Object.keys(body.cookies).sort(), ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature'])
    assert.deepEqual(
      { policy: body.policy, resource: body.resource, expires: body.expires, keyId: body.keyId },
      { policy: 'custom', resource: 'https://media.example.com/hls/movie-42/*', expires: NOW + 600, keyId: RSA_KEY_ID },
    )
    assert.equal(body.expiresAt, new Date((NOW + 600) * 1000).toISOString())
    for (const file of ['index.m3u8', '720p/seg-00001.ts', 'seg-2.ts?token=x']) {
      assertVerdict(inspectCookies(`https://media.example.com/hls/movie-42/${file}`, body.cookies), 'allow', file)
    }
    assertVerdict(inspectCookies('https://media.example.com/hls/movie-42/index.m3u8', body.cookies, NOW + 600), 'EXPIRED')
    assertVerdict(inspectCookies('https://media.example.com/hls/movie-43/index.m3u8', body.cookies), 'RESOURCE_MISMATCH', 'other folder')
    assertVerdict(inspectCookies('https://d111111abcdef8.cloudfront.net/hls/movie-42/index.m3u8', body.cookies), 'RESOURCE_MISMATCH', 'other host')
  })

  it('uses a canned policy (CloudFront-Expires) for one exact file with no conditions', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: '/videos/intro.mp4' }, SIGN)
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as CookieAnswer
    assert.equal(body.policy, 'canned')
    assert.deepEqual(Object.keys(body.cookies).sort(), ['CloudFront-Expires', 'CloudFront-Key-Pair-Id', 'CloudFront-Signature'])
    assert.equal(body.cookies['CloudFront-Expires'], String(NOW + 300), 'the default TTL')
    assertVerdict(inspectCookies('https://media.example.com/videos/intro.mp4', body.cookies), 'allow')
    assertVerdict(inspectCookies('https://media.example.com/videos/intro.mp4?x=1', body.cookies), 'BAD_SIGNATURE', 'query added')
  })

  it('encodes the literal parts of a pattern as browsers send them, keeping * and ? as wildcards', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: '/hls/my movie/seg-?.ts' })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as CookieAnswer
    assert.equal(body.resource, 'https://media.example.com/hls/my%20movie/seg-?.ts')
    assertVerdict(inspectCookies('https://media.example.com/hls/my%20movie/seg-7.ts', body.cookies), 'allow')
    assertVerdict(inspectCookies('https://media.example.com/hls/my%20movie/seg-17.ts', body.cookies), 'RESOURCE_MISMATCH')
  })

  it('takes a URL pattern on any of the distribution\'s hosts', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: 'https://d111111abcdef8.cloudfront.net/hls/*' })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().resource, 'https://d111111abcdef8.cloudfront.net/hls/*')
    const foreign = await post(app, { distribution: 'demo', resource: 'https://evil.example.net/hls/*' })
    assert.equal(foreign.statusCode, 403)
    assert.equal(foreign.json().code, 'FORBIDDEN_HOST')
    const other = await post(app, { distribution: 'demo', resource: 'https://d222222abcdef8.cloudfront.net/hls/*' })
    assert.equal(other.json().code, 'FORBIDDEN_HOST', 'another distribution\'s host')
    const port = await post(app, { distribution: 'demo', resource: 'https://media.example.com:8443/hls/*' })
    assert.equal(port.json().code, 'INVALID_RESOURCE')
    const scheme = await post(app, { distribution: 'demo', resource: 'http://media.example.com/hls/*' })
    assert.equal(scheme.json().code, 'INVALID_RESOURCE', 'the distribution is https')
  })

  it('signs a path pattern for the first alias under the cookie domain, else the first alias or the CloudFront domain', async (t) => {
    const app = await build(t, {
      configInput: {
        distributions: {
          multi: { domain: 'd333333abcdef8.cloudfront.net', aliases: ['cdn.example.org', 'video.example.com', 'media.example.com'], cookies: { domain: 'example.com' } },
          aliased: { domain: 'd444444abcdef8.cloudfront.net', aliases: ['cdn2.example.org'] },
          bare: { domain: 'd555555abcdef8.cloudfront.net' },
        },
      },
    })
    const resourceOf = async (distribution: string) => (await post(app, { distribution, resource: '/a/*' })).json().resource
    assert.equal(await resourceOf('multi'), 'https://video.example.com/a/*')
    assert.equal(await resourceOf('aliased'), 'https://cdn2.example.org/a/*')
    assert.equal(await resourceOf('bare'), 'https://d555555abcdef8.cloudfront.net/a/*')
  })

  it('refuses a wildcard without sign:wildcard, and resources outside allowedPaths or the token\'s paths', async (t) => {
    const app = await defaultApp()
    const noWildcard = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*' }, SIGN)
    assert.equal(noWildcard.statusCode, 403)
    assert.equal(noWildcard.json().code, 'FORBIDDEN_SCOPE')
    const outside = await post(app, { distribution: 'demo', resource: '/private/*' })
    assert.equal(outside.statusCode, 403)
    assert.equal(outside.json().code, 'FORBIDDEN_PATH')
    const tooWide = await post(app, { distribution: 'demo', resource: '/*' })
    assert.equal(tooWide.json().code, 'FORBIDDEN_PATH', 'a pattern reaching past allowedPaths')
    const narrowed = makeToken({ sub: 'kid', scope: 'sign sign:wildcard', paths: ['/hls/free/*'] })
    assert.equal((await post(app, { distribution: 'demo', resource: '/hls/movie-42/*' }, narrowed)).json().code, 'FORBIDDEN_PATH')
    assert.equal((await post(app, { distribution: 'demo', resource: '/hls/free/*' }, narrowed)).statusCode, 200)
    const otherDist = makeToken({ sub: 'kid', scope: 'sign sign:wildcard', distributions: ['private'] })
    assert.equal((await post(app, { distribution: 'demo', resource: '/hls/*' }, otherDist)).json().code, 'FORBIDDEN_DISTRIBUTION')
    const dots = await post(app, { distribution: 'demo', resource: '/hls/../private/*' })
    assert.equal(dots.json().code, 'INVALID_RESOURCE')
  })

  it('enforces the TTL limits and builds custom policies for notBefore and ipAddress', async (t) => {
    const app = await defaultApp()
    const long = await post(app, { distribution: 'demo', resource: '/videos/intro.mp4', expiresIn: 86_401 })
    assert.equal(long.statusCode, 403)
    assert.equal(long.json().code, 'FORBIDDEN_TTL')
    const res = await post(app, { distribution: 'demo', resource: '/videos/intro.mp4', notBefore: NOW + 60, ipAddress: '203.0.113.0/24' })
    assert.equal(res.statusCode, 200, res.body)
    const { cookies, policy } = res.json() as CookieAnswer
    assert.equal(policy, 'custom')
    const url = 'https://media.example.com/videos/intro.mp4'
    assertVerdict(inspectCookies(url, cookies, NOW + 60, '203.0.113.9'), 'allow')
    assertVerdict(inspectCookies(url, cookies, NOW + 59, '203.0.113.9'), 'NOT_YET_VALID')
    assertVerdict(inspectCookies(url, cookies, NOW + 60, '198.51.100.1'), 'IP_NOT_ALLOWED')
  })

  it('denies tampered cookies for the right reason', async (t) => {
    const app = await defaultApp()
    const folder = (await post(app, { distribution: 'demo', resource: '/hls/movie-42/*' })).json() as CookieAnswer
    const file = (await post(app, { distribution: 'demo', resource: '/videos/intro.mp4' })).json() as CookieAnswer
    const url = 'https://media.example.com/hls/movie-42/index.m3u8'
    const fileUrl = 'https://media.example.com/videos/intro.mp4'
    const policy = folder.cookies['CloudFront-Policy']
    const signature = folder.cookies['CloudFront-Signature']
    assertVerdict(inspectCookies(url, { ...folder.cookies, 'CloudFront-Signature': flipChar(signature) }), 'BAD_SIGNATURE', 'signature byte')
    assertVerdict(inspectCookies(url, { ...folder.cookies, 'CloudFront-Policy': flipChar(policy, 40) }), 'BAD_SIGNATURE', 'policy')
    assertVerdict(inspectCookies(url, { ...folder.cookies, 'CloudFront-Key-Pair-Id': 'K0NOSUCHKEY000' }), 'UNKNOWN_KEY', 'key ID')
    assertVerdict(inspectCookies(url, { ...folder.cookies, 'CloudFront-Hash-Algorithm': 'SHA256' }), 'BAD_SIGNATURE', 'hash algorithm')
    assertVerdict(inspectCookies(fileUrl, { ...file.cookies, 'CloudFront-Expires': String(NOW + 86_400) }), 'BAD_SIGNATURE', 'expiry')
    assertVerdict(inspectCookies('https://media.example.com/videos/outro.mp4', file.cookies), 'BAD_SIGNATURE', 'canned path')
    assertVerdict(inspectCookies('https://media.example.com/videos/intro.mp4?q=1', file.cookies), 'BAD_SIGNATURE', 'canned query')
    const { 'CloudFront-Signature': _dropped, ...unsigned } = folder.cookies
    assertVerdict(inspectCookies(url, unsigned), 'MISSING_PARAMS', 'no signature')
  })

  it('with setCookies, sends them as Set-Cookie with the configured attributes and Max-Age to the expiry', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*', expiresIn: 900, hashAlgorithm: 'SHA256', setCookies: true })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json() as CookieAnswer
    assert.equal(body.cookies['CloudFront-Hash-Algorithm'], 'SHA256')
    const headers = res.headers['set-cookie'] as string[]
    const attributes = 'Domain=example.com; Path=/; Secure; HttpOnly; SameSite=None'
    for (const [name, value] of Object.entries(body.cookies)) {
      assert.ok(headers.includes(`${name}=${value}; ${attributes}; Max-Age=900`), `${name} is set`)
    }
    // A canned-policy cookie left from an earlier grant would make CloudFront check the wrong policy.
    assert.ok(headers.includes(`CloudFront-Expires=; ${attributes}; Max-Age=0`), 'the unused CloudFront-Expires is cleared')
    // An edge token left from an edge grant is bound to another signature.
    assert.ok(headers.includes(`CloudFront-Edge=; ${attributes}; Max-Age=0`), 'the unused CloudFront-Edge is cleared')
    assert.equal(headers.length, 6)
    const sent = Object.fromEntries(headers.filter((h) => !h.includes('Max-Age=0')).map((h) => h.split(';')[0].split('=') as [string, string]))
    assertVerdict(inspectCookies('https://media.example.com/hls/movie-42/index.m3u8', sent), 'allow', 'the cookies as set')
  })

  it('sets Max-Age from the rounded expiry and the configured SameSite and Path', async (t) => {
    const app = await build(t, {
      configInput: {
        distributions: {
          demo: { ...TEST_DISTRIBUTIONS.demo, expiryGranularitySeconds: 60, cookies: { domain: 'example.com', sameSite: 'Strict', path: '/hls' } },
        },
      },
    })
    const res = await post(app, { distribution: 'demo', resource: '/hls/movie-42/index.m3u8', expiresIn: 30, setCookies: true })
    assert.equal(res.statusCode, 200, res.body)
    const { expires } = res.json() as CookieAnswer
    assert.equal(expires % 60, 0)
    const headers = res.headers['set-cookie'] as string[]
    assert.ok(headers[0].endsWith(`; Domain=example.com; Path=/hls; Secure; HttpOnly; SameSite=Strict; Max-Age=${expires - NOW}`), headers[0])
    const unreached = await post(app, { distribution: 'demo', resource: '/videos/intro.mp4', setCookies: true })
    assert.equal(unreached.json().code, 'INVALID_RESOURCE', 'Path=/hls never covers /videos')
  })

  it('refuses setCookies without cookie settings (NO_COOKIE_DOMAIN) or for a host the cookie domain never reaches', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'private', resource: '/a.mp4', setCookies: true })
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().code, 'NO_COOKIE_DOMAIN')
    const withoutSet = await post(app, { distribution: 'private', resource: '/a.mp4' })
    assert.equal(withoutSet.statusCode, 200, 'the cookie values alone need no cookie settings')
    assert.equal(withoutSet.json().resource, 'https://d222222abcdef8.cloudfront.net/a.mp4')
    const cloudfront = await post(app, { distribution: 'demo', resource: 'https://d111111abcdef8.cloudfront.net/hls/*', setCookies: true })
    assert.equal(cloudfront.statusCode, 400)
    assert.equal(cloudfront.json().code, 'INVALID_RESOURCE')
  })

  it('needs a token with the sign scope, refuses unknown fields and distributions', async (t) => {
    const app = await defaultApp()
    const anonymous = await app.inject({ method: 'POST', url: '/v1/signed-cookies', payload: { distribution: 'demo', resource: '/hls/*' } })
    assert.equal(anonymous.statusCode, 401)
    assert.equal(anonymous.json().code, 'UNAUTHORIZED')
    const reader = await post(app, { distribution: 'demo', resource: '/hls/*' }, makeToken({ sub: 'ops', scope: 'admin:read' }))
    assert.equal(reader.statusCode, 403)
    assert.equal(reader.json().code, 'FORBIDDEN_SCOPE')
    const typo = await post(app, { distribution: 'demo', resource: '/hls/*', setCookie: true })
    assert.equal(typo.statusCode, 400)
    assert.equal(typo.json().code, 'VALIDATION_ERROR')
    assert.equal((await post(app, { distribution: 'nope', resource: '/hls/*' })).json().code, 'UNKNOWN_DISTRIBUTION')
    assert.equal((await post(app, { distribution: 'demo', resource: 'hls/*' })).json().code, 'INVALID_RESOURCE')
  })

  it('never logs the cookie values', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logStream: logs.stream, logLevel: 'info' })
    const res = await post(app, { distribution: 'demo', resource: '/hls/movie-42/*', setCookies: true })
    const { cookies } = res.json() as CookieAnswer
    assert.match(logs.text(), /signed cookies/)
    assert.ok(!logs.text().includes(cookies['CloudFront-Signature']), "!logs.text().includes(cookies['CloudFront-Signature'])")
    assert.ok(!logs.text().includes(cookies['CloudFront-Policy']), "!logs.text().includes(cookies['CloudFront-Policy'])")
    assert.ok(!logs.text().includes(WILDCARD), '!logs.text().includes(WILDCARD)')
  })
})

describe('configuration: distributions.<name>.cookies', () => {
  const withCookies = (dist: Record<string, unknown>) => ({ distributions: { demo: { domain: 'd111111abcdef8.cloudfront.net', ...dist } } })

  it('accepts a domain equal to an alias or a parent of one', (t) => {
    for (const domain of ['example.com', 'media.example.com', 'EXAMPLE.com']) {
      const config = testConfig(t, withCookies({ aliases: ['media.example.com'], cookies: { domain } }))
      assert.equal(config.distributions.demo.cookies?.domain, domain)
      assert.equal(config.distributions.demo.cookies?.path, '/', 'path defaults to /')
    }
  })

  it('stops the start on a cookie domain the cookies would never reach, naming the field', (t) => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['the CloudFront domain', { aliases: ['media.example.com'], cookies: { domain: 'd111111abcdef8.cloudfront.net' } }],
      ['cloudfront.net', { aliases: ['media.example.com'], cookies: { domain: 'cloudfront.net' } }],
      ['no alias at all', { cookies: { domain: 'example.com' } }],
      ['another parent domain', { aliases: ['media.example.org'], cookies: { domain: 'example.com' } }],
      ['a suffix that is no parent', { aliases: ['media.example.com'], cookies: { domain: 'ample.com' } }],
      ['a child of the alias', { aliases: ['media.example.com'], cookies: { domain: 'x.media.example.com' } }],
    ]
    for (const [label, dist] of cases) {
      assert.throws(() => testConfig(t, withCookies(dist)), (err: Error & { problems?: string[] }) => {
        assert.ok(err.problems?.some((p) => p.startsWith('distributions.demo.cookies.domain:')), `${label}: ${err.message}`)
        return true
      })
    }
  })

  it('refuses an unknown SameSite value', (t) => {
    assert.throws(
      () => testConfig(t, withCookies({ aliases: ['media.example.com'], cookies: { domain: 'example.com', sameSite: 'Relaxed' } })),
      (err: Error & { problems?: string[] }) => err.problems?.some((p) => p.startsWith('distributions.demo.cookies.sameSite')) === true,
    )
  })
})
