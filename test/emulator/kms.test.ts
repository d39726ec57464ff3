// KMS in the emulator, through the real SDK client and the real AWS CLI. Every signature is checked with
// node:crypto against the public key GetPublicKey returns, never with the emulator's own Verify alone.
import assert from 'node:assert/strict'
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ListAliasesCommand,
  SignCommand,
  VerifyCommand,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms'
import { createCloudFrontEmulator } from '../../src/dev/emulator/index.js'
import { createKmsClient, startEmulatorProcess } from '../support/emulator.js'
import { AWS_CLI_HOME, awsJson, runAws } from '../support/aws-cli.js'
import { needs } from '../support/tools.js'
import { rejectsWith, startEmulatorCli, uniqueReference, useEmulator } from './helpers.js'

async function publicKeyOf(kms: KMSClient, KeyId: string): Promise<KeyObject> {
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId }))
  assert.ok(PublicKey, 'GetPublicKey answers a public key')
  return createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' })
}

const HASH_OF: Record<string, 'sha256' | 'sha384' | 'sha512'> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }

/** Checks a KMS signature the way any verifier would, from the algorithm's name alone. */
function verifiesIndependently(algorithm: SigningAlgorithmSpec, message: Buffer, publicKey: KeyObject, signature: Uint8Array): boolean {
  const hash = HASH_OF[algorithm.slice(-3)]
  assert.ok(hash, `a hash for ${algorithm}`)
  // KMS's PSS salt is as long as the digest.
  const pss = algorithm.startsWith('RSASSA_PSS') ? { padding: 6, saltLength: Number(algorithm.slice(-3)) / 8 } : {}
  return verify(hash, message, { key: publicKey, ...pss, dsaEncoding: 'der' }, signature)
}

const RSA_ALGORITHMS: SigningAlgorithmSpec[] = [
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
]

