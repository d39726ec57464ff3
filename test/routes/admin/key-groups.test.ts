import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { describe, it } from 'node:test'
import { GetPublicKeyCommand } from '@aws-sdk/client-cloudfront'
import { EC_KEY_ID, EC_PEM, RSA_KEY_ID, RSA_PEM } from '../../support/keys.js'
import { READ, adminApp, call, cloudFrontClient } from './helpers.js'

const spki = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('hex')

describe('POST /v1/admin/public-keys', () => {
  it("registers a loaded signing key's public key and answers CloudFront's public key ID", async (t) => {
    const { app, endpoint } = await adminApp(t)
    const res = await call(app, 'POST', '/public-keys', { body: { keyId: RSA_KEY_ID } })
    assert.equal(res.status, 201)
    assert.match(res.body.id, /^K[A-Z0-9]+$/)
    assert.equal(res.body.name, RSA_KEY_ID)
    assert.equal(res.headers.etag, `"${res.body.etag}"`)
    // CloudFront holds the public half of the loaded private key, and nothing else.
    const held = await cloudFrontClient(t, endpoint).send(new GetPublicKeyCommand({ Id: res.body.id }))
    const encodedKey = held.PublicKey?.PublicKeyConfig?.EncodedKey ?? ''
    assert.match(encodedKey, /^-----BEGIN PUBLIC KEY-----/)
    assert.equal(spki(encodedKey), spki(RSA_PEM))
    assert.doesNotMatch(JSON.stringify(res.body), /PRIVATE KEY/)
  })

  it('registers an ECDSA P-256 key with a chosen name and comment', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/public-keys', { body: { keyId: EC_KEY_ID, name: 'player-ec', comment: 'player signing key' } })
    assert.equal(res.status, 201)
    assert.deepEqual([res.body.name, res.body.comment], ['player-ec', 'player signing key'])
    assert.equal(spki(res.body.encodedKey), spki(EC_PEM))
  })

  it('answers 400 UNKNOWN_KEY for a key that is not loaded', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/public-keys', { body: { keyId: 'KNOTLOADED0001' } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'UNKNOWN_KEY')
  })

  it('answers a retry with the same Idempotency-Key by the key it registered', async (t) => {
    const { app } = await adminApp(t)
    const headers = { 'idempotency-key': 'register-K2JCJMDEHXQW5F' }
    const first = await call(app, 'POST', '/public-keys', { body: { keyId: RSA_KEY_ID }, headers })
    const replay = await call(app, 'POST', '/public-keys', { body: { keyId: RSA_KEY_ID }, headers })
    assert.deepEqual([replay.status, replay.body.id], [200, first.body.id])
    const other = await call(app, 'POST', '/public-keys', { body: { keyId: EC_KEY_ID, name: RSA_KEY_ID }, headers })
    assert.equal(other.status, 409)
    assert.equal(other.body.code, 'PublicKeyAlreadyExists')
    const list = await call(app, 'GET', '/public-keys', { headers: READ })
    assert.equal(list.body.items.length, 1)
  })
})

describe('GET /v1/admin/public-keys', () => {
  it('lists the registered keys a page at a time', async (t) => {
    const { app } = await adminApp(t)
    const rsa = await call(app, 'POST', '/public-keys', { body: { keyId: RSA_KEY_ID } })
    const ec = await call(app, 'POST', '/public-keys', { body: { keyId: EC_KEY_ID } })
    const first = await call(app, 'GET', '/public-keys?maxItems=1', { headers: READ })
    assert.deepEqual(first.body.items.map((k: { id: string }) => k.id), [rsa.body.id])
    const second = await call(app, 'GET', `/public-keys?maxItems=1&marker=${first.body.nextMarker}`, { headers: READ })
    assert.deepEqual(second.body.items.map((k: { id: string }) => k.id), [ec.body.id])
  })
})

describe('POST /v1/admin/key-groups', () => {
  it('creates a key group from public key IDs, and lists it', async (t) => {
    const { app } = await adminApp(t)
    const rsa = await call(app, 'POST', '/public-keys', { body: { keyId: RSA_KEY_ID } })
    const ec = await call(app, 'POST', '/public-keys', { body: { keyId: EC_KEY_ID } })
    const res = await call(app, 'POST', '/key-groups', { body: { name: 'cf-signer', publicKeyIds: [rsa.body.id, ec.body.id], comment: 'service keys' } })
    assert.equal(res.status, 201)
    assert.deepEqual(res.body.publicKeyIds, [rsa.body.id, ec.body.id])
    assert.deepEqual([res.body.name, res.body.comment], ['cf-signer', 'service keys'])
    const list = await call(app, 'GET', '/key-groups', { headers: READ })
    assert.deepEqual(list.body.items.map((g: { id: string }) => g.id), [res.body.id])
  })

  it('answers 409 KeyGroupAlreadyExists for a taken name; with an Idempotency-Key, the same group answers 200', async (t) => {
    const { app } = await adminApp(t)
    const key = await call(app, 'POST', '/public-keys', { body: { keyId: RSA_KEY_ID } })
    const body = { name: 'cf-signer', publicKeyIds: [key.body.id] }
    const headers = { 'idempotency-key': 'group-cf-signer' }
    const first = await call(app, 'POST', '/key-groups', { body, headers })
    const replay = await call(app, 'POST', '/key-groups', { body, headers })
    assert.deepEqual([replay.status, replay.body.id], [200, first.body.id])
    const taken = await call(app, 'POST', '/key-groups', { body })
    assert.equal(taken.status, 409)
    assert.equal(taken.body.code, 'KeyGroupAlreadyExists')
  })

  it("answers CloudFront's 400 for a public key it does not have", async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/key-groups', { body: { name: 'broken', publicKeyIds: ['K000000000000'] } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'InvalidArgument')
  })
})
