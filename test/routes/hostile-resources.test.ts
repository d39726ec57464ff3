// A `sign` token is public (players put it in URLs), so every caller is hostile. On every signing
// route and the inspector: scope, narrowing and limits come before a caller's pattern is matched;
// matching a hostile pattern completes; wildcard hosts and dot segments hidden by encoding are refused.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { TEST_NOW_MS } from '../support/build.js'
import { sharedApp } from '../support/shared-app.js'
import { bearer, makeToken } from '../support/tokens.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { assertVerdict, inspectWithTestKeys } from '../support/inspector.js'
import { toCloudFrontBase64 } from '../../src/signing/policy.js'
import { MAX_PATTERN_LENGTH, MAX_PATTERN_WILDCARDS } from '../../src/signing/resource.js'

const NOW = TEST_NOW_MS / 1000
const DOMAIN = 'd111111abcdef8.cloudfront.net'
const ALIAS = 'media.example.com'
const SIGN = makeToken({ sub: 'player', scope: 'sign' })
const WILDCARD = makeToken({ sub: 'player', scope: 'sign sign:wildcard' })
const FREE_ONLY = makeToken({ sub: 'kid', scope: 'sign sign:wildcard', paths: ['/videos/free/*'] })
/** 16 wildcards, within the limits: as a backtracking regular expression it never finished on a long value. */
const HOSTILE = `${'*a'.repeat(15)}*b`
const app = sharedApp()

async function post(url: string, payload: unknown, token = WILDCARD): Promise<LightMyRequestResponse> {
  return (await app()).inject({ method: 'POST', url, headers: bearer(token), payload: payload as object })
}

async function expectCode(url: string, payload: unknown, statusCode: number, code: string, token = WILDCARD): Promise<void> {
  const res = await post(url, payload, token)
  assert.equal(res.statusCode, statusCode, `${JSON.stringify(payload).slice(0, 200)} → ${res.body}`)
  assert.equal(res.json().code, code, `${JSON.stringify(payload).slice(0, 200)} → ${res.body}`)
}

async function expectSigned(url: string, payload: unknown, token = WILDCARD): Promise<Record<string, any>> {
  const res = await post(url, payload, token)
  assert.equal(res.statusCode, 200, `${JSON.stringify(payload).slice(0, 200)} → ${res.body}`)
  return res.json()
}