describe('KMS through the SDK', () => {
  const context = useEmulator()
  let kms: KMSClient
  before(() => {
    kms = createKmsClient(context.endpoint)
  })
  after(() => kms.destroy())

  it('creates an RSA_2048 signing key and describes it as KMS does', async () => {
    const created = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Description: 'cf-signer test' }))
    const metadata = created.KeyMetadata
    assert.ok(metadata?.KeyId, 'CreateKey answers a key id')
    assert.equal(metadata.Arn, `arn:aws:kms:us-east-1:000000000000:key/${metadata.KeyId}`)
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: metadata.KeyId }))).KeyMetadata
    assert.equal(described?.KeySpec, 'RSA_2048')
    assert.equal(described?.KeyUsage, 'SIGN_VERIFY')
    assert.equal(described?.KeyState, 'Enabled')
    assert.equal(described?.Enabled, true)
    assert.equal(described?.Description, 'cf-signer test')
    assert.ok(described?.CreationDate instanceof Date, 'CreationDate is a timestamp')
    assert.deepEqual([...(described?.SigningAlgorithms ?? [])].sort(), [...RSA_ALGORITHMS].sort())
    assert.equal(described?.EncryptionAlgorithms, undefined, 'a signing key lists no encryption algorithms')
  })

  it('signs with every RSA algorithm (RAW, and DIGEST for PKCS#1 v1.5), and node:crypto verifies each signature', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
    const KeyId = KeyMetadata!.KeyId!
    const publicKey = await publicKeyOf(kms, KeyId)
    assert.equal(publicKey.asymmetricKeyType, 'rsa')
    assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 2048)
    const message = Buffer.from('the message KMS signs')
    for (const algorithm of RSA_ALGORITHMS) {
      const digest = createHash(HASH_OF[algorithm.slice(-3)]!).update(message).digest()
      for (const [MessageType, Message] of [['RAW', message], ['DIGEST', digest]] as const) {
        if (MessageType === 'DIGEST' && algorithm.startsWith('RSASSA_PSS')) {
          await assert.rejects(kms.send(new SignCommand({ KeyId, Message, MessageType, SigningAlgorithm: algorithm })), { name: 'UnsupportedOperationException' }, `${algorithm} DIGEST`)
          continue
        }
        const signed = await kms.send(new SignCommand({ KeyId, Message, MessageType, SigningAlgorithm: algorithm }))
        assert.equal(signed.KeyId, KeyMetadata!.Arn, 'Sign answers the key ARN')
        assert.equal(signed.SigningAlgorithm, algorithm)
        assert.equal(signed.Signature?.length, 256, `${algorithm} ${MessageType}: one modulus long`)
        assert.ok(verifiesIndependently(algorithm, message, publicKey, signed.Signature!), `${algorithm} ${MessageType} verifies with node:crypto`)
        const checked = await kms.send(new VerifyCommand({ KeyId, Message, MessageType, SigningAlgorithm: algorithm, Signature: signed.Signature }))
        assert.equal(checked.SignatureValid, true, `${algorithm} ${MessageType} verifies with KMS Verify`)
      }
    }
  })

  it('signs with ECC_NIST_P256 (RAW; DIGEST is refused), as DER signatures node:crypto verifies', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    const KeyId = KeyMetadata!.Arn!
    assert.deepEqual(KeyMetadata?.SigningAlgorithms, ['ECDSA_SHA_256'])
    const publicKey = await publicKeyOf(kms, KeyId)
    assert.equal(publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
    const message = Buffer.from('an ECDSA message')
    const digest = createHash('sha256').update(message).digest()
    await assert.rejects(kms.send(new SignCommand({ KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })), { name: 'UnsupportedOperationException' })
    for (const [MessageType, Message] of [['RAW', message]] as const) {
      const { Signature } = await kms.send(new SignCommand({ KeyId, Message, MessageType, SigningAlgorithm: 'ECDSA_SHA_256' }))
      assert.equal(Signature?.[0], 0x30, `${MessageType}: a DER SEQUENCE, not r||s`)
      assert.ok(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, Signature!), `ECDSA ${MessageType} verifies with node:crypto`)
      const checked = await kms.send(new VerifyCommand({ KeyId, Message, MessageType, SigningAlgorithm: 'ECDSA_SHA_256', Signature }))
      assert.equal(checked.SignatureValid, true, `ECDSA ${MessageType} verifies with KMS Verify`)
    }
  })

  it('signs a CloudFront policy so that the CloudFront rule (SHA-256 over the policy bytes) verifies it', async () => {
    const { emulator } = context
    const policy = JSON.stringify({
      Statement: [{ Resource: 'https://d111111abcdef8.cloudfront.net/videos/*', Condition: { DateLessThan: { 'AWS:EpochTime': 1767225600 } } }],
    })
    for (const [keySpec, SigningAlgorithm] of [['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256'], ['ECC_NIST_P256', 'ECDSA_SHA_256']] as const) {
      const created = emulator.createKmsKey({ keySpec, alias: uniqueReference(`cloudfront-${keySpec.toLowerCase()}`) })
      const publicKey = await publicKeyOf(kms, created.alias!)
      assert.equal(publicKey.export({ format: 'pem', type: 'spki' }), created.publicKeyPem, 'createKmsKey answers the key GetPublicKey serves')
      const { Signature } = await kms.send(new SignCommand({ KeyId: created.alias, Message: Buffer.from(policy), MessageType: 'RAW', SigningAlgorithm }))
      // CloudFront's URL form (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-custom-policy.html) and back.
      const urlSafe = Buffer.from(Signature!).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~')
      const decoded = Buffer.from(urlSafe.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64')
      assert.ok(verify('sha256', Buffer.from(policy, 'utf8'), { key: publicKey, dsaEncoding: 'der' }, decoded), `${keySpec}: the policy signature verifies`)
      if (keySpec !== 'RSA_2048') continue
      const digest = createHash('sha256').update(policy).digest()
      const overDigest = await kms.send(new SignCommand({ KeyId: created.arn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm }))
      assert.ok(verify('sha256', Buffer.from(policy), { key: publicKey, dsaEncoding: 'der' }, overDigest.Signature!), `${keySpec}: DIGEST over SHA-256(policy) verifies too`)
    }
  })

  it('finds a key by id, key ARN, alias name and alias ARN', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    const AliasName = `alias/${uniqueReference('resolve')}`
    await kms.send(new CreateAliasCommand({ AliasName, TargetKeyId: KeyMetadata!.KeyId }))
    const aliasArn = `arn:aws:kms:us-east-1:000000000000:${AliasName}`
    for (const KeyId of [KeyMetadata!.KeyId!, KeyMetadata!.Arn!, AliasName, aliasArn]) {
      const described = await kms.send(new DescribeKeyCommand({ KeyId }))
      assert.equal(described.KeyMetadata?.KeyId, KeyMetadata!.KeyId, `${KeyId} finds the key`)
    }
  })

  it('answers NotFoundException for a key or alias that does not exist', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
    const otherAccount = KeyMetadata!.Arn!.replace(':000000000000:', ':111111111111:')
    for (const KeyId of ['0b5c6f41-0000-4000-8000-000000000000', 'alias/none-such', 'arn:aws:kms:us-east-1:000000000000:alias/none-such', otherAccount]) {
      const error = await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId })), 'NotFoundException', 400)
      assert.equal(error.$fault, 'client')
      await rejectsWith(kms.send(new SignCommand({ KeyId, Message: Buffer.from('x'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })), 'NotFoundException', 400)
    }
  })

  it('lists aliases, filtered by key, and refuses a duplicate or reserved alias', async () => {
    const first = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
    const second = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    const names = [`alias/${uniqueReference('a')}`, `alias/${uniqueReference('b')}`]
    await kms.send(new CreateAliasCommand({ AliasName: names[0], TargetKeyId: first.KeyMetadata!.KeyId }))
    await kms.send(new CreateAliasCommand({ AliasName: names[1], TargetKeyId: second.KeyMetadata!.Arn }))
    const all = await kms.send(new ListAliasesCommand({}))
    assert.deepEqual(names.map((name) => all.Aliases?.find((alias) => alias.AliasName === name)?.TargetKeyId), [first.KeyMetadata!.KeyId, second.KeyMetadata!.KeyId])
    assert.equal(all.Truncated, false)
    const filtered = await kms.send(new ListAliasesCommand({ KeyId: second.KeyMetadata!.KeyId }))
    assert.deepEqual(filtered.Aliases?.map((alias) => [alias.AliasName, alias.AliasArn]), [[names[1], `arn:aws:kms:us-east-1:000000000000:${names[1]}`]])
    const firstPage = await kms.send(new ListAliasesCommand({ Limit: 1 }))
    assert.equal(firstPage.Aliases?.length, 1)
    assert.equal(firstPage.Truncated, true)
    const rest = await kms.send(new ListAliasesCommand({ Marker: firstPage.NextMarker }))
    assert.equal((rest.Aliases?.length ?? 0) + 1, all.Aliases?.length, 'the pages hold every alias')
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: names[0], TargetKeyId: second.KeyMetadata!.KeyId })), 'AlreadyExistsException', 400)
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'no-prefix', TargetKeyId: first.KeyMetadata!.KeyId })), 'ValidationException', 400)
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: first.KeyMetadata!.KeyId })), 'NotAuthorizedException', 400)
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: `alias/${uniqueReference('c')}`, TargetKeyId: names[0] })), 'ValidationException', 400)
  })

  it('refuses an algorithm the key spec does not have, an unknown algorithm, and a digest of the wrong length', async () => {
    const rsa = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
    const ecc = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    const Message = Buffer.from('m')
    await rejectsWith(kms.send(new SignCommand({ KeyId: rsa.KeyMetadata!.KeyId, Message, SigningAlgorithm: 'ECDSA_SHA_256' })), 'InvalidKeyUsageException', 400)
    await rejectsWith(kms.send(new SignCommand({ KeyId: ecc.KeyMetadata!.KeyId, Message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })), 'InvalidKeyUsageException', 400)
    await rejectsWith(kms.send(new SignCommand({ KeyId: ecc.KeyMetadata!.KeyId, Message, SigningAlgorithm: 'ECDSA_SHA_999' as SigningAlgorithmSpec })), 'ValidationException', 400)
    await rejectsWith(
      kms.send(new SignCommand({ KeyId: rsa.KeyMetadata!.KeyId, Message, MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })),
      'ValidationException',
      400,
    )
    await rejectsWith(kms.send(new SignCommand({ KeyId: rsa.KeyMetadata!.KeyId, Message: Buffer.alloc(4097), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })), 'ValidationException', 400)
    await rejectsWith(kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCRYPT_DECRYPT' })), 'ValidationException', 400)
    const unknown = await fetch(context.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'TrentService.Encrypt', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    })
    assert.equal(unknown.status, 400)
    assert.equal(((await unknown.json()) as { __type: string }).__type, 'UnknownOperationException')
  })

  it('answers KMSInvalidSignatureException from Verify for a signature over other bytes', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
    const KeyId = KeyMetadata!.KeyId!
    const SigningAlgorithm = 'RSASSA_PKCS1_V1_5_SHA_256'
    const { Signature } = await kms.send(new SignCommand({ KeyId, Message: Buffer.from('signed'), SigningAlgorithm }))
    await rejectsWith(kms.send(new VerifyCommand({ KeyId, Message: Buffer.from('tampered'), SigningAlgorithm, Signature })), 'KMSInvalidSignatureException', 400)
  })

  it('creates the key kinds a signer must refuse: RSA ENCRYPT_DECRYPT and SYMMETRIC_DEFAULT, which cannot Sign', async () => {
    const encrypting = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))
    assert.equal(encrypting.KeyMetadata?.KeyUsage, 'ENCRYPT_DECRYPT')
    assert.deepEqual(encrypting.KeyMetadata?.EncryptionAlgorithms, ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'])
    assert.equal(encrypting.KeyMetadata?.SigningAlgorithms, undefined, 'an encryption key lists no signing algorithms')
    const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: encrypting.KeyMetadata!.KeyId }))
    assert.equal(publicKey.KeyUsage, 'ENCRYPT_DECRYPT')
    assert.ok(publicKey.PublicKey && publicKey.PublicKey.length > 0, 'an RSA encryption key has a public key')
    const symmetric = await kms.send(new CreateKeyCommand({}))
    assert.equal(symmetric.KeyMetadata?.KeySpec, 'SYMMETRIC_DEFAULT', 'CreateKey defaults to a symmetric key, as KMS does')
    assert.equal(symmetric.KeyMetadata?.KeyUsage, 'ENCRYPT_DECRYPT')
    await rejectsWith(kms.send(new GetPublicKeyCommand({ KeyId: symmetric.KeyMetadata!.KeyId })), 'UnsupportedOperationException', 400)
    for (const key of [encrypting, symmetric]) {
      await rejectsWith(
        kms.send(new SignCommand({ KeyId: key.KeyMetadata!.KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })),
        'InvalidKeyUsageException',
        400,
      )
    }
  })

  it('takes the region of a key ARN from the client', async () => {
    const client = createKmsClient(context.endpoint, { region: 'eu-west-3' })
    const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    assert.match(KeyMetadata?.Arn ?? '', /^arn:aws:kms:eu-west-3:000000000000:key\//)
    client.destroy()
  })
})

