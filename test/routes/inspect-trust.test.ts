// POST /v1/inspect for a distribution with a distributionId: the trust of the cache behaviour
// serving the path, read from the local CloudFront emulator through the real SDK.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import {
  CreateDistributionCommand,
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
  type CacheBehavior,
} from '@aws-sdk/client-cloudfront'
import { build, TEST_NOW_MS, testConfig } from '../support/build.js'
import { EMULATOR_CREDENTIALS, startEmulator } from '../support/emulator.js'
import { EC_PEM, LEGACY_KEY_ID, makeKeyDir, RSA_PEM } from '../support/keys.js'
import { bearer, makeToken } from '../support/tokens.js'
import { replaceParam } from '../support/inspector.js'
import { cloudFrontClient } from './admin/helpers.js'
import { uniqueReference, webDistributionConfig } from '../emulator/helpers.js'

const NOW = TEST_NOW_MS / 1000
const MEDIA = 'https://media.example.com'
const SIGN = makeToken({ sub: 'support', scope: 'sign' })

const spki = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString()

function behaviour(pathPattern: string, trust: { keyGroups?: string[]; signers?: string[] }): CacheBehavior {
  return {
    PathPattern: pathPattern,
    TargetOriginId: 's3-mybucket',
    ViewerProtocolPolicy: 'https-only',
    CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
    ...(trust.keyGroups && { TrustedKeyGroups: { Enabled: true, Quantity: trust.keyGroups.length, Items: trust.keyGroups } }),
    ...(trust.signers && { TrustedSigners: { Enabled: true, Quantity: trust.signers.length, Items: trust.signers } }),
  }
}

/**
 * On the emulator: the service's RSA key in key group `main` (trusted by the default behaviour),
 * an EC key in group `other` (trusted by /other/*), /public/* unsigned, /legacy/* with trusted signers.
 * The service signs with the RSA key under the ID CloudFront gave it.
 */
async function setUp(t: TestContext) {
  let clockMs = TEST_NOW_MS
  const { endpoint } = await startEmulator(t)
  const cloudFront = cloudFrontClient(t, endpoint)
  const publicKey = async (pem: string) =>
    (await cloudFront.send(new CreatePublicKeyCommand({ PublicKeyConfig: { CallerReference: uniqueReference('key'), Name: uniqueReference('key'), EncodedKey: spki(pem) } }))).PublicKey!.Id!
  const keyGroup = async (name: string, keyId: string) => (await cloudFront.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: name, Items: [keyId] } }))).KeyGroup!.Id!
  const rsaKeyId = await publicKey(RSA_PEM)
  const ecKeyId = await publicKey(EC_PEM)
  const main = await keyGroup('main', rsaKeyId)
  const other = await keyGroup('other', ecKeyId)
  const behaviours = [behaviour('/public/*', {}), behaviour('/other/*', { keyGroups: [other] }), behaviour('legacy/*', { signers: ['self'] })]
  const created = await cloudFront.send(new CreateDistributionCommand({
    DistributionConfig: webDistributionConfig({
      Aliases: { Quantity: 1, Items: ['media.example.com'] },
      DefaultCacheBehavior: { ...webDistributionConfig().DefaultCacheBehavior!, TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [main] } },
      CacheBehaviors: { Quantity: behaviours.length, Items: behaviours },
    }),
  }))
  const distributionId = created.Distribution!.Id!
  const keys = makeKeyDir({ [`${rsaKeyId}.pem`]: RSA_PEM, [`${LEGACY_KEY_ID}.pem`]: RSA_PEM })
  t.after(keys.cleanup)
  const config = testConfig(t, {
    keys: { dir: keys.dir, activeKeyId: rsaKeyId },
    distributions: {
      media: { domain: created.Distribution!.DomainName!, aliases: ['media.example.com'], allowedPaths: ['/*'], distributionId, account: 'test' },
      plain: { domain: 'd222222abcdef8.cloudfront.net' },
      gone: { domain: 'd333333abcdef8.cloudfront.net', distributionId: 'E0NOSUCHDIST00', account: 'test' },
    },
    aws: { accounts: { test: { region: 'us-east-1', endpoint } }, maxAttempts: 1 },
  })
  const app = await build(t, { config, awsCredentials: EMULATOR_CREDENTIALS, now: () => clockMs })
  const sign = async (path: string, keyId?: string, host = MEDIA) => {
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(SIGN), payload: { url: `${host}${path}`, keyId } })
    assert.equal(res.statusCode, 200, res.body)
    return res.json().url as string
  }
  const inspect = async (url: string) => {
    const res = await app.inject({ method: 'POST', url: '/v1/inspect', headers: bearer(SIGN), payload: { url, at: NOW } })
    assert.equal(res.statusCode, 200, res.body)
    return res.json()
  }
  return { app, cloudFront, distributionId, rsaKeyId, ecKeyId, main, other, sign, inspect, advance: (ms: number) => (clockMs += ms) }
}

