import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { sharedApp } from '../support/shared-app.js'
import { TEST_DISTRIBUTIONS, TEST_NOW_MS } from '../support/build.js'
import { makeEdgeKeyDir } from '../support/edge-keys.js'
import { bearer, makeToken } from '../support/tokens.js'
import { inspectWithTestKeys } from '../support/inspector.js'
import { fromCloudFrontBase64 } from '../../src/signing/policy.js'
import { ERROR_STATUS } from '../../src/http/errors.js'

// Every public request body, generated half well-formed and half hostile, through app.inject: the
// answer is never a 5xx, an error always carries a known code with its status, and whatever is
// signed verifies with the published test keys as CloudFront would judge it.

const NOW = TEST_NOW_MS / 1000
const RUNS = Number(process.env.FUZZ_RUNS ?? 150)
// The test distributions, and one with the edge layer on: viewer rules and edge tokens are fuzzed too.
const edgeKeys = makeEdgeKeyDir({ after })
const app = sharedApp({
  configInput: {
    aws: { accounts: { local: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' } } },
    edge: { keysDir: edgeKeys.dir, activeKeyId: edgeKeys.keys[0]!.id },
    distributions: { ...TEST_DISTRIBUTIONS, edged: { domain: 'd333333abcdef8.cloudfront.net', aliases: ['edge.example.net'], allowedPaths: ['/videos/*', '/hls/*'], distributionId: 'EFUZZEDGE', edge: true, cookies: { domain: 'edge.example.net', sameSite: 'None' } } },
  },
})
const token = makeToken({ sub: 'fuzzer', scope: 'sign sign:wildcard', paths: ['/videos/*', '/hls/*', '/files/*'] })
const headers = bearer(token)

// Pieces a path, resource or URL is made of: wildcards, dot segments, encodings and separators.
const PIECES = ['a', 'b', '/', '*', '?', '.', '..', '%2F', '%2f', '%2e', '%5C', '\\', '%', '%E2%82%AC', '€', ' ', '+', '&', '=', '#', ';', '~']
const piecewise = fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((parts) => parts.join(''))
const cleanName = fc.constantFrom('movie-42/index.m3u8', 'clip.mp4', 'seg-7.ts', 'my file+1.txt', 'a/b/c', '*', 'movie-*/*.ts', 'seg-?.ts', '')
const prefix = fc.constantFrom('/', '/videos/', '/hls/', '/files/', '/images/', '/videos/free/', '/private/')
const pathLike = fc.tuple(prefix, fc.oneof({ weight: 3, arbitrary: cleanName }, { weight: 2, arbitrary: piecewise })).map(([p, rest]) => p + rest)
const host = fc.constantFrom('d111111abcdef8.cloudfront.net', 'media.example.com', 'd222222abcdef8.cloudfront.net', 'd333333abcdef8.cloudfront.net', '*.example.com', 'evil.example', 'MEDIA.example.com')
const scheme = fc.oneof({ weight: 4, arbitrary: fc.constant('https://') }, { weight: 1, arbitrary: fc.constantFrom('http://', 'http*://', 'rtmp://', 'ftp://', '') })
const urlLike = fc.tuple(scheme, host, pathLike).map(([s, h, p]) => s + h + p)
const text = fc.oneof(pathLike, urlLike, fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }))
const anyJson = fc.jsonValue({ maxDepth: 2 })
// A field gets a sensible value most of the time and anything at all otherwise.
const field = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: anyJson })
const time = fc.oneof(fc.integer({ min: NOW - 100, max: NOW + 200_000 }), fc.constantFrom('2027-01-15T09:00:00Z', '2027-13-01T00:00:00Z', '0x12C', '1e3', ''))

/** An object with the required fields and, each now and then, some of the optional ones. */
function body(required: Record<string, fc.Arbitrary<unknown>>, optional: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const sometimes = Object.entries(optional).map(([key, arbitrary]) =>
    fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arbitrary.map((value) => [key, value] as const) }),
  )
  return fc.tuple(fc.record(required), ...sometimes).map(([base, ...extra]) => ({
    ...base,
    ...Object.fromEntries(extra.filter((entry) => entry !== undefined)),
  }))
}

const conditions = {
  expiresIn: field(fc.integer({ min: -5, max: 200_000 })),
  expiresAt: field(time),
  notBefore: field(time),
  ipAddress: field(fc.constantFrom('client', '192.0.2.1', '10.0.0.0/8', '::1', '2001:db8::/32', '300.1.1.1', '1.2.3.4/33')),
  hashAlgorithm: field(fc.constantFrom('SHA1', 'SHA256', 'MD5')),
  keyId: field(fc.constantFrom('K2JCJMDEHXQW5F', 'K3ECDSATEST0001', 'KNOPE00000', 'lower')),
  referrers: field(fc.array(fc.constantFrom('example.com', '*.example.com', 'EXAMPLE.com', '*.*.com', 'a..b', '', 'x'.repeat(300)), { maxLength: 12 })),
  allowEmptyReferrer: field(fc.boolean()),
  countries: field(fc.record({ allow: fc.array(fc.constantFrom('FR', 'de', 'XX1', ''), { maxLength: 3 }), deny: fc.array(fc.constantFrom('KP', 'US', '12'), { maxLength: 3 }) }, { requiredKeys: [] })),
}
const distribution = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('demo', 'private', 'edged') }, { weight: 1, arbitrary: field(fc.constantFrom('nope', '__proto__', 'constructor')) })
const resource = field(fc.oneof(pathLike, urlLike))