describe('KMS options, faults and counters', () => {
  const context = useEmulator()
  let kms: KMSClient
  before(() => {
    kms = createKmsClient(context.endpoint)
  })
  after(() => kms.destroy())

  const sign = (KeyId: string) => kms.send(new SignCommand({ KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }))

  it('counts Sign calls, and a reset forgets keys and the count', async () => {
    const { emulator } = context
    emulator.reset()
    const { keyId } = emulator.createKmsKey({ keySpec: 'ECC_NIST_P256' })
    await sign(keyId)
    await sign(keyId)
    await kms.send(new DescribeKeyCommand({ KeyId: keyId }))
    assert.equal(emulator.kmsSignCount(), 2)
    emulator.reset()
    assert.equal(emulator.kmsSignCount(), 0)
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException', 400)
  })

  it('throttles every Nth Sign with ThrottlingException, which the SDK retries', async () => {
    const { emulator, endpoint } = context
    emulator.reset()
    emulator.configureKms({ kmsThrottleSignEvery: 2 })
    const { keyId } = emulator.createKmsKey({ keySpec: 'ECC_NIST_P256' })
    await sign(keyId)
    const error = await rejectsWith(sign(keyId), 'ThrottlingException', 400)
    assert.equal(error.message, 'Rate exceeded')
    await sign(keyId)
    const retrying = createKmsClient(endpoint, { maxAttempts: 3 })
    const retried = await retrying.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }))
    assert.equal(retried.$metadata.attempts, 2, 'the fourth Sign is throttled, its retry (the fifth) is not')
    retrying.destroy()
    assert.equal(emulator.kmsSignCount(), 5, 'throttled calls count too')
    emulator.configureKms({ kmsThrottleSignEvery: 0 })
    assert.throws(() => emulator.configureKms({ kmsThrottleSignEvery: -1 }), TypeError)
  })

  it('delays each Sign by the latency without holding up other calls', async () => {
    const { emulator } = context
    const latencyMs = 300
    emulator.configureKms({ kmsSignLatencyMs: latencyMs })
    const { keyId } = emulator.createKmsKey({ keySpec: 'RSA_2048' })
    const started = performance.now()
    let settled = false
    const called = emulator.nextCall('Sign')
    const signing = kms.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' })).finally(() => {
      settled = true
    })
    await called
    await kms.send(new DescribeKeyCommand({ KeyId: keyId }))
    assert.equal(settled, false, 'DescribeKey answered while the Sign still waited')
    await signing
    assert.ok(performance.now() - started >= latencyMs, 'the Sign waited at least the latency')
    emulator.configureKms({ kmsSignLatencyMs: 0 })
  })

  it('changes the latency and throttling over the control endpoint', async () => {
    const { emulator, endpoint } = context
    const post = (body: unknown) => fetch(`${endpoint}/__emulator/kms/options`, { method: 'POST', body: JSON.stringify(body) })
    const changed = await post({ kmsThrottleSignEvery: 1 })
    assert.equal(changed.status, 200)
    assert.deepEqual(await changed.json(), { kmsSignLatencyMs: 0, kmsThrottleSignEvery: 1 })
    const { keyId } = emulator.createKmsKey({ keySpec: 'ECC_NIST_P256' })
    await rejectsWith(sign(keyId), 'ThrottlingException', 400)
    assert.equal((await post({ kmsThrottleSignEvery: 0 })).status, 200)
    assert.equal((await sign(keyId)).$metadata.httpStatusCode, 200)
    const refused = await post({ kmsSignLatencyMs: '50' })
    assert.equal(refused.status, 400)
    assert.match(((await refused.json()) as { error: string }).error, /kmsSignLatencyMs/)
  })

  it('injects faults into KMS operations by name, answered in the JSON shape', async () => {
    const { emulator } = context
    const { keyId } = emulator.createKmsKey({ keySpec: 'ECC_NIST_P256' })
    emulator.injectFault({ operation: 'Sign', code: 'KMSInternalException', status: 500, message: 'boom' })
    const error = await rejectsWith(sign(keyId), 'KMSInternalException', 500)
    assert.equal(error.message, 'boom')
    assert.equal(error.$fault, 'server')
    emulator.injectFault({ operation: 'DescribeKey', code: 'ThrottlingException' })
    await rejectsWith(kms.send(new DescribeKeyCommand({ KeyId: keyId })), 'ThrottlingException', 400)
    const signed = await sign(keyId)
    assert.equal(signed.$metadata.httpStatusCode, 200, 'each fault fails one call')
  })

  it('creates keys and reads the Sign count over the control endpoint', async () => {
    const { emulator, endpoint } = context
    emulator.reset()
    const alias = `alias/${uniqueReference('control')}`
    const response = await fetch(`${endpoint}/__emulator/kms/keys`, { method: 'POST', body: JSON.stringify({ keySpec: 'RSA_2048', alias }) })
    assert.equal(response.status, 201)
    const created = (await response.json()) as { keyId: string; arn: string; alias: string; publicKeyPem: string }
    assert.equal(created.alias, alias)
    const { Signature } = await kms.send(new SignCommand({ KeyId: alias, Message: Buffer.from('m'), SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }))
    assert.ok(verify('sha256', Buffer.from('m'), createPublicKey(created.publicKeyPem), Signature!), 'the control endpoint answers the signing key')
    const listed = (await (await fetch(`${endpoint}/__emulator/kms`)).json()) as { signCount: number; keys: Array<{ keyId: string; aliases: string[] }> }
    assert.equal(listed.signCount, 1)
    assert.deepEqual(listed.keys.map((key) => [key.keyId, key.aliases]), [[created.keyId, [alias]]])
    const refused = await fetch(`${endpoint}/__emulator/kms/keys`, { method: 'POST', body: JSON.stringify({ keySpec: 'RSA_1024' }) })
    assert.equal(refused.status, 400)
    assert.match(((await refused.json()) as { error: string }).error, /ValidationException/)
    const badAlias = await fetch(`${endpoint}/__emulator/kms/keys`, { method: 'POST', body: JSON.stringify({ keySpec: 'RSA_2048', alias: 'alias/aws/reserved' }) })
    assert.equal(badAlias.status, 400)
    assert.equal(emulator.kmsSignCount(), 1)
    const remaining = (await (await fetch(`${endpoint}/__emulator/kms`)).json()) as { keys: unknown[] }
    assert.equal(remaining.keys.length, 1, 'a refused alias leaves no key behind')
  })

  it('rejects a negative latency when the emulator is created', () => {
    assert.throws(() => createCloudFrontEmulator({ kmsSignLatencyMs: -1 }), TypeError)
    assert.throws(() => createCloudFrontEmulator({ kmsThrottleSignEvery: 1.5 }), TypeError)
  })
})

