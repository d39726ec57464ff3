import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../src/app.js'
import { diffKeySets, retireKeys, type RetiredKey } from '../../src/keys/store.js'
import { fingerprintKeyDirectory, loadSigningKey, type SigningKey } from '../../src/signing/keys.js'
import { build, captureLogs, testConfig, TEST_NOW_MS } from '../support/build.js'
import { EC_KEY_ID, EC_PEM, LEGACY_KEY_ID, RSA_KEY_ID, RSA_PEM } from '../support/keys.js'
import { makeSecretVolume, type SecretVolume } from '../support/secret-volume.js'
import { waitFor } from '../support/wait.js'
import { bearer } from '../support/tokens.js'

// "Within a few seconds" in production (5 s checks); here the checks run every 0.2 s.
const NOTICE_WITHIN_MS = 3000
const RETENTION_SECONDS = 3600

function volume(t: TestContext, files: Record<string, string>): SecretVolume {
  const secret = makeSecretVolume(files)
  t.after(secret.cleanup)
  return secret
}

function keysConfig(secret: SecretVolume, keys: Record<string, unknown> = {}) {
  return { keys: { dir: secret.dir, activeKeyId: undefined, reloadIntervalSeconds: 0.2, retiredKeyRetentionSeconds: RETENTION_SECONDS, ...keys } }
}

async function signedKeyId(app: Awaited<ReturnType<typeof build>>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4' } })
  assert.equal(res.statusCode, 200, res.body)
  return res.json().keyId
}

async function readiness(app: Awaited<ReturnType<typeof build>>) {
  const res = await app.inject({ url: '/readyz' })
  return { statusCode: res.statusCode, body: res.json() }
}

