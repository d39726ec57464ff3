// Grants and the edge layer: every answer names its grant (grantId), and a distribution with the edge
// layer on (distributions.<name>.edge) carries an edge token with each grant, inside the signed URL or
// bound to the grant's signature, with the request's viewer rules narrowed by the caller's claims.
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { bindingHash, hashSubject, verifyEdgeToken, type EdgeTokenPayload, type EdgeViewer } from '../../src/edge/token.js'
import { fromCloudFrontBase64 } from '../../src/signing/policy.js'
import { build, captureLogs, TEST_DISTRIBUTIONS, TEST_NOW_MS } from '../support/build.js'
import { makeEdgeKeyDir } from '../support/edge-keys.js'
import { assertVerdict, getParam, inspectWithTestKeys, replaceParam } from '../support/inspector.js'
import { sharedApp } from '../support/shared-app.js'
import { bearer, makeToken, type TokenClaims } from '../support/tokens.js'

const NOW = TEST_NOW_MS / 1000
const GRANT_ID = /^[A-Za-z0-9_-]{16}$/
const SIGNER = makeToken({ sub: 'alice', scope: 'sign sign:wildcard' })
const defaultApp = sharedApp()

const EDGE_HOST = 'd333333abcdef8.cloudfront.net'
const EDGE_ALIAS = 'edge.example.com'
const edgeKeys = makeEdgeKeyDir({ after })
const EDGE_SECRETS = new Map(edgeKeys.keys.map((key) => [key.id, key.secret]))
const ACTIVE_EDGE_KEY = edgeKeys.keys[1]!.id
// The demo distributions, and one with the edge layer on; the AWS account is never called by signing.
const EDGE_CONFIG = {
  aws: { accounts: { local: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' } } },
  edge: { keysDir: edgeKeys.dir, activeKeyId: ACTIVE_EDGE_KEY },
  distributions: {
    ...TEST_DISTRIBUTIONS,
    edged: {
      domain: EDGE_HOST,
      aliases: [EDGE_ALIAS],
      allowedPaths: ['/videos/*', '/hls/*'],
      defaultTtlSeconds: 300,
      maxTtlSeconds: 3600,
      rtmpDomain: 's7edgetest.cloudfront.net',
      cookies: { domain: 'example.com', sameSite: 'None' },
      distributionId: 'E2EDGETEST',
      edge: true,
    },
  },
}
const edgeApp = sharedApp({ configInput: EDGE_CONFIG })
const VIEWER: EdgeViewer = { ip: '192.0.2.10' }

function token(claims: TokenClaims = {}): string {
  return makeToken({ sub: 'alice', scope: 'sign sign:wildcard', ...claims })
}

function payloadOf(edgeToken: string): EdgeTokenPayload {
  return JSON.parse(Buffer.from(edgeToken.split('.')[1]!, 'base64url').toString('utf8'))
}

/** The edge function's verdict on a token, with the test keys, at NOW. */
function edgeVerdict(edgeToken: string | undefined, viewer: Partial<EdgeViewer> = {}) {
  const verdict = verifyEdgeToken(edgeToken, EDGE_SECRETS, { ...VIEWER, ...viewer }, NOW)
  return verdict.allowed ? 'allow' : verdict.reason
}

async function expectError(res: Awaited<ReturnType<FastifyInstance['inject']>>, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body)
  assert.equal(res.json().code, code, res.body)
}

function post(app: FastifyInstance, url: string, payload: object, token = SIGNER) {
  return app.inject({ method: 'POST', url, headers: bearer(token), payload })
}

describe('grant IDs', () => {
  it('every answer carries its own grantId: URLs, batch items, cookies, queries, streams, and the playback redirect\'s Grant-Id', async () => {
    const app = await defaultApp()
    const answers = [
      await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }),
      await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }),
      await post(app, '/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' }),
      await post(app, '/v1/signed-queries', { distribution: 'demo', resource: '/hls/*' }),
      await post(app, '/v1/signed-streams', { distribution: 'demo', stream: 'videos/clip.mp4' }),
    ]
    const batch = await post(app, '/v1/signed-urls/batch', { items: [{ distribution: 'demo', path: '/videos/a.mp4' }, { distribution: 'demo', path: '/videos/a.mp4' }] })
    const playback = await app.inject({ method: 'GET', url: '/v1/playback?distribution=demo&path=/videos/a.mp4', headers: bearer(SIGNER) })
    for (const res of [...answers, batch]) assert.equal(res.statusCode, 200, res.body)
    assert.equal(playback.statusCode, 302)
    const ids = [...answers.map((res) => res.json().grantId), ...batch.json().items.map((item: { grantId: string }) => item.grantId), playback.headers['grant-id']]
    assert.equal(ids.length, 8)
    for (const id of ids) assert.match(String(id), GRANT_ID)
    assert.equal(new Set(ids).size, ids.length, 'no two answers share a grant ID, the same request twice included')
  })

  it('leaves a non-edge grant\'s policy as it was: the same request at the same time signs the same signature, without the grant ID', async () => {
    const app = await defaultApp()
    for (const [url, body, credential] of [
      ['/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }, (a: any) => a.url],
      ['/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4', resource: '/videos/*' }, (a: any) => a.url],
      ['/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' }, (a: any) => JSON.stringify(a.cookies)],
      ['/v1/signed-queries', { distribution: 'demo', resource: '/hls/*' }, (a: any) => a.query],
    ] as const) {
      const [first, second] = [(await post(app, url, body)).json(), (await post(app, url, body)).json()]
      assert.notEqual(first.grantId, second.grantId)
      assert.equal(credential(first), credential(second), `${url} ${JSON.stringify(body)}: one signature for both grants`)
      assert.ok(!credential(first).includes('cf-edge') && !credential(first).includes('CloudFront-Edge'), 'no edge token without the edge layer')
      assert.ok(!credential(first).includes(first.grantId), `${url}: the grant ID stays out of a non-edge credential`)
    }
  })

  it('logs each grant\'s ID beside the facts it already logged', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { logLevel: 'info', logStream: logs.stream })
    const url = (await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' })).json()
    const cookies = (await post(app, '/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' })).json()
    const lines = logs.text().trim().split('\n').map((line) => JSON.parse(line))
    assert.equal(lines.find((line) => line.msg === 'signed url').grantId, url.grantId)
    assert.equal(lines.find((line) => line.msg === 'signed cookies').grantId, cookies.grantId)
  })

  it('lets a browser frontend read Grant-Id (CORS exposes it)', async (t) => {
    const origin = 'https://app.example.com'
    const app = await build(t, { configInput: { cors: { origins: [origin] } } })
    const res = await app.inject({ method: 'GET', url: '/v1/playback?distribution=demo&path=/videos/a.mp4', headers: { ...bearer(SIGNER), origin } })
    assert.equal(res.statusCode, 302)
    assert.match(String(res.headers['access-control-expose-headers']), /\bgrant-id\b/)
  })
})