describe('POST /v1/inspect with the distribution\'s trust', () => {
  it('reports the behaviour serving the path and whether it trusts the key, down to the key group', async (t) => {
    const { distributionId, rsaKeyId, ecKeyId, main, other, sign, inspect } = await setUp(t)

    const trusted = await inspect(await sign('/videos/a.mp4'))
    assert.equal(trusted.verdict, 'allow', JSON.stringify(trusted.checks))
    assert.deepEqual(trusted.distribution, {
      name: 'media', distributionId, behaviour: '*', trusted: true, reason: null, error: null,
      keyGroups: [{ id: main, publicKeyIds: [rsaKeyId] }], trustedSigners: [], detail: trusted.distribution.detail,
    })
    assert.deepEqual(trusted.checks.map((c: { name: string }) => c.name).slice(0, 3), ['params', 'trust', 'keyId'])

    const elsewhere = await inspect(await sign('/other/a.mp4'))
    assert.deepEqual({ verdict: elsewhere.verdict, reason: elsewhere.reason }, { verdict: 'deny', reason: 'KEY_NOT_TRUSTED' }, 'a behaviour trusting another key group')
    assert.deepEqual({ behaviour: elsewhere.distribution.behaviour, trusted: elsewhere.distribution.trusted, keyGroups: elsewhere.distribution.keyGroups }, { behaviour: '/other/*', trusted: false, keyGroups: [{ id: other, publicKeyIds: [ecKeyId] }] })
    assert.equal(elsewhere.checks.find((c: { name: string }) => c.name === 'signature').outcome, 'pass', 'the signature itself is good')

    const open = await inspect(await sign('/public/a.mp4'))
    assert.deepEqual({ verdict: open.verdict, reason: open.distribution.reason, trusted: open.distribution.trusted, behaviour: open.distribution.behaviour }, { verdict: 'allow', reason: 'SIGNING_NOT_REQUIRED', trusted: null, behaviour: '/public/*' })

    const legacy = await inspect(await sign('/videos/a.mp4', LEGACY_KEY_ID))
    assert.deepEqual({ verdict: legacy.verdict, reason: legacy.reason }, { verdict: 'deny', reason: 'LEGACY_KEY_PAIR_ID' }, 'an APKA ID on a key-group behaviour')
    const signers = await inspect(await sign('/legacy/a.mp4', LEGACY_KEY_ID))
    assert.deepEqual({ behaviour: signers.distribution.behaviour, trusted: signers.distribution.trusted, reason: signers.distribution.reason, trustedSigners: signers.distribution.trustedSigners }, { behaviour: 'legacy/*', trusted: null, reason: null, trustedSigners: ['self'] }, 'trusted signers: the key pairs cannot be listed')

    const groupAsKey = await inspect(replaceParam(await sign('/videos/a.mp4'), 'Key-Pair-Id', main))
    assert.deepEqual({ verdict: groupAsKey.verdict, reason: groupAsKey.reason }, { verdict: 'deny', reason: 'KEY_GROUP_ID_AS_KEY_ID' })
  })

  it('caches what it read for a minute: a change in CloudFront shows after that', async (t) => {
    const { cloudFront, distributionId, sign, inspect, advance } = await setUp(t)
    const url = await sign('/videos/a.mp4')
    assert.equal((await inspect(url)).distribution.trusted, true)
    const { DistributionConfig: config, ETag } = await cloudFront.send(new GetDistributionConfigCommand({ Id: distributionId }))
    const { TrustedKeyGroups: _dropped, ...unsigned } = config!.DefaultCacheBehavior!
    await cloudFront.send(new UpdateDistributionCommand({ Id: distributionId, IfMatch: ETag, DistributionConfig: { ...config!, DefaultCacheBehavior: { ...unsigned, TrustedKeyGroups: { Enabled: false, Quantity: 0 } } } }))
    assert.equal((await inspect(url)).distribution.trusted, true, 'still the cached trust')
    advance(60_001)
    const changed = await inspect(url)
    assert.deepEqual({ trusted: changed.distribution.trusted, reason: changed.distribution.reason }, { trusted: null, reason: 'SIGNING_NOT_REQUIRED' })
  })

  it('answers the signature checks alone when CloudFront cannot be read, and reads nothing for other distributions', async (t) => {
    const { sign, inspect } = await setUp(t)
    const gone = await inspect(await sign('/a.mp4', undefined, 'https://d333333abcdef8.cloudfront.net'))
    assert.equal(gone.verdict, 'allow', JSON.stringify(gone.checks))
    assert.deepEqual({ error: gone.distribution.error, trusted: gone.distribution.trusted, behaviour: gone.distribution.behaviour }, { error: 'NoSuchDistribution', trusted: null, behaviour: null })
    assert.equal(gone.checks.find((c: { name: string }) => c.name === 'trust').outcome, 'skipped')
    const plain = await inspect(await sign('/a.mp4', undefined, 'https://d222222abcdef8.cloudfront.net'))
    assert.equal(plain.distribution, undefined, 'no distributionId: no trust read')
    assert.ok(!plain.checks.some((c: { name: string }) => c.name === 'trust'), 'no trust check')
  })
})