describe('key store: reloading a Kubernetes secret volume', () => {
  it('notices an atomic ..data swap within seconds and signs with the new active key', async (t) => {
    const secret = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const app = await build(t, { configInput: keysConfig(secret) })
    assert.equal(await signedKeyId(app), RSA_KEY_ID)

    secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM, active: `${EC_KEY_ID}\n` })
    await waitFor(() => app.keyStore.active().id === EC_KEY_ID, NOTICE_WITHIN_MS, 'the new active key')
    assert.equal(await signedKeyId(app), EC_KEY_ID)
    assert.deepEqual(app.keyStore.list().map((k) => k.id).sort(), [EC_KEY_ID, RSA_KEY_ID].sort())
    const ready = await readiness(app)
    assert.equal(ready.statusCode, 200)
    assert.equal(ready.body.keys.activeKeyId, EC_KEY_ID)
    assert.equal(ready.body.keys.loaded, 2)
    assert.equal(ready.body.keys.lastReloadError, null)
  })

  it('notices a swap through the directory watcher alone (periodic check an hour away)', async (t) => {
    const secret = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const app = await build(t, { configInput: keysConfig(secret, { reloadIntervalSeconds: 3600 }) })
    secret.update({ [`${EC_KEY_ID}.pem`]: EC_PEM })
    await waitFor(() => app.keyStore.active().id === EC_KEY_ID, 1000, 'the watcher to pick up the swap')
  })

  it('lets the active file switch the active key, overriding keys.activeKeyId', async (t) => {
    const both = { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM }
    const secret = volume(t, { ...both, active: EC_KEY_ID })
    const app = await build(t, { configInput: keysConfig(secret, { activeKeyId: RSA_KEY_ID }) })
    assert.equal(app.keyStore.active().id, EC_KEY_ID, 'the active file wins at start')

    secret.update({ ...both, active: RSA_KEY_ID })
    await waitFor(() => app.keyStore.active().id === RSA_KEY_ID, NOTICE_WITHIN_MS, 'the active file to switch back')
    assert.equal(await signedKeyId(app), RSA_KEY_ID)

    // Without an active file, keys.activeKeyId decides again.
    secret.update({ ...both, active: EC_KEY_ID })
    await waitFor(() => app.keyStore.active().id === EC_KEY_ID, NOTICE_WITHIN_MS, 'the active file')
    secret.update(both)
    await waitFor(() => app.keyStore.active().id === RSA_KEY_ID, NOTICE_WITHIN_MS, 'keys.activeKeyId once the active file is gone')
  })

  it('skips a broken file, reports it in the log, the metric and /readyz (200), and clears it after a good reload', async (t) => {
    const logs = captureLogs()
    const secret = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, active: RSA_KEY_ID })
    const app = await build(t, { configInput: keysConfig(secret), logLevel: 'info', logStream: logs.stream })

    secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM.slice(0, 60), [`${LEGACY_KEY_ID}.pem`]: RSA_PEM, active: RSA_KEY_ID })
    await waitFor(() => app.keyStore.status().lastReloadError !== null, NOTICE_WITHIN_MS, 'the reload error')
    assert.equal(app.keyStore.get(EC_KEY_ID), undefined, 'the broken key is skipped')
    assert.ok(app.keyStore.get(LEGACY_KEY_ID), 'the good new key is in use')
    assert.equal(await signedKeyId(app), RSA_KEY_ID)

    const ready = await readiness(app)
    assert.equal(ready.statusCode, 200)
    assert.equal(ready.body.status, 'ready')
    assert.equal(ready.body.keys.lastReloadError.code, 'KEY_NOT_PEM')
    assert.match(ready.body.keys.lastReloadError.message, new RegExp(`${EC_KEY_ID}\\.pem`))
    assert.ok(!Number.isNaN(Date.parse(ready.body.keys.lastReloadError.at)), '!Number.isNaN(Date.parse(ready.body.keys.lastReloadError.at))')

    const warning = logs.text().split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((line) => line.code === 'KEY_NOT_PEM')
    assert.equal(warning?.level, 40, 'logged as a warning')
    assert.match(warning.file, new RegExp(`${EC_KEY_ID}\\.pem$`))
    assert.ok(!logs.text().includes(EC_PEM.split('\n')[1].slice(0, 24)), 'no key material in the logs')
    const metrics = await app.metrics.registry.getSingleMetricAsString('cf_signer_key_reload_failures_total')
    assert.match(metrics, /cf_signer_key_reload_failures_total\{reason="KEY_NOT_PEM"\} 1/)

    secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM, active: RSA_KEY_ID })
    await waitFor(() => app.keyStore.get(EC_KEY_ID) !== undefined, NOTICE_WITHIN_MS, 'the repaired key')
    assert.equal((await readiness(app)).body.keys.lastReloadError, null)
  })

  it('keeps the last good set entirely when the active key is broken', async (t) => {
    const secret = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${LEGACY_KEY_ID}.pem`]: RSA_PEM, active: RSA_KEY_ID })
    const app = await build(t, { configInput: keysConfig(secret) })
    const before = app.keyStore.active()

    secret.update({ [`${RSA_KEY_ID}.pem`]: 'not a key', [`${EC_KEY_ID}.pem`]: EC_PEM, active: RSA_KEY_ID })
    await waitFor(() => app.keyStore.status().lastReloadError !== null, NOTICE_WITHIN_MS, 'the reload error')
    assert.equal(app.keyStore.active(), before)
    assert.ok(app.keyStore.get(LEGACY_KEY_ID), 'the previous set stays, all of it')
    assert.equal(app.keyStore.get(EC_KEY_ID), undefined, 'nothing of the refused set is used')
    assert.equal(await signedKeyId(app), RSA_KEY_ID)
    const ready = await readiness(app)
    assert.equal(ready.statusCode, 200)
    assert.equal(ready.body.keys.lastReloadError.code, 'KEY_NOT_PEM')
    assert.match(ready.body.keys.lastReloadError.message, new RegExp(`${RSA_KEY_ID}\\.pem`))
  })

  it('keeps the last good set when the active key is missing or the active file is invalid', async (t) => {
    const secret = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, active: RSA_KEY_ID })
    const app = await build(t, { configInput: keysConfig(secret) })

    secret.update({ [`${EC_KEY_ID}.pem`]: EC_PEM, active: RSA_KEY_ID })
    await waitFor(() => app.keyStore.status().lastReloadError !== null, NOTICE_WITHIN_MS, 'the reload error')
    assert.equal(app.keyStore.status().lastReloadError?.code, 'KEY_FILE_MISSING')
    assert.equal(app.keyStore.active().id, RSA_KEY_ID)
    assert.equal(app.keyStore.get(EC_KEY_ID), undefined)

    secret.update({ [`${EC_KEY_ID}.pem`]: EC_PEM, active: 'not-a-key-id' })
    await waitFor(() => app.keyStore.status().lastReloadError?.code === 'KEY_ACTIVE_INVALID', NOTICE_WITHIN_MS, 'the invalid active file')
    assert.equal(app.keyStore.active().id, RSA_KEY_ID)

    secret.update({ [`${EC_KEY_ID}.pem`]: EC_PEM, [`${LEGACY_KEY_ID}.pem`]: RSA_PEM })
    await waitFor(() => app.keyStore.status().lastReloadError?.code === 'KEY_ACTIVE_UNSET', NOTICE_WITHIN_MS, 'several keys and none active')
    assert.equal(await signedKeyId(app), RSA_KEY_ID)
    const metrics = await app.metrics.registry.getSingleMetricAsString('cf_signer_key_reload_failures_total')
    for (const reason of ['KEY_FILE_MISSING', 'KEY_ACTIVE_INVALID', 'KEY_ACTIVE_UNSET']) {
      assert.match(metrics, new RegExp(`reason="${reason}"\\} 1`))
    }

    secret.update({ [`${EC_KEY_ID}.pem`]: EC_PEM })
    await waitFor(() => app.keyStore.active().id === EC_KEY_ID, NOTICE_WITHIN_MS, 'a directory with one key')
    assert.equal(app.keyStore.status().lastReloadError, null)
  })

  it('keeps retired keys for verification during the retention, then forgets them (injected clock)', async (t) => {
    let clock = TEST_NOW_MS
    const secret = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM, active: RSA_KEY_ID })
    const app = await build(t, { configInput: keysConfig(secret), now: () => clock })

    secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    await waitFor(() => app.keyStore.get(EC_KEY_ID) === undefined, NOTICE_WITHIN_MS, 'the key to leave')
    assert.equal(app.keyStore.verificationKey(EC_KEY_ID)?.id, EC_KEY_ID, 'retired, still verifies')
    assert.equal(app.keyStore.verificationKey(RSA_KEY_ID)?.id, RSA_KEY_ID, 'keys in use verify')
    assert.equal((await readiness(app)).body.keys.retired, 1)
    const res = await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4', keyId: EC_KEY_ID } })
    assert.equal(res.statusCode, 400, 'a retired key never signs')
    assert.equal(res.json().code, 'UNKNOWN_KEY')

    clock += RETENTION_SECONDS * 1000 - 1
    assert.ok(app.keyStore.verificationKey(EC_KEY_ID), 'still within the retention')
    clock += 1
    assert.equal(app.keyStore.verificationKey(EC_KEY_ID), undefined, 'gone after the retention')
    assert.equal((await readiness(app)).body.keys.retired, 0)
  })

  it('stops the start on a broken key file or an invalid active file, naming the file', async (t) => {
    const broken = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: '-----BEGIN PRIVATE KEY-----\nAAAA\n', active: RSA_KEY_ID })
    await assert.rejects(buildApp({ config: testConfig(t, keysConfig(broken)) }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'KEY_NOT_PEM')
      assert.match(err.message, new RegExp(`${EC_KEY_ID}\\.pem`))
      return true
    })
    const badActive = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, active: 'K-lowercase?' })
    await assert.rejects(buildApp({ config: testConfig(t, keysConfig(badActive)) }), { code: 'KEY_ACTIVE_INVALID' })
  })
})

describe('key store: pure pieces', () => {
  function tempDir(t: TestContext, files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'cf-signer-fp-'))
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  it('fingerprints the key files and the active file, through the ..data link', (t) => {
    const secret = volume(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const first = fingerprintKeyDirectory(secret.dir)
    assert.equal(fingerprintKeyDirectory(secret.dir), first, 'stable while nothing changes')
    secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const swapped = fingerprintKeyDirectory(secret.dir)
    assert.notEqual(swapped, first, 'the same names behind a new ..data differ')
    secret.update({ [`${RSA_KEY_ID}.pem`]: RSA_PEM, active: RSA_KEY_ID })
    assert.notEqual(fingerprintKeyDirectory(secret.dir), swapped, 'an active file counts')

    const plain = tempDir(t, { 'README.txt': 'ignored', [`${RSA_KEY_ID}.pem`]: RSA_PEM })
    const before = fingerprintKeyDirectory(plain)
    writeFileSync(join(plain, 'notes.txt'), 'still ignored')
    assert.equal(fingerprintKeyDirectory(plain), before, 'other files do not count')
    assert.match(fingerprintKeyDirectory(join(plain, 'missing')), /^unreadable:ENOENT/)
  })

  it('diffs two key sets by ID and key material', (t) => {
    const dir = tempDir(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${LEGACY_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM, 'K2JCJMDEHXQW5G.pem': EC_PEM })
    const load = (name: string) => loadSigningKey(join(dir, name))
    const rsa = load(`${RSA_KEY_ID}.pem`)
    const legacy = load(`${LEGACY_KEY_ID}.pem`)
    const ec = load(`${EC_KEY_ID}.pem`)
    const rsaNowEc = { ...load('K2JCJMDEHXQW5G.pem'), id: RSA_KEY_ID }
    const set = (...keys: SigningKey[]) => new Map(keys.map((k) => [k.id, k]))
    assert.deepEqual(diffKeySets(set(rsa, legacy), set(rsaNowEc, ec)), { added: [EC_KEY_ID], removed: [LEGACY_KEY_ID], changed: [RSA_KEY_ID] })
    assert.deepEqual(diffKeySets(set(rsa), set(rsa)), { added: [], removed: [], changed: [] })
  })

  it('retires removed keys, drops expired ones and ones back in use', (t) => {
    const dir = tempDir(t, { [`${RSA_KEY_ID}.pem`]: RSA_PEM, [`${EC_KEY_ID}.pem`]: EC_PEM })
    const rsa = loadSigningKey(join(dir, `${RSA_KEY_ID}.pem`))
    const ec = loadSigningKey(join(dir, `${EC_KEY_ID}.pem`))
    const none = new Map<string, RetiredKey>()
    const afterFirst = retireKeys(none, [ec], new Map([[rsa.id, rsa]]), 1_000, 500)
    assert.deepEqual([...afterFirst.entries()], [[EC_KEY_ID, { key: ec, retiredAtMs: 1_000 }]])
    assert.equal(retireKeys(afterFirst, [], new Map([[rsa.id, rsa]]), 1_499, 500).size, 1, 'kept within the retention')
    assert.equal(retireKeys(afterFirst, [], new Map([[rsa.id, rsa]]), 1_500, 500).size, 0, 'dropped after it')
    assert.equal(retireKeys(afterFirst, [], new Map([[ec.id, ec]]), 1_100, 500).size, 0, 'back in use')
    assert.equal(retireKeys(none, [ec], new Map(), 1_000, 0).size, 0, 'a zero retention keeps nothing')
  })
})
