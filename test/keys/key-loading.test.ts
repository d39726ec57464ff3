// Every way a signing key can fail to serve, through the loader and through app start (which must
// refuse to start, naming the file and the reason), the formats that must load, and GET /v1/keys.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load.js'
import { loadKeyDirectory, loadSigningKey } from '../../src/signing/keys.js'
import { build, TEST_DISTRIBUTIONS } from '../support/build.js'
import { sharedApp } from '../support/shared-app.js'
import { EC_KEY_ID, EC_PEM, exportPem, generatePem, LEGACY_KEY_ID, makeKeyDir, RSA_KEY_ID, RSA_PEM, vectorKeyFiles } from '../support/keys.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'

const KEY_ID = 'KTESTKEY000001'
const PASSPHRASE = 'correct horse battery staple'
const defaultApp = sharedApp()

function keyDir(t: TestContext, files: Record<string, string>): string {
  const { dir, cleanup } = makeKeyDir(files)
  t.after(cleanup)
  return dir
}

function configFor(dir: string, keys: { activeKeyId?: string; passphraseFile?: string } = { activeKeyId: KEY_ID }) {
  return loadConfig({ production: true, input: { auth: { jwt: { secret: TEST_JWT_SECRET } }, keys: { dir, ...keys }, distributions: TEST_DISTRIBUTIONS } })
}

/** The failure must surface both from the loader and as a refused start naming the file. */
async function assertKeyFailure(t: TestContext, files: Record<string, string>, code: string, options: { passphrase?: string; prepare?: (dir: string) => void } = {}) {
  const dir = keyDir(t, files)
  options.prepare?.(dir)
  const file = join(dir, `${KEY_ID}.pem`)
  assert.throws(() => loadSigningKey(file, options.passphrase), (err: Error & { code?: string }) => {
    assert.equal(err.code, code)
    assert.match(err.message, new RegExp(`^${KEY_ID}\\.pem: `))
    return true
  })
  const { keys, errors } = loadKeyDirectory(dir, options.passphrase)
  assert.equal(keys.size, 0)
  assert.deepEqual(errors.map((e) => e.code), [code])

  let passphraseFile: string | undefined
  if (options.passphrase !== undefined) {
    passphraseFile = join(keyDir(t, {}), 'passphrase')
    writeFileSync(passphraseFile, `${options.passphrase}\n`)
  }
  await assert.rejects(buildApp({ config: configFor(dir, { activeKeyId: KEY_ID, passphraseFile }) }), (err: Error & { code?: string }) => {
    assert.equal(err.code, code)
    assert.ok(err.message.includes(`${KEY_ID}.pem`), `the start error names the file: ${err.message}`)
    return true
  })
}

function truncate(pem: string): string {
  return pem.slice(0, pem.indexOf('-----END'))
}