describe('KMS keys in the state file', () => {
  it('keep signing with the same key after a restart, and a Sign does not rewrite the file', async (t) => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'cf-emulator-kms-')), 'state.json')
    const first = createCloudFrontEmulator({ stateFile })
    await first.listen()
    t.after(() => first.close())
    const created = first.createKmsKey({ keySpec: 'ECC_NIST_P256', alias: 'dev-signer' })
    assert.equal(created.alias, 'alias/dev-signer')
    const saved = readFileSync(stateFile, 'utf8')
    const firstClient = createKmsClient(first.url)
    await firstClient.send(new SignCommand({ KeyId: created.keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }))
    firstClient.destroy()
    assert.equal(readFileSync(stateFile, 'utf8'), saved, 'Sign changes nothing the file keeps')
    await first.close()

    const second = createCloudFrontEmulator({ stateFile })
    const endpoint = await second.listen()
    t.after(() => second.close())
    const client = createKmsClient(endpoint)
    t.after(() => client.destroy())
    const { Signature } = await client.send(new SignCommand({ KeyId: 'alias/dev-signer', Message: Buffer.from('after restart'), SigningAlgorithm: 'ECDSA_SHA_256' }))
    assert.ok(verify('sha256', Buffer.from('after restart'), createPublicKey(created.publicKeyPem!), Signature!), 'the restored key is the same key')
  })
})