const urlBody = fc.oneof(
  { weight: 4, arbitrary: body({ distribution, path: field(pathLike) }, { resource, query: field(fc.dictionary(text, text, { maxKeys: 3 })), ...conditions }) },
  { weight: 4, arbitrary: body({ url: field(urlLike) }, { resource, query: field(fc.dictionary(text, text, { maxKeys: 3 })), ...conditions }) },
  { weight: 1, arbitrary: body({ url: field(urlLike), distribution, path: field(pathLike) }, {}) },
)
const cookieBody = body({ distribution, resource }, { setCookies: field(fc.boolean()), ...conditions })
const streamName = fc.tuple(fc.constantFrom('', 'mp4:', 'videos/', 'mp4:videos/', 'cfx/st/', 'rtmp://x/'), fc.oneof(cleanName, piecewise)).map(([p, rest]) => p + rest)
// Only `demo` serves RTMP, and most names are plain ones: enough streams sign to check them.
const plainStreamName = fc.tuple(fc.constantFrom('videos/', 'mp4:videos/', 'hls/'), fc.constantFrom('clip.mp4', 'a/b.flv', 'intro', 'my clip.mp3')).map(([p, rest]) => p + rest)
const streamBody = body(
  { distribution: fc.oneof({ weight: 6, arbitrary: fc.constant('demo') }, { weight: 1, arbitrary: distribution }), stream: field(fc.oneof(plainStreamName, streamName)) },
  { resource: field(streamName), stripExtension: field(fc.boolean()), prefix: field(fc.constantFrom('mp4', 'flv', 'wav')), ...conditions },
)
const inspectBody = body(
  { url: field(fc.oneof(urlLike, fc.tuple(urlLike, fc.string({ maxLength: 80 })).map(([u, q]) => `${u}?${q}`), signedLooking())) },
  {
    cookies: field(fc.dictionary(fc.constantFrom('CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id', 'CloudFront-Expires', 'x'), text, { maxKeys: 4 })),
    at: field(time),
    ip: field(fc.constantFrom('192.0.2.1', '::1', 'nope')),
  },
)

/** URLs with signing parameters whose policy is a hostile (wildcard-laden) resource. */
function signedLooking(): fc.Arbitrary<string> {
  return fc.tuple(urlLike, fc.oneof(pathLike, urlLike)).map(([url, resource]) => {
    const policy = Buffer.from(JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 60 } } }] }))
    const encoded = policy.toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~')
    return `${url}?Policy=${encoded}&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F`
  })
}

/** The time a grant can be used at: its not-before, if any, else now. */
function usableAt(answer: { policy: string; expires: number }, policyText?: string): number {
  if (policyText === undefined) return NOW
  const policy = JSON.parse(fromCloudFrontBase64(policyText).toString('utf8')) as { Statement: Array<{ Condition: { DateGreaterThan?: { 'AWS:EpochTime': number } } }> }
  return Math.max(NOW, policy.Statement[0].Condition.DateGreaterThan?.['AWS:EpochTime'] ?? NOW)
}

/** A concrete request URL that a (possibly wildcard) resource covers. */
function concreteUrl(resource: string): string {
  return resource.replaceAll('*', '').replaceAll('?', 'x')
}