describe('signing keys: failures stop the start with the file and the reason', () => {
  it('a missing file: KEY_FILE_MISSING (a dangling link for the active key stops the start)', async (t) => {
    const dir = keyDir(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    assert.throws(() => loadSigningKey(join(dir, `${KEY_ID}.pem`)), { code: 'KEY_FILE_MISSING', message: /^KTESTKEY000001\.pem: / })
    symlinkSync(join(dir, '..data', 'gone.pem'), join(dir, `${KEY_ID}.pem`))
    await assert.rejects(buildApp({ config: configFor(dir) }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_FILE_MISSING')
      assert.ok(err.message.includes(`${KEY_ID}.pem`), err.message)
      return true
    })
  })

  it('an unreadable file (a directory under a key name): KEY_FILE_UNREADABLE', async (t) => {
    await assertKeyFailure(t, {}, 'KEY_FILE_UNREADABLE', { prepare: (dir) => mkdirSync(join(dir, `${KEY_ID}.pem`)) })
  })

  it('not PEM at all ("no start line"): KEY_NOT_PEM', async (t) => {
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: 'APKAEIBAERJR2EXAMPLE\n' }, 'KEY_NOT_PEM')
  })

  it('an empty file: KEY_NOT_PEM', async (t) => {
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: '' }, 'KEY_NOT_PEM')
  })

  it('a truncated PEM ("bad end line"): KEY_NOT_PEM', async (t) => {
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: truncate(RSA_PEM) }, 'KEY_NOT_PEM')
  })

  it('a PEM whose body is damaged: KEY_INVALID', async (t) => {
    const lines = RSA_PEM.trim().split('\n')
    const damaged = [lines[0], ...lines.slice(3)].join('\n')
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: damaged }, 'KEY_INVALID')
  })

  it('a public key: KEY_IS_PUBLIC', async (t) => {
    const publicPem = createPublicKey(RSA_PEM).export({ type: 'spki', format: 'pem' }).toString()
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: publicPem }, 'KEY_IS_PUBLIC')
  })

  it('an RSA public key in PKCS#1 form: KEY_IS_PUBLIC', async (t) => {
    const publicPem = createPublicKey(RSA_PEM).export({ type: 'pkcs1', format: 'pem' }).toString()
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: publicPem }, 'KEY_IS_PUBLIC')
  })

  it('an RSA 1024 key: KEY_UNSUPPORTED', async (t) => {
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: generatePem('rsa', { modulusLength: 1024 }) }, 'KEY_UNSUPPORTED')
  })

  it('an ECDSA P-384 key: KEY_UNSUPPORTED', async (t) => {
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: generatePem('ec', { namedCurve: 'secp384r1' }) }, 'KEY_UNSUPPORTED')
  })

  it('an Ed25519 key: KEY_UNSUPPORTED', async (t) => {
    const { privateKey } = generateKeyPairSync('ed25519')
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: exportPem(privateKey) }, 'KEY_UNSUPPORTED')
  })

  it('an encrypted key without a passphrase: KEY_ENCRYPTED', async (t) => {
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: generatePem('ec', { passphrase: PASSPHRASE }) }, 'KEY_ENCRYPTED')
  })

  it('an encrypted traditional (Proc-Type) PKCS#1 key without a passphrase: KEY_ENCRYPTED', async (t) => {
    const pem = createPrivateKeyPem('pkcs1', PASSPHRASE)
    assert.match(pem, /Proc-Type: 4,ENCRYPTED/)
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: pem }, 'KEY_ENCRYPTED')
  })

  it('an encrypted key with the wrong passphrase: KEY_BAD_PASSPHRASE', async (t) => {
    await assertKeyFailure(t, { [`${KEY_ID}.pem`]: generatePem('ec', { passphrase: PASSPHRASE }) }, 'KEY_BAD_PASSPHRASE', { passphrase: 'wrong' })
  })

  it('a file name that is not a key ID: KEY_BAD_NAME', async (t) => {
    for (const name of ['signing-key.pem', 'k2jcjmdehxqw5f.pem', 'K2.pem']) {
      const dir = keyDir(t, { [name]: RSA_PEM })
      assert.throws(() => loadSigningKey(join(dir, name)), { code: 'KEY_BAD_NAME' }, name)
      await assert.rejects(buildApp({ config: configFor(dir, {}) }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'KEY_BAD_NAME')
        assert.ok(err.message.includes(name), err.message)
        return true
      })
    }
  })

  it('an activeKeyId with no file: KEY_FILE_MISSING naming the file', async (t) => {
    const dir = keyDir(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    await assert.rejects(buildApp({ config: configFor(dir, { activeKeyId: 'KNOTTHERE00001' }) }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_FILE_MISSING')
      assert.match(err.message, /KNOTTHERE00001\.pem/)
      return true
    })
  })

  it('an empty keys directory, or a missing one: KEY_FILE_MISSING', async (t) => {
    const empty = keyDir(t, { 'README.txt': 'keys go here' })
    await assert.rejects(buildApp({ config: configFor(empty, {}) }), { code: 'KEY_FILE_MISSING' })
    const missing = join(empty, 'no-such-dir')
    assert.throws(() => loadKeyDirectory(missing), { code: 'KEY_FILE_MISSING' })
    await assert.rejects(buildApp({ config: configFor(missing, {}) }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_FILE_MISSING')
      assert.match(err.message, /^keys\.dir: no-such-dir: /)
      return true
    })
  })

  it('several keys and no activeKeyId: the start is refused naming keys.activeKeyId', async (t) => {
    const dir = keyDir(t, vectorKeyFiles())
    await assert.rejects(buildApp({ config: configFor(dir, {}) }), { code: 'KEY_ACTIVE_UNSET', message: /keys\.activeKeyId/ })
  })
})

