// The local edge (test/support/edge.ts) with its viewer-request stage on: the event it builds from a real request, and
// the shipped function run on it before CloudFront's signature check, over plain HTTPS requests (no browser).
import assert from 'node:assert/strict'
import { createPrivateKey } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { EDGE_FUNCTION_SOURCE } from '../../src/edge/function-source.js'
import { createEdgeToken, formatRevocationValue, type EdgeTokenInput } from '../../src/edge/token.js'
import { buildPolicy, type HashAlgorithm } from '../../src/signing/policy.js'
import { signingParams, signPolicy } from '../../src/signing/sign.js'
import { createSelfSignedCert, makeWav, startEdge, type Edge } from '../support/edge.js'
import { buildViewerRequestEvent, fixedViewerRequest, type ViewerRequestEvent } from '../support/edge-function.js'
import { lookupTestKey } from '../support/inspector.js'
import { RSA_KEY_ID, RSA_PEM } from '../support/keys.js'

const MEDIA_HOST = 'media.example.com'
const CLOUDFRONT_HOST = 'd111111abcdef8.cloudfront.net'
const EDGE_KEY = { id: 'e1', secret: 'e1-secret-0123456789abcdefghijklmnopqrstuv' }
const TLS = createSelfSignedCert([MEDIA_HOST])
const RSA_KEY = { id: RSA_KEY_ID, privateKey: createPrivateKey(RSA_PEM) }
const nowSeconds = () => Math.floor(Date.now() / 1000)

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A GET to the edge as a browser on media.example.com:443 would send it. */
function get(edge: Edge, target: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: edge.port, path: target, servername: MEDIA_HOST, rejectUnauthorized: false, agent: false, headers: { host: MEDIA_HOST, ...headers } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** A wildcard-resource signed query for /media/* (custom policy), as the service's signed queries are. */
function signedQuery(expires = nowSeconds() + 600, hashAlgorithm: HashAlgorithm = 'SHA1'): { query: string; signature: string } {
  const policy = buildPolicy(`https://${MEDIA_HOST}/media/*`, { expires }, true)
  const signature = signPolicy(policy.json, RSA_KEY, hashAlgorithm)
  const params = signingParams({ policy, keyId: RSA_KEY_ID, hashAlgorithm, signature })
  return { query: params.map(([name, value]) => `${name}=${value}`).join('&'), signature }
}

function edgeToken(overrides: Partial<EdgeTokenInput> & { binding: string }): string {
  return createEdgeToken({ grantId: 'grant-0000000001', sub: 'viewer-7', issuedAt: nowSeconds(), expires: nowSeconds() + 600, ...overrides }, EDGE_KEY)
}

async function edgeWithFunction(t: TestContext, store: Map<string, string>): Promise<Edge> {
  const edge = await startEdge({
    tls: TLS,
    mediaHost: MEDIA_HOST,
    media: { '/media/tone.wav': { type: 'audio/wav', body: makeWav(0.1) } },
    lookupKey: lookupTestKey,
    now: nowSeconds,
    allowOrigin: 'https://app.example.com',
    viewerRequest: { source: fixedViewerRequest(EDGE_FUNCTION_SOURCE, store), distributionDomainName: CLOUDFRONT_HOST, distributionId: 'EDFDVBD6EXAMPLE' },
  })
  t.after(() => edge.close())
  return edge
}

const freshStore = () => new Map([[`hmac:${EDGE_KEY.id}`, EDGE_KEY.secret]])

describe('local edge: the viewer-request event', () => {
  it('is built from the request as received: lower-cased headers, cookies apart, query values percent-decoded, repeats in multiValue', async (t) => {
    let event: ViewerRequestEvent | undefined
    const server = createServer((request, response) => {
      event = buildViewerRequestEvent(request, { distributionDomainName: CLOUDFRONT_HOST, distributionId: 'EDFDVBD6EXAMPLE', country: 'NL' })
      response.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => server.close())
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          path: '/media/a%20b.wav?name=caf%C3%A9&tag=x&tag=y%2Bz&flag&plus=a+b',
          headers: { Host: MEDIA_HOST, 'X-Mixed-Case': 'One', Referer: 'https://app.example.com/', Cookie: 'CloudFront-Edge=v1.a.b; other=1; other=2' },
          agent: false,
        },
        (res) => res.resume().on('end', resolve),
      )
      req.on('error', reject)
      req.end()
    })
    assert.ok(event !== undefined, 'the edge handed the function an event')
    assert.equal(event.version, '1.0')
    assert.deepEqual({ ...event.context, requestId: typeof event.context.requestId }, {
      distributionDomainName: CLOUDFRONT_HOST,
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType: 'viewer-request',
      requestId: 'string',
    })
    assert.deepEqual(event.viewer, { ip: '127.0.0.1' })
    assert.equal(event.request.method, 'GET')
    assert.equal(event.request.uri, '/media/a%20b.wav', 'the path as sent, without the query')
    assert.deepEqual(event.request.querystring, {
      name: { value: 'café' },
      tag: { value: 'x', multiValue: [{ value: 'x' }, { value: 'y+z' }] },
      flag: { value: '' },
      plus: { value: 'a+b' },
    })
    assert.deepEqual(event.request.cookies, { 'CloudFront-Edge': { value: 'v1.a.b' }, other: { value: '1', multiValue: [{ value: '1' }, { value: '2' }] } })
    assert.equal(event.request.headers['x-mixed-case']?.value, 'One')
    assert.equal(event.request.headers.host?.value, MEDIA_HOST)
    assert.equal(event.request.headers.referer?.value, 'https://app.example.com/')
    assert.equal(event.request.headers['cloudfront-viewer-country']?.value, 'NL')
    assert.equal(event.request.headers.cookie, undefined, 'cookies travel in cookies only')
  })
})