describe('POST /v1/signed-urls: hostile resources', () => {
  const urls = (payload: unknown, statusCode: number, code: string, token?: string) => expectCode('/v1/signed-urls', payload, statusCode, code, token)
  const good = { distribution: 'demo', path: '/videos/intro.mp4' }

  it('checks the scope and the narrowing before matching the pattern', async () => {
    await urls({ ...good, resource: '/hls/*' }, 403, 'FORBIDDEN_SCOPE', SIGN)
    await urls({ distribution: 'demo', path: '/videos/free/a.mp4', resource: '/hls/*' }, 403, 'FORBIDDEN_PATH', FREE_ONLY)
    await urls({ distribution: 'demo', path: '/videos/free/a.mp4', resource: '/videos/*' }, 403, 'FORBIDDEN_PATH', FREE_ONLY)
  })

  it('answers a hostile pattern against a long path with a code (single and batch)', async () => {
    const long = { distribution: 'demo', path: `/videos/${'a'.repeat(4000)}` }
    await urls({ ...long, resource: `/videos/${HOSTILE}` }, 400, 'RESOURCE_NOT_COVERING')
    await urls({ ...long, resource: `/videos/${HOSTILE}` }, 403, 'FORBIDDEN_SCOPE', SIGN)
    await urls({ url: `https://${DOMAIN}/videos/${'a'.repeat(4000)}`, resource: `https://${DOMAIN}/videos/${HOSTILE}` }, 400, 'RESOURCE_NOT_COVERING')
    const batch = await expectSigned('/v1/signed-urls/batch', { items: [{ ...long, resource: `/videos/${HOSTILE}` }, { ...long, resource: `/videos/${'*a'.repeat(40)}` }, good] })
    assert.deepEqual(
      batch.items.map((item: { error?: { code: string } }) => item.error?.code ?? 'signed'),
      ['RESOURCE_NOT_COVERING', 'TOO_MANY_WILDCARDS', 'signed'],
    )
  })

  it('refuses a URL longer than CloudFront serves (8,192 bytes) before matching it: URL_TOO_LONG', async () => {
    const query = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`q${i}`, 'a'.repeat(2000)]))
    await urls({ ...good, query, resource: `/videos/${HOSTILE}` }, 400, 'URL_TOO_LONG')
    await urls({ ...good, query }, 400, 'URL_TOO_LONG')
    await expectSigned('/v1/signed-urls', { ...good, query: { q: 'a'.repeat(2000) } })
  })

  it('limits a wildcard resource, as signed, to MAX_PATTERN_LENGTH characters and MAX_PATTERN_WILDCARDS wildcards', async () => {
    // The `?` of the resource is a wildcard: it matches the `?` of the URL.
    const base = `https://${DOMAIN}/videos/intro.mp4?pad=`
    const fill = (n: number) => ({ ...good, query: { pad: 'a'.repeat(n) }, resource: `/videos/intro.mp4?pad=${'a'.repeat(n)}` })
    const atLimit = await expectSigned('/v1/signed-urls', fill(MAX_PATTERN_LENGTH - base.length))
    assert.equal(atLimit.resource.length, MAX_PATTERN_LENGTH)
    await urls(fill(MAX_PATTERN_LENGTH - base.length + 1), 400, 'RESOURCE_TOO_LONG')
    await urls({ ...good, resource: `/videos/${'a'.repeat(MAX_PATTERN_LENGTH)}*` }, 400, 'RESOURCE_TOO_LONG')

    await expectSigned('/v1/signed-urls', { ...good, resource: `/videos/${'*'.repeat(MAX_PATTERN_WILDCARDS)}` })
    await urls({ ...good, resource: `/videos/${'*'.repeat(MAX_PATTERN_WILDCARDS + 1)}` }, 400, 'TOO_MANY_WILDCARDS')
    await urls({ ...good, resource: `/videos/intro${'?'.repeat(MAX_PATTERN_WILDCARDS + 1)}` }, 400, 'TOO_MANY_WILDCARDS')
    await urls({ ...good, resource: `/videos/${'*'.repeat(MAX_PATTERN_WILDCARDS + 1)}` }, 403, 'FORBIDDEN_SCOPE', SIGN)
  })

  it('signs an http*:// resource (both schemes) on the URL\'s own host', async () => {
    const signed = await expectSigned('/v1/signed-urls', { url: `https://${DOMAIN}/videos/a.mp4`, resource: `http*://${DOMAIN}/videos/*` })
    assert.equal(signed.resource, `http*://${DOMAIN}/videos/*`)
    assertVerdict(inspectWithTestKeys(signed.url, { at: NOW }), 'allow')
    assertVerdict(inspectWithTestKeys(signed.url.replace('https://', 'http://'), { at: NOW }), 'allow', 'http')
    assertVerdict(inspectWithTestKeys(signed.url.replace(DOMAIN, 'd222222abcdef8.cloudfront.net'), { at: NOW }), 'RESOURCE_MISMATCH', 'another host')
    const byPath = await expectSigned('/v1/signed-urls', { ...good, resource: `HTTP*://${DOMAIN.toUpperCase()}/videos/*` })
    assert.equal(byPath.resource, `http*://${DOMAIN}/videos/*`)
    await urls({ ...good, resource: `http*://${ALIAS}/videos/*` }, 400, 'INVALID_RESOURCE')
    await urls({ ...good, resource: `http*://${DOMAIN}/videos/intro.mp4` }, 403, 'FORBIDDEN_SCOPE', SIGN)
    const exact = await expectSigned('/v1/signed-urls', { ...good, resource: `http*://${DOMAIN}/videos/intro.mp4` })
    assert.equal(exact.policy, 'custom')
  })

  it('refuses a wildcard in the host: WILDCARD_HOST', async () => {
    for (const resource of [`https://*.cloudfront.net/videos/*`, `https://${DOMAIN.slice(0, -1)}?/videos/*`, `https://${DOMAIN}*`, 'http*://*/videos/*', `https://*${DOMAIN}/videos/*`]) {
      await urls({ ...good, resource }, 400, 'WILDCARD_HOST')
    }
  })

  it('refuses dot segments hidden by percent-encoding or backslashes: INVALID_PATH; an encoded slash alone is fine', async () => {
    for (const path of ['..%2Fpremium%2Fsecret.mp4', '..%2fpremium/secret.mp4', '..%5Cpremium%5Csecret.mp4', '%2e%2e%2Fpremium%2Fsecret.mp4', '.%2E%5Cpremium']) {
      await urls({ url: `https://${DOMAIN}/videos/free/${path}` }, 400, 'INVALID_PATH', FREE_ONLY)
    }
    for (const path of ['..\\premium\\secret.mp4', '..%2Fpremium%2Fsecret.mp4', '.\\a.mp4']) {
      await urls({ distribution: 'demo', path: `/videos/free/${path}` }, 400, 'INVALID_PATH', FREE_ONLY)
    }
    const slash = await expectSigned('/v1/signed-urls', { url: `https://${DOMAIN}/videos/free/a%2Fb.mp4` }, FREE_ONLY)
    assert.equal(slash.resource, `https://${DOMAIN}/videos/free/a%2Fb.mp4`)
    await expectSigned('/v1/signed-urls', { distribution: 'demo', path: '/videos/free/a\\b.mp4' }, FREE_ONLY)
  })

  it('refuses dot segments in a resource pattern: INVALID_RESOURCE', async () => {
    const target = { distribution: 'demo', path: '/videos/free/a.mp4' }
    for (const resource of ['/videos/free/..%2F*', '/videos/free/*/..%5C*', '/videos/free/../*', `https://${DOMAIN}/videos/free/%2e%2e/*`]) {
      await urls({ ...target, resource }, 400, 'INVALID_RESOURCE', FREE_ONLY)
    }
  })
})