function createPrivateKeyPem(type: 'pkcs1' | 'sec1', passphrase?: string): string {
  const { privateKey } = type === 'pkcs1' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return privateKey
    .export(passphrase !== undefined ? { type, format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type, format: 'pem' })
    .toString()
}

describe('signing keys: the formats CloudFront keys come in load', () => {
  it('PKCS#1 RSA ("BEGIN RSA PRIVATE KEY") and SEC1 EC ("BEGIN EC PRIVATE KEY")', async (t) => {
    const pkcs1 = createPrivateKeyPem('pkcs1')
    const sec1 = createPrivateKeyPem('sec1')
    assert.match(pkcs1, /-----BEGIN RSA PRIVATE KEY-----/)
    assert.match(sec1, /-----BEGIN EC PRIVATE KEY-----/)
    const dir = keyDir(t, { 'KPKCS1RSA00001.pem': pkcs1, 'KSEC1EC000001.pem': sec1 })
    assert.equal(loadSigningKey(join(dir, 'KPKCS1RSA00001.pem')).algorithm, 'RSA')
    assert.equal(loadSigningKey(join(dir, 'KSEC1EC000001.pem')).algorithm, 'ECDSA')
    const app = await build(t, { config: configFor(dir, { activeKeyId: 'KSEC1EC000001' }) })
    assert.deepEqual(app.keyStore.list().map((k) => k.id).sort(), ['KPKCS1RSA00001', 'KSEC1EC000001'])
  })

  it('PKCS#8 with CRLF line endings, or with the attribute lines openssl pkcs12 puts before it', (t) => {
    const crlf = RSA_PEM.replace(/\n/g, '\r\n')
    const withBagAttributes = `Bag Attributes\n    localKeyID: 01 00 00 00\nKey Attributes: <No Attributes>\n${EC_PEM}`
    const dir = keyDir(t, { [`${RSA_KEY_ID}.pem`]: crlf, [`${EC_KEY_ID}.pem`]: withBagAttributes })
    assert.ok(loadSigningKey(join(dir, `${RSA_KEY_ID}.pem`)).publicKey.equals(createPublicKey(RSA_PEM)), 'loadSigningKey(join(dir, `${RSA_KEY_ID}.pem`)).publicKey.equals(createPublicKey(RSA_PEM))')
    assert.ok(loadSigningKey(join(dir, `${EC_KEY_ID}.pem`)).publicKey.equals(createPublicKey(EC_PEM)), 'loadSigningKey(join(dir, `${EC_KEY_ID}.pem`)).publicKey.equals(createPublicKey(EC_PEM))')
  })

  it('encrypted keys load with the right passphrase from keys.passphraseFile (PKCS#8 and traditional PKCS#1)', async (t) => {
    const dir = keyDir(t, { [`${KEY_ID}.pem`]: generatePem('ec', { passphrase: PASSPHRASE }), 'KPKCS1ENC00001.pem': createPrivateKeyPem('pkcs1', PASSPHRASE) })
    const passphraseFile = join(keyDir(t, {}), 'passphrase')
    writeFileSync(passphraseFile, `${PASSPHRASE}\n`)
    const app = await build(t, { config: configFor(dir, { activeKeyId: KEY_ID, passphraseFile }) })
    assert.equal(app.keyStore.active().id, KEY_ID)
    assert.equal(app.keyStore.get('KPKCS1ENC00001')?.algorithm, 'RSA')
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    assert.equal(res.statusCode, 200)
    assert.equal(res.json().keyId, KEY_ID)
  })

  it('hidden entries (a Kubernetes secret volume\'s ..data) and non-.pem files are skipped', (t) => {
    const dir = keyDir(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, '.hidden.pem': 'not a key', 'notes.txt': 'not a key' })
    mkdirSync(join(dir, '..data'))
    const { keys, errors } = loadKeyDirectory(dir)
    assert.deepEqual([...keys.keys()], [RSA_KEY_ID])
    assert.deepEqual(errors, [])
  })
})