describe('KMS through the AWS CLI, on the emulator process', needs('aws'), () => {
  let emulator: Awaited<ReturnType<typeof startEmulatorProcess>>
  let endpoint: string
  before(async () => {
    emulator = await startEmulatorProcess()
    endpoint = emulator.endpoint
  })
  after(() => {
    if (emulator.child.exitCode === null) emulator.child.kill('SIGTERM')
  })

  it('creates a key, aliases it, signs with it, and node:crypto verifies the signature with its public key', async () => {
    const messageFile = join(AWS_CLI_HOME, 'message.bin')
    writeFileSync(messageFile, 'signed by the aws cli')
    for (const [keySpec, algorithm] of [['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256'], ['ECC_NIST_P256', 'ECDSA_SHA_256']] as const) {
      const created = await awsJson(endpoint, ['kms', 'create-key', '--key-spec', keySpec, '--key-usage', 'SIGN_VERIFY'])
      const keyId: string = created.KeyMetadata.KeyId
      assert.equal(created.KeyMetadata.KeySpec, keySpec)
      const alias = `alias/${uniqueReference(`cli-${keySpec.toLowerCase()}`)}`
      const aliased = await runAws(endpoint, ['kms', 'create-alias', '--alias-name', alias, '--target-key-id', keyId])
      assert.equal(aliased.code, 0, aliased.stderr)
      const signed = await awsJson(endpoint, ['kms', 'sign', '--key-id', alias, '--message', `fileb://${messageFile}`, '--message-type', 'RAW', '--signing-algorithm', algorithm])
      assert.equal(signed.KeyId, created.KeyMetadata.Arn)
      const publicKey = await awsJson(endpoint, ['kms', 'get-public-key', '--key-id', keyId])
      assert.equal(publicKey.KeySpec, keySpec)
      const key = createPublicKey({ key: Buffer.from(publicKey.PublicKey, 'base64'), format: 'der', type: 'spki' })
      assert.ok(verify('sha256', readFileSync(messageFile), { key, dsaEncoding: 'der' }, Buffer.from(signed.Signature, 'base64')), `${keySpec}: the CLI's signature verifies`)
      const aliases = await awsJson(endpoint, ['kms', 'list-aliases', '--key-id', keyId])
      assert.deepEqual(aliases.Aliases.map((entry: { AliasName: string }) => entry.AliasName), [alias])
    }
  })

  it('prints a KMS error the way the CLI prints AWS errors', async () => {
    const result = await runAws(endpoint, ['kms', 'describe-key', '--key-id', 'alias/none-such'])
    assert.notEqual(result.code, 0, 'the CLI fails')
    assert.match(result.stderr, /NotFoundException/)
  })
})

describe('the emulator command line KMS options', () => {
  it('--kms-throttle-sign-every 1 throttles every Sign', async (t) => {
    const { endpoint } = await startEmulatorCli(t, ['--kms-throttle-sign-every', '1', '--kms-sign-latency-ms', '1'])
    const kms = createKmsClient(endpoint)
    t.after(() => kms.destroy())
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    await rejectsWith(kms.send(new SignCommand({ KeyId: KeyMetadata!.KeyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })), 'ThrottlingException', 400)
    const control = (await (await fetch(`${endpoint}/__emulator/kms`)).json()) as { signCount: number }
    assert.equal(control.signCount, 1)
  })
})
