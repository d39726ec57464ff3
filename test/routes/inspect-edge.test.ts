// POST /v1/inspect on a distribution with edge: true: the edge token judged as the viewer-request function would,
// its revocations read from the distribution's KeyValueStore in the local emulator (or said to be unknown).
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createPrivateKey } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateKeyValueStoreCommand } from '@aws-sdk/client-cloudfront'
import { updateKvsKeys } from '../../src/aws/keyvaluestore.js'
import { edgeResourceName } from '../../src/edge/naming.js'
import { createEdgeToken, formatRevocationValue, hashSubject, type EdgeTokenInput } from '../../src/edge/token.js'
import { buildPolicy } from '../../src/signing/policy.js'
import { buildSignedCookies, buildSignedUrl, signPolicy } from '../../src/signing/sign.js'
import { appendQuery } from '../../src/signing/resource.js'
import { build, TEST_NOW_MS, testConfig } from '../support/build.js'
import { EMULATOR_CREDENTIALS, startEmulator } from '../support/emulator.js'
import { RSA_KEY_ID, RSA_PEM } from '../support/keys.js'
import { bearer, makeToken } from '../support/tokens.js'
import { cloudFrontClient } from './admin/helpers.js'

const NOW = TEST_NOW_MS / 1000
const MEDIA = 'https://media.example.com'
const EDGE_ID = 'E1EDGEINSPECT1'
const NO_STORE_ID = 'E2EDGENOSTORE2'
const EDGE_KEY = { id: 'e1', secret: 'inspect-edge-secret-0123456789abcdefghijk' }
const SIGN = makeToken({ sub: 'support', scope: 'sign' })
const SIGNING_KEY = { id: RSA_KEY_ID, privateKey: createPrivateKey(RSA_PEM) }

const grant = (overrides: Partial<EdgeTokenInput> = {}): EdgeTokenInput => ({ grantId: 'grant-1', sub: 'viewer-7', issuedAt: NOW - 100, expires: NOW + 600, ...overrides })

/** A canned signed URL whose signed resource holds the edge token (so it is not bound). */
function exactUrl(token: string | undefined, host = MEDIA): string {
  const url = token === undefined ? `${host}/media/a.mp4` : `${host}/media/a.mp4?cf-edge=${token}`
  const policy = buildPolicy(url, { expires: NOW + 600 })
  return buildSignedUrl(url, { policy, keyId: SIGNING_KEY.id, hashAlgorithm: 'SHA256', signature: signPolicy(policy.json, SIGNING_KEY, 'SHA256') })
}

/** A wildcard policy's signature: the grant a bound token travels with. */
function wildcardGrant() {
  const policy = buildPolicy(`${MEDIA}/media/*`, { expires: NOW + 600 }, true)
  return { policy, keyId: SIGNING_KEY.id, hashAlgorithm: 'SHA256' as const, signature: signPolicy(policy.json, SIGNING_KEY, 'SHA256') }
}

/** `unreachable`: the account's endpoint refuses connections, so nothing can be read from AWS. */
async function setUp(t: TestContext, { unreachable = false } = {}) {
  const keysDir = mkdtempSync(join(tmpdir(), 'cf-signer-inspect-edge-'))
  t.after(() => rmSync(keysDir, { recursive: true, force: true }))
  writeFileSync(join(keysDir, EDGE_KEY.id), EDGE_KEY.secret)
  const endpoint = unreachable ? 'http://127.0.0.1:1' : (await startEmulator(t)).endpoint
  const config = testConfig(t, {
    edge: { keysDir, activeKeyId: EDGE_KEY.id },
    distributions: {
      media: { domain: 'd444444abcdef8.cloudfront.net', aliases: ['media.example.com'], allowedPaths: ['/*'], distributionId: EDGE_ID, edge: true, account: 'test' },
      bare: { domain: 'd555555abcdef8.cloudfront.net', allowedPaths: ['/*'], distributionId: NO_STORE_ID, edge: true, account: 'test' },
      plain: { domain: 'd666666abcdef8.cloudfront.net', allowedPaths: ['/*'] },
    },
    aws: { accounts: { test: { region: 'us-east-1', endpoint } }, maxAttempts: 1 },
  })
  const app = await build(t, { config, awsCredentials: EMULATOR_CREDENTIALS })
  let arn = ''
  if (!unreachable) {
    const created = await cloudFrontClient(t, endpoint).send(new CreateKeyValueStoreCommand({ Name: edgeResourceName(EDGE_ID), Comment: 'inspect test' }))
    arn = created.KeyValueStore!.ARN!
    await updateKvsKeys(app.aws.resolve('test'), arn, { puts: [{ key: `hmac:${EDGE_KEY.id}`, value: EDGE_KEY.secret }] })
  }
  const revoke = (key: string, reason?: string, t0 = NOW - 50) =>
    updateKvsKeys(app.aws.resolve('test'), arn, { puts: [{ key, value: formatRevocationValue({ t: t0, x: NOW + 3600, ...(reason !== undefined && { r: reason }) }) }] })
  const inspect = async (payload: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url: '/v1/inspect', headers: bearer(SIGN), payload: { at: NOW, ...payload } })
    assert.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  return { app, revoke, inspect }
}