describe('edge grants: signed URLs with an exact resource', () => {
  it('share one CloudFront signature per URL and expiry (resource: the URL and cf-edge=*); each grant\'s token is bound to it and counts the query values', async () => {
    const app = await edgeApp()
    const res = await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a b.mp4' })
    assert.equal(res.statusCode, 200, res.body)
    const answer = res.json()
    const edgeToken = getParam(answer.url, 'cf-edge')!
    const signature = getParam(answer.url, 'Signature')!
    assert.ok(answer.url.startsWith(`https://${EDGE_HOST}/videos/a%20b.mp4?cf-edge=${edgeToken}&Policy=`), answer.url)
    assert.equal(answer.policy, 'custom')
    assert.equal(answer.resource, `https://${EDGE_HOST}/videos/a%20b.mp4?cf-edge=*`)
    assert.deepEqual(payloadOf(edgeToken), { k: ACTIVE_EDGE_KEY, g: answer.grantId, s: hashSubject('alice'), i: NOW, e: answer.expires, b: bindingHash(signature), n: 1 })
    assert.equal(edgeVerdict(edgeToken, { signature, queryValueCount: 1 }), 'allow')
    assertVerdict(inspectWithTestKeys(answer.url, { at: NOW }), 'allow')

    // A second grant of the same URL: the same signature (one signing), its own grant and token.
    const other = (await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a b.mp4' })).json()
    assert.equal(getParam(other.url, 'Signature'), signature)
    assert.notEqual(other.grantId, answer.grantId)
    assert.notEqual(getParam(other.url, 'cf-edge'), edgeToken)
    // CloudFront's `*` would take a parameter appended after the token: the edge counts the values and refuses it.
    const appended = answer.url.replace('&Policy=', '&response-content-type=text%2Fhtml&Policy=')
    assertVerdict(inspectWithTestKeys(appended, { at: NOW }), 'allow')
    assert.equal(edgeVerdict(edgeToken, { signature, queryValueCount: 2 }), 'query')
    // A token moved to another URL's signature is refused: it names the signature it was issued with.
    const elsewhere = (await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/b.mp4' })).json()
    assert.equal(edgeVerdict(edgeToken, { signature: getParam(elsewhere.url, 'Signature')!, queryValueCount: 1 }), 'binding')
  })

  it('refuses a path holding "cf-edge=" on an edge distribution: CloudFront\'s ? wildcard could stand for the / before it', async () => {
    const app = await edgeApp()
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/cf-edge=x.mp4' }), 400, 'INVALID_PATH')
    await expectError(await post(app, '/v1/signed-urls', { url: `https://${EDGE_HOST}/videos/CF-EDGE=x.mp4` }), 400, 'INVALID_PATH')
    assert.equal((await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/cf-edge=x.mp4' })).statusCode, 200)
  })

  it('sign a custom exact resource with an IPv4 condition, and download overrides, with the token last before the signing parameters', async () => {
    const app = await edgeApp()
    // A resource with a query is a wildcard one (`?`): an exact resource has none.
    const url = `https://${EDGE_ALIAS}/videos/a.mp4`
    const res = await post(app, '/v1/signed-urls', { url, resource: url, ipAddress: '192.0.2.0/24' })
    assert.equal(res.statusCode, 200, res.body)
    const answer = res.json()
    const edgeToken = getParam(answer.url, 'cf-edge')!
    assert.equal(answer.policy, 'custom')
    assert.ok(answer.url.startsWith(`${url}?cf-edge=${edgeToken}&Policy=`), answer.url)
    assert.equal(answer.resource, `${url}?cf-edge=*`)
    assert.equal(payloadOf(edgeToken).n, 1)
    const policy = JSON.parse(fromCloudFrontBase64(getParam(answer.url, 'Policy')!).toString())
    assert.deepEqual(policy.Statement[0].Condition.IpAddress, { 'AWS:SourceIp': '192.0.2.0/24' }, 'IPv4 stays in the CloudFront policy')
    assert.equal(payloadOf(edgeToken).ip, undefined)
    assertVerdict(inspectWithTestKeys(answer.url, { at: NOW, ip: '192.0.2.7' }), 'allow')

    const download = (await post(app, '/v1/signed-urls', { url: `${url}?lang=en`, download: { filename: 'a.mp4', disposition: 'attachment' } })).json()
    assert.match(download.url, /^https:\/\/edge\.example\.com\/videos\/a\.mp4\?lang=en&response-content-disposition=[^&]+&cf-edge=[^&]+&Policy=/)
    assert.equal(payloadOf(getParam(download.url, 'cf-edge')!).n, 3, 'lang, the disposition and the token')
    assertVerdict(inspectWithTestKeys(download.url, { at: NOW }), 'allow')
  })

  it('refuses a caller\'s own cf-edge query parameter on every distribution: RESERVED_QUERY_PARAMETER', async () => {
    const app = await edgeApp()
    for (const body of [
      { distribution: 'edged', path: '/videos/a.mp4', query: { 'cf-edge': 'v1.x.y' } },
      { url: `https://${EDGE_HOST}/videos/a.mp4?cf-edge=v1.x.y` },
      { url: `https://${EDGE_HOST}/videos/a.mp4?a=1&cf%2Dedge=v1` },
      { distribution: 'demo', path: '/videos/a.mp4', query: { 'cf-edge': 'v1.x.y' } },
    ]) {
      await expectError(await post(app, '/v1/signed-urls', body), 400, 'RESERVED_QUERY_PARAMETER')
    }
  })

  it('playback redirects to a URL with the grant\'s token, its ID in Grant-Id', async () => {
    const app = await edgeApp()
    const res = await app.inject({ method: 'GET', url: '/v1/playback?distribution=edged&path=/hls/index.m3u8', headers: bearer(token()) })
    assert.equal(res.statusCode, 302, res.body)
    const location = res.headers.location as string
    const edgeToken = getParam(location, 'cf-edge')!
    assert.equal(payloadOf(edgeToken).g, res.headers['grant-id'])
    assert.equal(payloadOf(edgeToken).b, bindingHash(getParam(location, 'Signature')!))
    assert.equal(edgeVerdict(edgeToken, { signature: getParam(location, 'Signature')!, queryValueCount: 1 }), 'allow')
    assertVerdict(inspectWithTestKeys(location, { at: NOW }), 'allow')
  })

  it('gives every batch item its own grant and token; an item that asks for rules a distribution cannot enforce fails alone', async () => {
    const app = await edgeApp()
    const res = await post(app, '/v1/signed-urls/batch', {
      items: [
        { distribution: 'edged', path: '/videos/a.mp4', referrers: ['app.example.com'] },
        { distribution: 'edged', path: '/videos/a.mp4' },
        { distribution: 'demo', path: '/videos/a.mp4', referrers: ['app.example.com'] },
        { distribution: 'demo', path: '/videos/a.mp4' },
      ],
    })
    assert.equal(res.statusCode, 200, res.body)
    const [first, second, refused, plain] = res.json().items
    for (const item of [first, second]) {
      assert.equal(payloadOf(getParam(item.url, 'cf-edge')!).g, item.grantId)
      assertVerdict(inspectWithTestKeys(item.url, { at: NOW }), 'allow')
    }
    assert.deepEqual(payloadOf(getParam(first.url, 'cf-edge')!).r, ['app.example.com'])
    assert.equal(payloadOf(getParam(second.url, 'cf-edge')!).r, undefined)
    assert.equal(refused.error.code, 'EDGE_NOT_ENABLED')
    assert.equal(getParam(plain.url, 'cf-edge'), undefined)
  })

  it('refuses a token the edge function could not carry: EDGE_TOKEN_TOO_LONG', async () => {
    const app = await edgeApp()
    const long = (i: number) => `${'a'.repeat(58)}${i}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com`
    const res = await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', referrers: Array.from({ length: 10 }, (_, i) => long(i)) })
    await expectError(res, 400, 'EDGE_TOKEN_TOO_LONG')
  })
})

describe('edge grants: wildcard resources, cookies and signed queries bind the token to the signature', () => {
  it('a wildcard URL carries the token before the signing parameters, bound to its Signature', async () => {
    const app = await edgeApp()
    const res = await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', resource: '/videos/*' })
    assert.equal(res.statusCode, 200, res.body)
    const answer = res.json()
    const edgeToken = getParam(answer.url, 'cf-edge')!
    const signature = getParam(answer.url, 'Signature')!
    assert.ok(answer.url.startsWith(`https://${EDGE_HOST}/videos/a.mp4?cf-edge=${edgeToken}&Policy=`), answer.url)
    assert.equal(answer.resource, `https://${EDGE_HOST}/videos/*`)
    assert.equal(payloadOf(edgeToken).b, bindingHash(signature))
    assert.equal(edgeVerdict(edgeToken, { signature }), 'allow')
    assert.equal(edgeVerdict(edgeToken, { signature: `${signature.slice(0, -4)}AAAA` }), 'binding', 'moved to another signature')
    assertVerdict(inspectWithTestKeys(answer.url, { at: NOW }), 'allow')
  })

  it('refuses a wildcard resource that covers the URL but not with its token: EDGE_RESOURCE_NOT_COVERING (without the edge layer it signs)', async () => {
    const app = await edgeApp()
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', resource: '/videos/*.mp4' }), 400, 'EDGE_RESOURCE_NOT_COVERING')
    // `*x` covers the URL and the URL with the placeholder token `x` checked before signing, never a real token:
    // its last character holds 4 bits of HMAC and 2 zero bits, so it is never `x`.
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.x', resource: '/videos/*x' }), 400, 'EDGE_RESOURCE_NOT_COVERING')
    assert.equal((await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4', resource: '/videos/*.mp4' })).statusCode, 200)
  })

  it('cookies: CloudFront-Edge bound to CloudFront-Signature, in the answer and in Set-Cookie with the same attributes', async () => {
    const app = await edgeApp()
    const res = await post(app, '/v1/signed-cookies', { distribution: 'edged', resource: '/hls/movie-42/*', setCookies: true, countries: { deny: ['kp'] } })
    assert.equal(res.statusCode, 200, res.body)
    const { cookies, grantId, expires } = res.json()
    const edgeToken = cookies['CloudFront-Edge']
    const signature = cookies['CloudFront-Signature']
    assert.deepEqual(payloadOf(edgeToken), { k: ACTIVE_EDGE_KEY, g: grantId, s: hashSubject('alice'), i: NOW, e: expires, b: bindingHash(signature), cd: ['KP'] })
    assert.equal(edgeVerdict(edgeToken, { signature, country: 'DE' }), 'allow')
    assert.equal(edgeVerdict(edgeToken, { signature, country: 'KP' }), 'country')
    const headers = res.headers['set-cookie'] as string[]
    const attributes = 'Domain=example.com; Path=/; Secure; HttpOnly; SameSite=None'
    assert.ok(headers.includes(`CloudFront-Edge=${edgeToken}; ${attributes}; Max-Age=${expires - NOW}`), headers.join('\n'))
    assert.ok(!headers.some((header) => header.startsWith('CloudFront-Edge=;')), 'not cleared as well')
    assertVerdict(inspectWithTestKeys(`https://${EDGE_ALIAS}/hls/movie-42/seg-1.ts`, { at: NOW, cookies }), 'allow')
  })

  it('signed queries: cf-edge bound to Signature, appended to query and in params', async () => {
    const app = await edgeApp()
    const res = await post(app, '/v1/signed-queries', { distribution: 'edged', resource: '/hls/movie-42/*', referrers: ['*.example.com'], allowEmptyReferrer: true })
    assert.equal(res.statusCode, 200, res.body)
    const { query, params, grantId } = res.json()
    assert.equal(query, `Policy=${params.Policy}&Signature=${params.Signature}&Key-Pair-Id=${params['Key-Pair-Id']}&cf-edge=${params['cf-edge']}`)
    const payload = payloadOf(params['cf-edge'])
    assert.equal(payload.g, grantId)
    assert.equal(payload.b, bindingHash(params.Signature))
    assert.deepEqual([payload.r, payload.re], [['*.example.com'], 1])
    assert.equal(edgeVerdict(params['cf-edge'], { signature: params.Signature, referer: 'https://app.example.com/player' }), 'allow')
    assert.equal(edgeVerdict(params['cf-edge'], { signature: params.Signature }), 'allow', 'no Referer, allowed')
    assert.equal(edgeVerdict(params['cf-edge'], { signature: params.Signature, referer: 'https://evil.com/' }), 'referrer')
    assertVerdict(inspectWithTestKeys(`https://${EDGE_ALIAS}/hls/movie-42/seg-1.ts?${query}`, { at: NOW }), 'allow')
  })
})

describe('edge grants: logs', () => {
  it('log the grant ID, never the edge token', async (t) => {
    const logs = captureLogs()
    const app = await build(t, { configInput: EDGE_CONFIG, logLevel: 'info', logStream: logs.stream })
    const url = (await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', referrers: ['app.example.com'] })).json()
    const cookies = (await post(app, '/v1/signed-cookies', { distribution: 'edged', resource: '/hls/*', setCookies: true })).json()
    const text = logs.text()
    for (const [grantId, edgeToken] of [[url.grantId, getParam(url.url, 'cf-edge')!], [cookies.grantId, cookies.cookies['CloudFront-Edge']]]) {
      assert.ok(text.includes(grantId), 'the grant ID')
      assert.ok(!text.includes(edgeToken.split('.')[1]!) && !text.includes(edgeToken.split('.')[2]!), 'no part of the token')
    }
  })
})

describe('edge grants: viewer rules', () => {
  it('refuses viewer rules on a distribution without the edge layer: EDGE_NOT_ENABLED', async () => {
    const app = await edgeApp()
    for (const [url, body] of [
      ['/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4', referrers: ['example.com'] }],
      ['/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4', allowEmptyReferrer: false }],
      ['/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*', countries: { allow: ['DE'] } }],
      ['/v1/signed-queries', { distribution: 'demo', resource: '/hls/*', countries: { deny: ['KP'] } }],
    ] as const) {
      await expectError(await post(app, url, body), 400, 'EDGE_NOT_ENABLED')
    }
  })

  it('refuses a caller whose token carries viewer rules on a distribution without the edge layer: EDGE_REQUIRED; on one with it, they are the grant\'s', async () => {
    const app = await edgeApp()
    const claimed = token({ countries: { deny: ['KP'] } })
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4' }, claimed), 403, 'EDGE_REQUIRED')
    await expectError(await post(app, '/v1/signed-cookies', { distribution: 'demo', resource: '/hls/*' }, claimed), 403, 'EDGE_REQUIRED')
    const playback = await app.inject({ method: 'GET', url: '/v1/playback?distribution=demo&path=/videos/a.mp4', headers: bearer(claimed) })
    await expectError(playback, 403, 'EDGE_REQUIRED')
    const res = await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', countries: { deny: ['CU'] } }, claimed)
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(payloadOf(getParam(res.json().url, 'cf-edge')!).cd, ['KP', 'CU'], 'the caller\'s denials and the request\'s')
  })

  it('narrows by the caller\'s claims: a request cannot widen them (FORBIDDEN_VIEWER_RULES)', async () => {
    const app = await edgeApp()
    const claimed = token({ referrers: ['*.example.com'], countries: { allow: ['DE', 'AT'] } })
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', referrers: ['evil.com'] }, claimed), 403, 'FORBIDDEN_VIEWER_RULES')
    await expectError(await post(app, '/v1/signed-queries', { distribution: 'edged', resource: '/hls/*', countries: { allow: ['FR'] } }, claimed), 403, 'FORBIDDEN_VIEWER_RULES')
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', allowEmptyReferrer: true }, claimed), 403, 'FORBIDDEN_VIEWER_RULES')
    const narrower = await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', referrers: ['app.example.com'] }, claimed)
    assert.equal(narrower.statusCode, 200, narrower.body)
    const payload = payloadOf(getParam(narrower.json().url, 'cf-edge')!)
    assert.deepEqual([payload.r, payload.ca], [['app.example.com'], ['DE', 'AT']])
    const silent = payloadOf(getParam((await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4' }, claimed)).json().url, 'cf-edge')!)
    assert.deepEqual(silent.r, ['*.example.com'], 'a request silent on a rule gets the caller\'s')
  })

  it('refuses a malformed rule: INVALID_VIEWER_RULES, or VALIDATION_ERROR where the schema bounds it', async () => {
    const app = await edgeApp()
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', referrers: ['not a host'] }), 400, 'INVALID_VIEWER_RULES')
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', allowEmptyReferrer: true }), 400, 'INVALID_VIEWER_RULES')
    for (const rules of [{ referrers: [] }, { referrers: Array(11).fill('example.com') }, { countries: {} }, { countries: { allow: ['DEU'] } }, { countries: { block: ['DE'] } }]) {
      await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', ...rules }), 400, 'VALIDATION_ERROR')
    }
  })

  it('puts an IPv6 ipAddress in the token on an edge distribution (IPV6_NOT_SUPPORTED without the edge layer); IPv4 stays in the policy', async () => {
    const app = await edgeApp()
    const ipOf = async (body: object, remoteAddress?: string) => {
      const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(SIGNER), payload: { distribution: 'edged', path: '/videos/a.mp4', ...body }, ...(remoteAddress && { remoteAddress }) })
      assert.equal(res.statusCode, 200, res.body)
      return { answer: res.json(), ip: payloadOf(getParam(res.json().url, 'cf-edge')!).ip }
    }
    const single = await ipOf({ ipAddress: '2001:DB8::1' })
    assert.deepEqual(single.ip, ['2001:db8::1/128'])
    const policy = JSON.parse(fromCloudFrontBase64(getParam(single.answer.url, 'Policy')!).toString())
    assert.equal(policy.Statement[0].Condition.IpAddress, undefined, 'nothing for CloudFront to check')
    const signed = { signature: getParam(single.answer.url, 'Signature')!, queryValueCount: 1 }
    assert.equal(edgeVerdict(getParam(single.answer.url, 'cf-edge'), { ...signed, ip: '2001:db8::1' }), 'allow')
    assert.equal(edgeVerdict(getParam(single.answer.url, 'cf-edge'), { ...signed, ip: '2001:db8::2' }), 'ip')
    assert.deepEqual((await ipOf({ ipAddress: '2001:db8::/32' })).ip, ['2001:db8::/32'])
    assert.deepEqual((await ipOf({ ipAddress: 'client' }, '2001:db8::7')).ip, ['2001:db8::7/128'])
    const v4 = await ipOf({ ipAddress: 'client' }, '::ffff:192.0.2.9')
    assert.equal(v4.ip, undefined)
    const v4Policy = JSON.parse(fromCloudFrontBase64(getParam(v4.answer.url, 'Policy')!).toString())
    assert.deepEqual(v4Policy.Statement[0].Condition.IpAddress, { 'AWS:SourceIp': '192.0.2.9/32' }, 'an IPv4-mapped address is IPv4: CloudFront checks it')
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'demo', path: '/videos/a.mp4', ipAddress: '2001:db8::1' }), 400, 'IPV6_NOT_SUPPORTED')
    for (const ipAddress of ['2001:db8::/129', '2001:db8:::1', '2001:db8::1/64/1']) {
      await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', ipAddress }), 400, 'INVALID_IP_ADDRESS')
    }
  })

  it('narrows an IPv6 ipAddress by the caller\'s ipRanges, which a request silent on it inherits', async () => {
    const app = await edgeApp()
    const claimed = token({ ipRanges: ['2001:db8::/32'] })
    await expectError(await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', ipAddress: '2001:db9::1' }, claimed), 403, 'FORBIDDEN_VIEWER_RULES')
    const inside = await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4', ipAddress: '2001:db8:1::/48' }, claimed)
    assert.deepEqual(payloadOf(getParam(inside.json().url, 'cf-edge')!).ip, ['2001:db8:1::/48'])
    const silent = await post(app, '/v1/signed-urls', { distribution: 'edged', path: '/videos/a.mp4' }, claimed)
    assert.deepEqual(payloadOf(getParam(silent.json().url, 'cf-edge')!).ip, ['2001:db8::/32'])
  })
})

describe('edge grants: RTMP streams', () => {
  it('carry no edge token; viewer rules are refused (EDGE_NOT_APPLICABLE), a caller\'s own too (EDGE_REQUIRED), IPv6 stays unsupported', async () => {
    const app = await edgeApp()
    const ok = await post(app, '/v1/signed-streams', { distribution: 'edged', stream: 'videos/clip.mp4' })
    assert.equal(ok.statusCode, 200, ok.body)
    assert.match(ok.json().grantId, GRANT_ID)
    assert.ok(!ok.json().stream.includes('cf-edge'), `an RTMP stream name carries no edge token: ${ok.json().stream}`)
    await expectError(await post(app, '/v1/signed-streams', { distribution: 'edged', stream: 'videos/clip.mp4', referrers: ['example.com'] }), 400, 'EDGE_NOT_APPLICABLE')
    await expectError(await post(app, '/v1/signed-streams', { distribution: 'demo', stream: 'videos/clip.mp4', countries: { deny: ['KP'] } }), 400, 'EDGE_NOT_APPLICABLE')
    await expectError(await post(app, '/v1/signed-streams', { distribution: 'edged', stream: 'videos/clip.mp4' }, token({ referrers: ['example.com'] })), 403, 'EDGE_REQUIRED')
    await expectError(await post(app, '/v1/signed-streams', { distribution: 'edged', stream: 'videos/clip.mp4', ipAddress: '2001:db8::1' }), 400, 'IPV6_NOT_SUPPORTED')
  })
})