describe('local edge: the viewer-request function before the signature check', () => {
  it('serves a signed query with a valid bound token, and records both verdicts', async (t) => {
    const edge = await edgeWithFunction(t, freshStore())
    const { query, signature } = signedQuery()
    const answer = await get(edge, `/media/tone.wav?${query}&cf-edge=${edgeToken({ binding: signature })}`)
    assert.equal(answer.status, 200)
    assert.deepEqual(edge.decisions, [{ host: MEDIA_HOST, path: '/media/tone.wav', status: 200, reason: null, source: 'url', edgeReason: null }])
  })

  it('serves cookies with the token in CloudFront-Edge', async (t) => {
    const edge = await edgeWithFunction(t, freshStore())
    const { query, signature } = signedQuery()
    const cookies = [...query.split('&').map((pair) => `CloudFront-${pair}`), `CloudFront-Edge=${edgeToken({ binding: signature })}`].join('; ')
    assert.equal((await get(edge, '/media/tone.wav', { cookie: cookies })).status, 200)
    assert.deepEqual(edge.decisions.map((d) => [d.status, d.source, d.edgeReason]), [[200, 'cookies', null]])
  })

  it('answers the function\'s 403 with x-edge-deny once the grant is revoked in the store, read at each request', async (t) => {
    const store = freshStore()
    const edge = await edgeWithFunction(t, store)
    const { query, signature } = signedQuery()
    const target = `/media/tone.wav?${query}&cf-edge=${edgeToken({ binding: signature })}`
    assert.equal((await get(edge, target)).status, 200)
    store.set('revoked:g:grant-0000000001', formatRevocationValue({ t: nowSeconds(), x: nowSeconds() + 600 }))
    const refused = await get(edge, target)
    assert.equal(refused.status, 403)
    assert.equal(refused.headers['x-edge-deny'], 'revoked-grant')
    assert.equal(refused.headers['access-control-allow-origin'], 'https://app.example.com', 'the edge\'s CORS headers, so a page can read the status')
    assert.deepEqual(edge.decisions.at(-1), { host: MEDIA_HOST, path: '/media/tone.wav', status: 403, reason: null, source: null, edgeReason: 'revoked-grant' })
  })

  it('refuses a referrer outside the grant\'s hosts and serves the listed one', async (t) => {
    const edge = await edgeWithFunction(t, freshStore())
    const { query, signature } = signedQuery()
    const target = `/media/tone.wav?${query}&cf-edge=${edgeToken({ binding: signature, referrers: ['app.example.com'] })}`
    const foreign = await get(edge, target, { referer: 'https://evil.example.net/' })
    assert.equal(foreign.status, 403)
    assert.equal(foreign.headers['x-edge-deny'], 'referrer')
    assert.equal((await get(edge, target, { referer: 'https://app.example.com/player' })).status, 200)
    assert.equal((await get(edge, target)).headers['x-edge-deny'], 'referrer', 'no Referer, and allowEmptyReferrer not set')
    assert.deepEqual(edge.decisions.map((d) => d.edgeReason), ['referrer', null, 'referrer'])
  })

  it('gives the function the viewer country (NL unless told) and the viewer address', async (t) => {
    const edge = await edgeWithFunction(t, freshStore())
    const { query, signature } = signedQuery()
    const denyNl = await get(edge, `/media/tone.wav?${query}&cf-edge=${edgeToken({ binding: signature, countries: { deny: ['NL'] } })}`)
    assert.equal(denyNl.headers['x-edge-deny'], 'country')
    const elsewhere = await get(edge, `/media/tone.wav?${query}&cf-edge=${edgeToken({ binding: signature, ipRanges: ['10.0.0.0/8'] })}`)
    assert.equal(elsewhere.headers['x-edge-deny'], 'ip', '127.0.0.1 is outside 10.0.0.0/8')
    assert.equal((await get(edge, `/media/tone.wav?${query}&cf-edge=${edgeToken({ binding: signature, ipRanges: ['127.0.0.0/8'] })}`)).status, 200)
  })

  it('runs the function first: no token is refused by it, a valid token on an expired signature by CloudFront', async (t) => {
    const edge = await edgeWithFunction(t, freshStore())
    assert.equal((await get(edge, '/media/tone.wav')).headers['x-edge-deny'], 'missing')
    const expired = signedQuery(nowSeconds() - 10)
    const late = await get(edge, `/media/tone.wav?${expired.query}&cf-edge=${edgeToken({ binding: expired.signature })}`)
    assert.equal(late.status, 403)
    assert.equal(late.headers['x-edge-deny'], undefined)
    assert.match(late.body, /AccessDenied/)
    assert.deepEqual(edge.decisions.map((d) => [d.status, d.reason, d.edgeReason]), [[403, null, 'missing'], [403, 'EXPIRED', null]])
  })
})
