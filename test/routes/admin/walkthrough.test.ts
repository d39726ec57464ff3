// The README's operator walk-through, end to end against the local CloudFront: what the seeds did by
// hand (OAI, distribution, bucket grant, key, wait for Deployed), then a signed URL CloudFront accepts.
import assert from 'node:assert/strict'
import { createPublicKey, verify } from 'node:crypto'
import { describe, it } from 'node:test'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { build, testConfig } from '../../support/build.js'
import { RSA_KEY_ID, RSA_PEM, makeKeyDir } from '../../support/keys.js'
import { bearer, makeToken } from '../../support/tokens.js'
import { EMULATOR_CREDENTIALS, adminApp, call, s3Client } from './helpers.js'

describe('operator walk-through', () => {
  it('creates an OAI, a distribution, the bucket grant, a key group, waits for Deployed, then signs a URL for it', async (t) => {
    const { app, emulator, endpoint } = await adminApp(t, { emulator: { deploySeconds: 300 } })
    await s3Client(t, endpoint).send(new CreateBucketCommand({ Bucket: 'special-bucket-name' }))

    // 1. An origin access identity, and the bucket policy that lets it read.
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'special-bucket-name' } })
    assert.equal(oai.status, 201)
    const grant = await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: 'special-bucket-name' } })
    assert.equal(grant.body.changed, true)

    // 2. The distribution: the bucket behind the OAI, HTTPS, signed URLs required.
    const distribution = await call(app, 'POST', '/distributions', {
      headers: { 'idempotency-key': 'special-bucket-cdn' },
      body: { origin: { domainName: 'special-bucket-name.s3.amazonaws.com', originAccessIdentity: oai.body.id }, comment: 'private media' },
    })
    assert.equal(distribution.status, 201)

    // 3. The service's signing key in CloudFront, in a key group the distribution trusts.
    const key = await call(app, 'POST', '/public-keys', { body: { keyId: RSA_KEY_ID } })
    const group = await call(app, 'POST', '/key-groups', { body: { name: 'cf-signer', publicKeyIds: [key.body.id] } })
    const attached = await call(app, 'PATCH', `/distributions/${distribution.body.id}`, { body: { trustedKeyGroups: [group.body.id] } })
    assert.deepEqual(attached.body.activeTrustedKeyGroups, [{ keyGroupId: group.body.id, keyPairIds: [key.body.id] }])

    // 4. Wait until CloudFront has deployed it.
    void emulator.nextCall('GetDistribution').then(() => emulator.advanceClock(300))
    const deployed = await call(app, 'POST', `/distributions/${distribution.body.id}/wait`, { body: { timeoutSeconds: 60 } })
    assert.equal(deployed.body.status, 'Deployed')

    // 5. The key file takes CloudFront's public key ID as its name, the distribution goes in the
    //    configuration, and the restarted service signs URLs CloudFront can check with the key it holds.
    const keys = makeKeyDir({ [`${key.body.id}.pem`]: RSA_PEM })
    t.after(keys.cleanup)
    const signer = await build(t, {
      config: testConfig(t, {
        keys: { dir: keys.dir, activeKeyId: key.body.id },
        distributions: { media: { domain: deployed.body.domainName, allowedPaths: ['/videos/*'] } },
        aws: { accounts: { test: { region: 'us-east-1', endpoint } } },
      }),
      awsCredentials: EMULATOR_CREDENTIALS,
    })
    const signed = await signer.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: bearer(makeToken({ sub: 'player', scope: 'sign' })),
      payload: { distribution: 'media', path: '/videos/intro.mp4', expiresIn: 300 },
    })
    assert.equal(signed.statusCode, 200)
    const url = new URL(signed.json().url)
    assert.equal(url.host, deployed.body.domainName)
    assert.equal(url.searchParams.get('Key-Pair-Id'), key.body.id)

    const held = (await call(signer, 'GET', '/public-keys')).body.items.find((k: { id: string }) => k.id === key.body.id)
    // The canned policy CloudFront rebuilds from the URL, and its URL-safe base64 undone.
    const policy = JSON.stringify({ Statement: [{ Resource: `https://${url.host}${url.pathname}`, Condition: { DateLessThan: { 'AWS:EpochTime': Number(url.searchParams.get('Expires')) } } }] })
    const signature = Buffer.from(url.searchParams.get('Signature')!.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64')
    assert.ok(verify('sha1', Buffer.from(policy), createPublicKey(held.encodedKey), signature), 'CloudFront verifies the signature with the key it holds')
  })
})