describe('POST /v1/signed-cookies: hostile resources', () => {
  const cookies = (payload: unknown, statusCode: number, code: string, token?: string) => expectCode('/v1/signed-cookies', payload, statusCode, code, token)

  it('signs an http*:// URL pattern on one of the distribution\'s hosts', async () => {
    const signed = await expectSigned('/v1/signed-cookies', { distribution: 'demo', resource: `http*://${ALIAS}/hls/movie-42/*` })
    assert.equal(signed.resource, `http*://${ALIAS}/hls/movie-42/*`)
    assertVerdict(inspectWithTestKeys(`https://${ALIAS}/hls/movie-42/seg-1.ts`, { at: NOW, cookies: signed.cookies }), 'allow')
    const oneFile = await expectSigned('/v1/signed-cookies', { distribution: 'demo', resource: `http*://${ALIAS}/hls/a.ts` })
    assert.equal(oneFile.policy, 'custom', 'http* is a wildcard: never a canned policy')
    await cookies({ distribution: 'demo', resource: `http*://${ALIAS}/hls/a.ts` }, 403, 'FORBIDDEN_SCOPE', SIGN)
    await cookies({ distribution: 'demo', resource: `http*://evil.example.com/hls/*` }, 403, 'FORBIDDEN_HOST')
    await cookies({ distribution: 'demo', resource: `https*://${ALIAS}/hls/*` }, 400, 'INVALID_RESOURCE')
  })

  it('refuses a wildcard in the host: WILDCARD_HOST', async () => {
    for (const resource of ['https://*.example.com/hls/*', `https://${ALIAS.slice(0, -1)}?/hls/*`, `https://${ALIAS}*`]) {
      await cookies({ distribution: 'demo', resource }, 400, 'WILDCARD_HOST')
    }
  })

  it('checks the scope before the limits, and limits the pattern: RESOURCE_TOO_LONG, TOO_MANY_WILDCARDS', async () => {
    await cookies({ distribution: 'demo', resource: `/hls/${'a'.repeat(MAX_PATTERN_LENGTH)}*` }, 403, 'FORBIDDEN_SCOPE', SIGN)
    await cookies({ distribution: 'demo', resource: `/hls/${'a'.repeat(MAX_PATTERN_LENGTH)}*` }, 400, 'RESOURCE_TOO_LONG')
    await cookies({ distribution: 'demo', resource: `/hls/${HOSTILE}${'*a'.repeat(10)}` }, 400, 'TOO_MANY_WILDCARDS')
    await expectSigned('/v1/signed-cookies', { distribution: 'demo', resource: `/hls/${HOSTILE}` })
  })

  it('refuses dot segments hidden by percent-encoding or backslashes: INVALID_RESOURCE', async () => {
    for (const resource of ['/hls/..%2Fprivate/*', '/hls/..%5Cprivate/*', '/hls/..\\private/*', '/hls/%2e%2e%2Fprivate/*', `https://${ALIAS}/hls/..%2F*`]) {
      await cookies({ distribution: 'demo', resource }, 400, 'INVALID_RESOURCE')
    }
    await expectSigned('/v1/signed-cookies', { distribution: 'demo', resource: '/hls/a%2Fb/*' })
  })
})