describe('POST /v1/inspect with an edge distribution', () => {
  it('passes a valid token after CloudFront\'s checks and reports its grant, with revocations read from the store', async (t) => {
    const { inspect } = await setUp(t)
    const token = createEdgeToken(grant({ referrers: ['*.example.org'], allowEmptyReferrer: true }), EDGE_KEY)
    const answer = await inspect({ url: exactUrl(token) })
    assert.equal(answer.verdict, 'allow', JSON.stringify(answer.checks))
    assert.deepEqual(answer.edge, {
      verdict: 'allow',
      grantId: 'grant-1',
      issuedAt: NOW - 100,
      expires: NOW + 600,
      bound: false,
      rules: { referrers: ['*.example.org'], allowEmptyReferrer: true },
      revocations: 'checked',
      detail: answer.edge.detail,
    })
    assert.match(answer.edge.detail, /passes every check/)
    assert.deepEqual(answer.checks.at(-1), { name: 'edge', outcome: 'pass', detail: answer.edge.detail }, 'the edge check comes last')
    assert.ok(!JSON.stringify(answer.edge).includes(token.split('.')[2]!), 'the token\'s HMAC is never echoed')
  })

  it('explains a revoked grant and a revoked subject from the store, and passes a grant issued after the subject\'s revocation', async (t) => {
    const { inspect, revoke } = await setUp(t)
    await revoke('revoked:g:grant-leaked', 'leaked on a forum')
    const leaked = await inspect({ url: exactUrl(createEdgeToken(grant({ grantId: 'grant-leaked' }), EDGE_KEY)) })
    assert.deepEqual({ verdict: leaked.verdict, reason: leaked.reason, edge: leaked.edge.reason, revocations: leaked.edge.revocations }, { verdict: 'deny', reason: 'EDGE_DENIED', edge: 'revoked-grant', revocations: 'checked' })
    assert.match(leaked.edge.detail, /grant grant-leaked is revoked at \d+ \("leaked on a forum"\)/)
    assert.deepEqual(leaked.checks.at(-1), { name: 'edge', outcome: 'fail', reason: 'EDGE_DENIED', detail: `revoked-grant: ${leaked.edge.detail}` })

    await revoke(`revoked:s:${hashSubject('viewer-7')}`, 'offboarded', NOW - 50)
    const before = await inspect({ url: exactUrl(createEdgeToken(grant({ issuedAt: NOW - 50 }), EDGE_KEY)) })
    assert.equal(before.edge.reason, 'revoked-sub')
    assert.match(before.edge.detail, /issued at or before the revocation are revoked at \d+ \("offboarded"\); this one was issued at \d+/)
    const after = await inspect({ url: exactUrl(createEdgeToken(grant({ issuedAt: NOW - 49 }), EDGE_KEY)) })
    assert.deepEqual({ verdict: after.edge.verdict, revocations: after.edge.revocations }, { verdict: 'allow', revocations: 'checked' })
  })

  it('judges the referrer, country and IP rules with the viewer facts given, the caller\'s address by default', async (t) => {
    const { inspect } = await setUp(t)
    const referrer = exactUrl(createEdgeToken(grant({ referrers: ['*.example.org'] }), EDGE_KEY))
    assert.equal((await inspect({ url: referrer })).edge.reason, 'referrer')
    assert.match((await inspect({ url: referrer })).edge.detail, /no Referer/)
    assert.equal((await inspect({ url: referrer, referer: 'https://www.example.org/watch' })).edge.verdict, 'allow')
    const elsewhere = await inspect({ url: referrer, referer: 'https://example.org.evil.net/' })
    assert.deepEqual({ reason: elsewhere.edge.reason, verdict: elsewhere.verdict }, { reason: 'referrer', verdict: 'deny' })

    const country = exactUrl(createEdgeToken(grant({ countries: { allow: ['FR', 'BE'], deny: ['BE'] } }), EDGE_KEY))
    assert.equal((await inspect({ url: country, country: 'fr' })).edge.verdict, 'allow')
    const denied = await inspect({ url: country, country: 'BE' })
    assert.deepEqual({ reason: denied.edge.reason, rules: denied.edge.rules }, { reason: 'country', rules: { countries: { allow: ['FR', 'BE'], deny: ['BE'] } } })
    assert.match(denied.edge.detail, /country BE is in the deny list BE/)
    assert.match((await inspect({ url: country, country: 'US' })).edge.detail, /country US is not in the allow list FR, BE/)
    assert.match((await inspect({ url: country })).edge.detail, /no country given/)

    const ip = exactUrl(createEdgeToken(grant({ ipRanges: ['203.0.113.0/24', '2001:db8::/32'] }), EDGE_KEY))
    assert.equal((await inspect({ url: ip, ip: '203.0.113.9' })).edge.verdict, 'allow')
    assert.equal((await inspect({ url: ip, ip: '2001:db8::5' })).edge.verdict, 'allow')
    const outside = await inspect({ url: ip, ip: '198.51.100.1' })
    assert.deepEqual({ reason: outside.edge.reason, detail: outside.edge.detail }, { reason: 'ip', detail: 'viewer 198.51.100.1 is outside 203.0.113.0/24, 2001:db8::/32' })
    const caller = await inspect({ url: ip })
    assert.equal(caller.edge.reason, 'ip', 'app.inject comes from 127.0.0.1')
    assert.match(caller.edge.detail, /^viewer 127\.0\.0\.1 \(the caller's own address: give ip to judge another\)/)
  })

  it('refuses an expired, forged, foreign-key or missing token, reading no revocations for a token that is not genuine', async (t) => {
    const { inspect } = await setUp(t)
    const expired = await inspect({ url: exactUrl(createEdgeToken(grant({ expires: NOW - 1 }), EDGE_KEY)) })
    assert.deepEqual({ verdict: expired.verdict, edge: expired.edge.reason, revocations: expired.edge.revocations }, { verdict: 'deny', edge: 'expired', revocations: 'checked' })
    assert.equal(expired.checks.find((c: { name: string }) => c.name === 'expiry').outcome, 'pass', 'CloudFront\'s own expiry is later')

    const token = createEdgeToken(grant(), EDGE_KEY)
    const forged = await inspect({ url: exactUrl(`${token.slice(0, -2)}AA`) })
    assert.deepEqual({ edge: forged.edge.reason, revocations: forged.edge.revocations, grantId: forged.edge.grantId }, { edge: 'signature', revocations: 'unknown', grantId: 'grant-1' })
    assert.match(forged.edge.detail, /does not match its payload with key e1/)

    const foreign = await inspect({ url: exactUrl(createEdgeToken(grant(), { id: 'old', secret: 'rotated-out-secret-0123456789abcdefghijk' })) })
    assert.deepEqual({ edge: foreign.edge.reason, detail: foreign.edge.detail }, { edge: 'key', detail: 'the edge token names key old, not among the edge keys (e1): it was rotated out, or the token was made elsewhere' })

    const missing = await inspect({ url: exactUrl(undefined) })
    assert.deepEqual({ verdict: missing.verdict, reason: missing.reason, edge: missing.edge.reason, revocations: missing.edge.revocations }, { verdict: 'deny', reason: 'EDGE_DENIED', edge: 'missing', revocations: 'unknown' })
  })

  it('checks a bound token against the signature it travels with, in a URL or in cookies', async (t) => {
    const { inspect } = await setUp(t)
    const signed = wildcardGrant()
    const other = wildcardGrant()
    other.signature = signPolicy(buildPolicy(`${MEDIA}/other/*`, { expires: NOW + 600 }, true).json, SIGNING_KEY, 'SHA256')
    const bound = createEdgeToken(grant({ binding: signed.signature }), EDGE_KEY)
    const url = buildSignedUrl(appendQuery(`${MEDIA}/media/a.mp4`, `cf-edge=${bound}`), signed)
    const good = await inspect({ url })
    assert.deepEqual({ verdict: good.verdict, edge: good.edge.verdict, bound: good.edge.bound }, { verdict: 'allow', edge: 'allow', bound: true }, JSON.stringify(good.checks))

    const moved = createEdgeToken(grant({ binding: other.signature }), EDGE_KEY)
    const mismatch = await inspect({ url: buildSignedUrl(appendQuery(`${MEDIA}/media/a.mp4`, `cf-edge=${moved}`), signed) })
    assert.deepEqual({ verdict: mismatch.verdict, edge: mismatch.edge.reason }, { verdict: 'deny', edge: 'binding' })
    assert.match(mismatch.edge.detail, /bound to another CloudFront signature/)

    const cookies = { ...buildSignedCookies(signed), 'CloudFront-Edge': bound }
    const inCookies = await inspect({ url: `${MEDIA}/media/b.mp4`, cookies })
    assert.deepEqual({ source: inCookies.source, verdict: inCookies.verdict, edge: inCookies.edge.verdict }, { source: 'cookies', verdict: 'allow', edge: 'allow' })
    const movedCookie = await inspect({ url: `${MEDIA}/media/b.mp4`, cookies: { ...cookies, 'CloudFront-Edge': moved } })
    assert.equal(movedCookie.edge.reason, 'binding')
  })

  it('says query when a URL signed for cf-edge=* carries a parameter the token does not count', async (t) => {
    const { inspect } = await setUp(t)
    // One signature for every grant of the URL: the resource ends in cf-edge=*, the token counts the query's values.
    const policy = buildPolicy(`${MEDIA}/media/a.mp4?cf-edge=*`, { expires: NOW + 600 }, true)
    const signing = { policy, keyId: SIGNING_KEY.id, hashAlgorithm: 'SHA256' as const, signature: signPolicy(policy.json, SIGNING_KEY, 'SHA256') }
    const url = buildSignedUrl(`${MEDIA}/media/a.mp4?cf-edge=${createEdgeToken(grant({ queryValueCount: 1 }), EDGE_KEY)}`, signing)
    const good = await inspect({ url })
    assert.deepEqual({ verdict: good.verdict, edge: good.edge.verdict }, { verdict: 'allow', edge: 'allow' }, JSON.stringify(good.checks))

    const appended = await inspect({ url: `${url}&response-content-type=text/html` })
    const failed = appended.checks.filter((c: { outcome: string }) => c.outcome === 'fail').map((c: { name: string }) => c.name)
    assert.deepEqual(failed, ['edge'], 'CloudFront\'s * matches the appended parameter: only the edge refuses it')
    assert.equal(appended.checks.find((c: { name: string }) => c.name === 'resource').outcome, 'pass')
    assert.deepEqual({ verdict: appended.verdict, reason: appended.reason, edge: appended.edge.reason }, { verdict: 'deny', reason: 'EDGE_DENIED', edge: 'query' })
    assert.equal(appended.edge.detail, 'the URL carries 2 query values besides CloudFront\'s signing parameters and the edge token allows exactly 1: a parameter was added, repeated or removed')
    const expires = await inspect({ url: `${url}&Expires=${NOW + 600}` })
    assert.equal(expires.edge.reason, 'query', 'an added Expires counts')
  })

  it('says the revocations are unknown when the store is missing or cannot be read, and leaves other distributions alone', async (t) => {
    const { inspect } = await setUp(t)
    const bare = await inspect({ url: exactUrl(createEdgeToken(grant(), EDGE_KEY), 'https://d555555abcdef8.cloudfront.net') })
    assert.deepEqual({ verdict: bare.edge.verdict, revocations: bare.edge.revocations }, { verdict: 'allow', revocations: 'unknown' })
    assert.match(bare.edge.detail, new RegExp(`revocations not checked: the distribution has no KeyValueStore cf-signer-edge-${NO_STORE_ID}`))

    const plain = await inspect({ url: exactUrl(createEdgeToken(grant(), EDGE_KEY), 'https://d666666abcdef8.cloudfront.net') })
    assert.equal(plain.edge, undefined, 'no edge section without edge: true')
    assert.ok(!plain.checks.some((c: { name: string }) => c.name === 'edge'))

    const offline = await setUp(t, { unreachable: true })
    const answer = await offline.inspect({ url: exactUrl(createEdgeToken(grant(), EDGE_KEY)) })
    assert.deepEqual({ verdict: answer.verdict, edge: answer.edge.verdict, revocations: answer.edge.revocations }, { verdict: 'allow', edge: 'allow', revocations: 'unknown' })
    assert.match(answer.edge.detail, new RegExp(`revocations not checked: could not read the KeyValueStore cf-signer-edge-${EDGE_ID} \\([A-Z_]+\\)`))
    assert.equal(answer.distribution.trusted, null, 'nor the trust: both are said, neither fails the inspection')
  })

  it('validates the viewer facts', async (t) => {
    const { app } = await setUp(t, { unreachable: true })
    for (const payload of [{ country: 'FRA' }, { country: 'F1' }, { referer: '' }, { referer: 'x'.repeat(2049) }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/inspect', headers: bearer(SIGN), payload: { url: exactUrl(undefined), ...payload } })
      assert.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    }
  })
})