describe('GET /v1/keys', () => {
  it('lists IDs, algorithm, public PEM, SHA-256 fingerprint and the active flag', async () => {
    const app = await defaultApp()
    const res = await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(makeToken({ sub: 'ops', scope: 'admin:read' })) })
    assert.equal(res.statusCode, 200)
    const body = res.json() as { activeKeyId: string; keys: Array<Record<string, unknown>> }
    assert.equal(body.activeKeyId, RSA_KEY_ID)
    const byId = Object.fromEntries(body.keys.map((k) => [k.keyId, k]))
    assert.deepEqual(Object.keys(byId).sort(), [EC_KEY_ID, LEGACY_KEY_ID, RSA_KEY_ID].sort())
    for (const [id, pem, algorithm] of [[RSA_KEY_ID, RSA_PEM, 'RSA'], [LEGACY_KEY_ID, RSA_PEM, 'RSA'], [EC_KEY_ID, EC_PEM, 'ECDSA']] as const) {
      const key = byId[id]
      assert.deepEqual(Object.keys(key).sort(), ['active', 'algorithm', 'fingerprintSha256', 'keyId', 'publicKeyPem'])
      assert.equal(key.algorithm, algorithm)
      assert.equal(key.active, id === RSA_KEY_ID)
      const expected = createPublicKey(pem)
      assert.ok(createPublicKey(key.publicKeyPem as string).equals(expected), `${id}: the public half of its private key`)
      const der = expected.export({ type: 'spki', format: 'der' })
      assert.equal(key.fingerprintSha256, createHash('sha256').update(der).digest('hex'))
    }
  })

  it('never answers private material', async () => {
    const app = await defaultApp()
    const res = await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer() })
    assert.equal(res.statusCode, 200)
    assert.doesNotMatch(res.body, /PRIVATE/)
    // The private components (RSA d, p, q; EC d) in every encoding they could leak in.
    for (const pem of [RSA_PEM, EC_PEM]) {
      const jwk = createPrivateKey(pem).export({ format: 'jwk' })
      for (const part of [jwk.d, jwk.p, jwk.q].filter((v): v is string => v !== undefined)) {
        const bytes = Buffer.from(part, 'base64url')
        for (const encoded of [part, bytes.toString('base64').slice(0, 40), bytes.toString('hex').slice(0, 40)]) {
          assert.ok(!res.body.includes(encoded), 'no private key component')
        }
      }
    }
  })

  it('needs a token with sign or admin:read', async () => {
    const app = await defaultApp()
    assert.equal((await app.inject({ method: 'GET', url: '/v1/keys' })).json().code, 'UNAUTHORIZED')
    const res = await app.inject({ method: 'GET', url: '/v1/keys', headers: bearer(makeToken({ sub: 'x', scope: 'sign:wildcard' })) })
    assert.equal(res.statusCode, 403)
    assert.equal(res.json().code, 'FORBIDDEN_SCOPE')
  })
})