describe('POST /v1/signed-streams: hostile names and patterns', () => {
  const streams = (payload: unknown, statusCode: number, code: string, token?: string) => expectCode('/v1/signed-streams', payload, statusCode, code, token)

  it('refuses * in the stream name itself (it is signed as the resource): INVALID_STREAM, whatever the scope', async () => {
    for (const stream of ['videos/*', 'videos/clip*', 'mp4:videos/*', '*']) {
      await streams({ distribution: 'demo', stream }, 400, 'INVALID_STREAM', SIGN)
      await streams({ distribution: 'demo', stream }, 400, 'INVALID_STREAM')
    }
  })

  it('checks the scope and the narrowing of a pattern before matching it', async () => {
    await streams({ distribution: 'demo', stream: 'videos/clip', resource: 'hls/*' }, 403, 'FORBIDDEN_SCOPE', SIGN)
    await streams({ distribution: 'demo', stream: 'videos/free/clip', resource: 'hls/*' }, 403, 'FORBIDDEN_PATH', FREE_ONLY)
    await streams({ distribution: 'demo', stream: 'videos/free/clip', resource: 'videos/*' }, 403, 'FORBIDDEN_PATH', FREE_ONLY)
    const signed = await expectSigned('/v1/signed-streams', { distribution: 'demo', stream: 'videos/free/clip', resource: 'videos/free/*' }, FREE_ONLY)
    assert.equal(signed.resource, 'videos/free/*')
  })

  it('answers a hostile pattern against a long name with a code, and limits patterns', async () => {
    const stream = `videos/${'a'.repeat(2000)}`
    await streams({ distribution: 'demo', stream, resource: `videos/${HOSTILE}` }, 400, 'RESOURCE_NOT_COVERING')
    await streams({ distribution: 'demo', stream: 'videos/clip', resource: `videos/${'*a'.repeat(MAX_PATTERN_WILDCARDS + 1)}` }, 400, 'TOO_MANY_WILDCARDS')
    await streams({ distribution: 'demo', stream: 'videos/clip', resource: `videos/${'a'.repeat(MAX_PATTERN_LENGTH)}*` }, 400, 'RESOURCE_TOO_LONG')
  })

  it('refuses dot segments hidden by percent-encoding or backslashes: INVALID_STREAM', async () => {
    for (const stream of ['videos/free/..%2Fpremium%2Fclip', 'videos/free/..\\premium\\clip', 'videos/free/..%5Cpremium']) {
      await streams({ distribution: 'demo', stream }, 400, 'INVALID_STREAM', FREE_ONLY)
    }
    await streams({ distribution: 'demo', stream: 'videos/free/clip', resource: 'videos/free/..%2F*' }, 400, 'INVALID_STREAM', FREE_ONLY)
  })
})

describe('POST /v1/inspect: hostile policies', () => {
  /** A URL carrying an unsigned custom policy for `resource`: the caller wrote it. */
  function withPolicy(url: string, resource: string): string {
    const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 60 } } }] })
    return `${url}?Policy=${toCloudFrontBase64(policy)}&Signature=AAAA&Key-Pair-Id=${RSA_KEY_ID}`
  }
  const inspect = (url: string) => post('/v1/inspect', { url })

  it('judges a hostile wildcard policy within the limits against a long URL', async () => {
    const res = await inspect(withPolicy(`https://${DOMAIN}/videos/${'a'.repeat(8000)}`, `https://${DOMAIN}/videos/${HOSTILE}`))
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().reason, 'BAD_SIGNATURE')
    assert.equal(res.json().checks.find((c: { name: string }) => c.name === 'resource').reason, 'RESOURCE_MISMATCH')
  })

  it('refuses to judge a wildcard policy resource beyond the limits: TOO_MANY_WILDCARDS, RESOURCE_TOO_LONG', async () => {
    const tooMany = await inspect(withPolicy(`https://${DOMAIN}/videos/a`, `https://${DOMAIN}/videos/${'*a'.repeat(40)}`))
    assert.equal(tooMany.statusCode, 400, tooMany.body)
    assert.equal(tooMany.json().code, 'TOO_MANY_WILDCARDS')
    const tooLong = await inspect(withPolicy(`https://${DOMAIN}/videos/a`, `https://${DOMAIN}/videos/${'a'.repeat(MAX_PATTERN_LENGTH)}*`))
    assert.equal(tooLong.statusCode, 400, tooLong.body)
    assert.equal(tooLong.json().code, 'RESOURCE_TOO_LONG')
    const exact = await inspect(withPolicy(`https://${DOMAIN}/videos/a`, `https://${DOMAIN}/videos/${'a'.repeat(2000)}`))
    assert.equal(exact.statusCode, 200, 'a resource without wildcards is compared, whatever its length')
    assert.equal(exact.json().checks.find((c: { name: string }) => c.name === 'resource').reason, 'RESOURCE_MISMATCH')
  })

  it('judges what the service signs at the limits', async () => {
    const signed = await expectSigned('/v1/signed-urls', { distribution: 'demo', path: '/videos/intro.mp4', resource: `/videos/${'*'.repeat(MAX_PATTERN_WILDCARDS)}` })
    const res = await inspect(signed.url)
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().verdict, 'allow')
  })
})