function assertCodedError(res: LightMyRequestResponse, label: string): void {
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${label}: ${res.statusCode} ${res.body}`)
  const body = res.json() as { statusCode: number; code: string; error: string; message: string }
  assert.equal(body.statusCode, res.statusCode, label)
  assert.equal((ERROR_STATUS as Record<string, number>)[body.code], res.statusCode, `${label}: ${body.code} is a known code with its status`)
  assert.equal(typeof body.message, 'string', label)
}

function assertAllowed(signed: string, at: number, label: string, cookies?: Record<string, string>): void {
  const inspection = inspectWithTestKeys(signed, { at, cookies })
  const failures = inspection.checks.filter((c) => c.outcome === 'fail').map((c) => `${c.name}: ${c.detail}`)
  assert.equal(inspection.verdict, 'allow', `${label}: ${signed} ${failures.join('; ')}`)
}

// Answers by route and status: a fuzz run that only ever meets refusals tests nothing.
const seen = new Map<string, number>()
const count = (route: string, status: number) => seen.set(`${route} ${status}`, (seen.get(`${route} ${status}`) ?? 0) + 1)

async function post(url: string, payload: unknown): Promise<LightMyRequestResponse> {
  const res = await (await app()).inject({ method: 'POST', url, headers, payload: payload as object })
  count(url, res.statusCode)
  return res
}

const property = <T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>) =>
  fc.assert(fc.asyncProperty(arbitrary, check), { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined })

describe('fuzzing every public request body', () => {
  it('POST /v1/signed-urls: a coded error or a URL CloudFront would allow', async () => {
    await property(fc.oneof({ weight: 9, arbitrary: urlBody }, { weight: 1, arbitrary: anyJson }), async (body) => {
      const res = await post('/v1/signed-urls', body)
      if (res.statusCode !== 200) return assertCodedError(res, JSON.stringify(body))
      const answer = res.json() as { url: string; policy: string; expires: number }
      assertAllowed(answer.url, usableAt(answer, new URL(answer.url).searchParams.get('Policy') ?? undefined), JSON.stringify(body))
    })
  })

  it('POST /v1/signed-urls/batch: every item a coded error or an allowed URL', async () => {
    const batch = fc.array(fc.oneof({ weight: 9, arbitrary: urlBody }, { weight: 1, arbitrary: anyJson }), { minLength: 1, maxLength: 8 }).map((items) => ({ items }))
    await property(fc.oneof({ weight: 9, arbitrary: batch }, { weight: 1, arbitrary: anyJson }), async (payload) => {
      const res = await post('/v1/signed-urls/batch', payload)
      const items = JSON.stringify(payload)
      if (res.statusCode !== 200) return assertCodedError(res, items)
      for (const item of (res.json() as { items: Array<{ url?: string; policy: string; expires: number; error?: { statusCode: number; code: string } }> }).items) {
        if (item.error !== undefined) {
          assert.equal((ERROR_STATUS as Record<string, number>)[item.error.code], item.error.statusCode, JSON.stringify(item))
          assert.ok(item.error.statusCode < 500, JSON.stringify(item))
        } else {
          assertAllowed(item.url!, usableAt(item, new URL(item.url!).searchParams.get('Policy') ?? undefined), items)
        }
      }
    })
  })

  it('POST /v1/signed-cookies: a coded error or cookies CloudFront would allow for a covered URL', async () => {
    await property(fc.oneof({ weight: 9, arbitrary: cookieBody }, { weight: 1, arbitrary: anyJson }), async (body) => {
      const res = await post('/v1/signed-cookies', body)
      if (res.statusCode !== 200) return assertCodedError(res, JSON.stringify(body))
      const answer = res.json() as { cookies: Record<string, string>; resource: string; policy: string; expires: number }
      assertAllowed(concreteUrl(answer.resource), usableAt(answer, answer.cookies['CloudFront-Policy']), JSON.stringify(body), answer.cookies)
    })
  })

  it('POST /v1/signed-streams: a coded error or a stream name CloudFront would allow', async () => {
    await property(fc.oneof({ weight: 9, arbitrary: streamBody }, { weight: 1, arbitrary: anyJson }), async (body) => {
      const res = await post('/v1/signed-streams', body)
      if (res.statusCode !== 200) return assertCodedError(res, JSON.stringify(body))
      const answer = res.json() as { stream: string; policy: string; expires: number }
      const policy = /[?&]Policy=([^&]+)/.exec(answer.stream)?.[1]
      assertAllowed(answer.stream, usableAt(answer, policy), JSON.stringify(body))
    })
  })

  it('POST /v1/inspect: a coded error or a verdict, never a failure', async () => {
    await property(fc.oneof({ weight: 9, arbitrary: inspectBody }, { weight: 1, arbitrary: anyJson }), async (body) => {
      const res = await post('/v1/inspect', body)
      if (res.statusCode !== 200) return assertCodedError(res, JSON.stringify(body))
      const answer = res.json() as { verdict: string }
      assert.ok(answer.verdict === 'allow' || answer.verdict === 'deny', res.body)
    })
  })

  it('GET /v1/playback: a coded error or a redirect CloudFront would allow', async () => {
    const query = body({ distribution, path: field(pathLike) }, { expiresIn: field(fc.integer({ min: -5, max: 200_000 })) })
    await property(query, async (params) => {
      const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]))
      const res = await (await app()).inject({ method: 'GET', url: `/v1/playback?${search}`, headers })
      count('/v1/playback', res.statusCode)
      if (res.statusCode !== 302) return assertCodedError(res, search.toString())
      assertAllowed(res.headers.location as string, NOW, search.toString())
    })
  })

  it('met both refusals and signed answers on every route (a run of refusals alone tests nothing)', () => {
    const routes = ['/v1/signed-urls', '/v1/signed-urls/batch', '/v1/signed-cookies', '/v1/signed-streams', '/v1/inspect', '/v1/playback']
    const share = (route: string, ok: (status: number) => boolean) =>
      [...seen].filter(([key]) => key.startsWith(`${route} `) && ok(Number(key.slice(route.length + 1)))).reduce((sum, [, n]) => sum + n, 0)
    for (const route of routes) {
      assert.ok(share(route, (status) => status < 400) > 0, `${route}: no signed answer in ${JSON.stringify(Object.fromEntries(seen))}`)
      assert.ok(share(route, (status) => status >= 400) > 0, `${route}: no refusal in ${JSON.stringify(Object.fromEntries(seen))}`)
    }
  })
})