describe('configuration: distributions.<name>.distributionId and account', () => {
  const withTrust = (dist: Record<string, unknown>, aws?: Record<string, unknown>) => ({
    distributions: { media: { domain: 'd111111abcdef8.cloudfront.net', ...dist } },
    ...(aws && { aws }),
  })
  const ACCOUNTS = { accounts: { main: { region: 'us-east-1' } } }

  it('accepts a distributionId with a configured account, or the default one', (t) => {
    assert.equal(testConfig(t, withTrust({ distributionId: 'EDFDVBD632BHDS5', account: 'main' }, ACCOUNTS)).distributions.media.account, 'main')
    assert.equal(testConfig(t, withTrust({ distributionId: 'EDFDVBD632BHDS5' }, ACCOUNTS)).distributions.media.distributionId, 'EDFDVBD632BHDS5')
  })

  it('stops the start on an unknown account, an account without distributionId, or a distributionId without AWS', (t) => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['unknown account', withTrust({ distributionId: 'EDFDVBD632BHDS5', account: 'other' }, ACCOUNTS), 'distributions.media.account:'],
      ['account alone', withTrust({ account: 'main' }, ACCOUNTS), 'distributions.media.account:'],
      ['no AWS accounts', withTrust({ distributionId: 'EDFDVBD632BHDS5' }), 'distributions.media.distributionId:'],
      ['malformed ID', withTrust({ distributionId: 'edfd-1' }, ACCOUNTS), 'distributions.media.distributionId'],
    ]
    for (const [label, input, field] of cases) {
      assert.throws(() => testConfig(t, input), (err: Error & { problems?: string[] }) => {
        assert.ok(err.problems?.some((p) => p.startsWith(field)), `${label}: ${err.message}`)
        return true
      })
    }
  })
})
