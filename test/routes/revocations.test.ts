// POST/GET /v1/revocations and the sweep, against the emulator's KeyValueStore through the real SDK. The stores are
// made with CloudFront's own CreateKeyValueStore (the deploy route is not needed to test revocations).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { CreateKeyValueStoreCommand, DeleteKeyValueStoreCommand, DescribeKeyValueStoreCommand } from '@aws-sdk/client-cloudfront'
import type { FastifyInstance } from 'fastify'
import { findKeyValueStore, listKvsKeys, updateKvsKeys } from '../../src/aws/keyvaluestore.js'
import { edgeResourceName } from '../../src/edge/naming.js'
import { REVOCATION_CLOCK_SKEW_SECONDS } from '../../src/edge/revocations.js'
import { hashSubject } from '../../src/edge/token.js'
import { auditLines, build, captureLogs, TEST_NOW_MS } from '../support/build.js'
import { testClock } from '../support/clock.js'
import { createCloudFrontClient, EMULATOR_CREDENTIALS, startEmulator } from '../support/emulator.js'
import { bearer, makeToken } from '../support/tokens.js'
import { waitFor } from '../support/wait.js'

const WRITE = bearer(makeToken({ sub: 'ops-alice', scope: 'admin:write' }))
const READ = bearer(makeToken({ sub: 'ops-bob', scope: 'admin:read' }))
const SIGN_ONLY = bearer(makeToken({ sub: 'player', scope: 'sign' }))

const MEDIA_ID = 'EDGEMEDIA00001'
const LIVE_ID = 'EDGELIVE000001'
const DISTRIBUTIONS = {
  media: { domain: 'd111111abcdef8.cloudfront.net', allowedPaths: ['/*'], maxTtlSeconds: 3600, distributionId: MEDIA_ID, edge: true },
  live: { domain: 'd333333abcdef8.cloudfront.net', allowedPaths: ['/*'], maxTtlSeconds: 600, distributionId: LIVE_ID, edge: true },
  plain: { domain: 'd222222abcdef8.cloudfront.net', allowedPaths: ['/*'], maxTtlSeconds: 600 },
}
const NOW = TEST_NOW_MS / 1000
const SUB = 'user-4711@example.com'

/** An edge.keysDir with one key, removed afterwards. */
function edgeKeysDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-edge-keys-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'e1'), 'edge-test-secret-0123456789abcdefghijklmnop')
  return dir
}

interface EdgeAppOptions {
  /** Distribution IDs whose store exists (default: both edge ones). */
  deployed?: string[]
  distributions?: Record<string, unknown>
  logs?: ReturnType<typeof captureLogs>
  clock?: ReturnType<typeof testClock>
}

async function edgeApp(t: TestContext, options: EdgeAppOptions = {}) {
  const { endpoint, emulator } = await startEmulator(t)
  const clock = options.clock ?? testClock()
  const app = await build(t, {
    configInput: {
      aws: { accounts: { test: { region: 'us-east-1', endpoint } }, maxAttempts: 1 },
      distributions: options.distributions ?? DISTRIBUTIONS,
      edge: { keysDir: edgeKeysDir(t), activeKeyId: 'e1' },
    },
    now: clock.now,
    awsCredentials: EMULATOR_CREDENTIALS,
    ...(options.logs !== undefined && { logLevel: 'info', logStream: options.logs.stream }),
  })
  const cloudFront = createCloudFrontClient(endpoint)
  t.after(() => cloudFront.destroy())
  for (const id of options.deployed ?? [MEDIA_ID, LIVE_ID]) await cloudFront.send(new CreateKeyValueStoreCommand({ Name: edgeResourceName(id) }))
  const account = app.aws.resolve('test')

  /** The store's entries, key → value. */
  async function storeOf(distributionId: string): Promise<Record<string, string>> {
    const store = await findKeyValueStore(account, edgeResourceName(distributionId))
    assert.ok(store !== undefined, `store for ${distributionId}`)
    return Object.fromEntries((await listKvsKeys(account, store.arn)).map((entry) => [entry.key, entry.value]))
  }
  async function putEntries(distributionId: string, entries: Record<string, string>): Promise<void> {
    const store = await findKeyValueStore(account, edgeResourceName(distributionId))
    await updateKvsKeys(account, store!.arn, { puts: Object.entries(entries).map(([key, value]) => ({ key, value })) })
  }
  async function deleteStore(distributionId: string): Promise<void> {
    const name = edgeResourceName(distributionId)
    const { ETag } = await cloudFront.send(new DescribeKeyValueStoreCommand({ Name: name }))
    await cloudFront.send(new DeleteKeyValueStoreCommand({ Name: name, IfMatch: ETag }))
  }
  return { app, clock, emulator, cloudFront, storeOf, putEntries, deleteStore }
}

async function call(app: FastifyInstance, method: 'GET' | 'POST', url: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await app.inject({ method, url: `/v1/revocations${url}`, headers: { ...(method === 'GET' ? READ : WRITE), ...options.headers }, ...(options.body !== undefined && { payload: options.body as object }) })
  return { status: response.statusCode, body: response.json() }
}

describe('POST /v1/revocations', () => {
  it('revokes a grant in every edge distribution: the key holds {t, x, r} with x past each one\'s maxTtlSeconds', async (t) => {
    const { app, storeOf } = await edgeApp(t)
    const created = await call(app, 'POST', '', { body: { grantId: 'AbCdEfGhIjKlMnOp', reason: 'leaked on a forum' } })
    assert.equal(created.status, 201)
    assert.deepEqual(
      { ...created.body, propagation: undefined },
      {
        kind: 'grant',
        id: 'AbCdEfGhIjKlMnOp',
        revokedAt: NOW,
        removeAfter: NOW + 3600 + REVOCATION_CLOCK_SKEW_SECONDS,
        reason: 'leaked on a forum',
        distributions: ['media', 'live'],
        propagation: undefined,
      },
    )
    assert.match(created.body.propagation, /seconds/)
    assert.deepEqual(JSON.parse((await storeOf(MEDIA_ID))['revoked:g:AbCdEfGhIjKlMnOp']!), { t: NOW, x: NOW + 3660, r: 'leaked on a forum' })
    assert.deepEqual(JSON.parse((await storeOf(LIVE_ID))['revoked:g:AbCdEfGhIjKlMnOp']!), { t: NOW, x: NOW + 660, r: 'leaked on a forum' })
  })

  it('revoking a grant again keeps its revokedAt and extends removeAfter', async (t) => {
    const { app, clock, storeOf } = await edgeApp(t)
    await call(app, 'POST', '', { body: { grantId: 'grant-1', distribution: 'live' } })
    clock.advance(100_000)
    const again = await call(app, 'POST', '', { body: { grantId: 'grant-1', distribution: 'live' } })
    assert.equal(again.status, 201)
    assert.equal(again.body.revokedAt, NOW)
    assert.equal(again.body.removeAfter, NOW + 100 + 660)
    assert.deepEqual(JSON.parse((await storeOf(LIVE_ID))['revoked:g:grant-1']!), { t: NOW, x: NOW + 760 })
    assert.equal((await storeOf(MEDIA_ID))['revoked:g:grant-1'], undefined, 'only the distribution named')
  })

  it('revokes a sub by its hash, and moves revokedAt forward when revoked again', async (t) => {
    const { app, clock, storeOf } = await edgeApp(t)
    const first = await call(app, 'POST', '', { body: { sub: SUB, distribution: 'media' } })
    assert.equal(first.status, 201)
    assert.equal(first.body.kind, 'sub')
    assert.equal(first.body.id, hashSubject(SUB))
    assert.equal(first.body.id.length, 22)
    clock.advance(30_000)
    const second = await call(app, 'POST', '', { body: { sub: SUB, distribution: 'media', reason: 'account closed' } })
    assert.equal(second.body.revokedAt, NOW + 30)
    const store = await storeOf(MEDIA_ID)
    assert.deepEqual(Object.keys(store), [`revoked:s:${hashSubject(SUB)}`])
    assert.deepEqual(JSON.parse(store[`revoked:s:${hashSubject(SUB)}`]!), { t: NOW + 30, x: NOW + 30 + 3660, r: 'account closed' })
    assert.ok(!JSON.stringify(store).includes(SUB), 'the raw sub is not stored')
  })

  it('refuses a body with both or neither of grantId and sub, and bad fields', async (t) => {
    const { app, storeOf } = await edgeApp(t)
    for (const body of [{ grantId: 'g1', sub: SUB }, {}, { reason: 'why' }, { grantId: 'has space' }, { grantId: 'x'.repeat(33) }, { sub: '' }, { sub: 's'.repeat(257) }, { grantId: 'g1', reason: 'tab\there' }, { grantId: 'g1', extra: 1 }]) {
      const answer = await call(app, 'POST', '', { body })
      assert.equal(answer.status, 400, JSON.stringify(body))
      assert.equal(answer.body.code, 'VALIDATION_ERROR', JSON.stringify(body))
    }
    assert.deepEqual(await storeOf(MEDIA_ID), {})
  })

  it('needs admin:write to revoke and admin:read to list', async (t) => {
    const { app } = await edgeApp(t)
    assert.equal((await call(app, 'POST', '', { body: { grantId: 'g1' }, headers: SIGN_ONLY })).body.code, 'FORBIDDEN_SCOPE')
    assert.equal((await call(app, 'POST', '', { body: { grantId: 'g1' }, headers: READ })).status, 403)
    assert.equal((await call(app, 'GET', '', { headers: SIGN_ONLY })).status, 403)
    assert.equal((await call(app, 'POST', '', { body: { grantId: 'g1' }, headers: { authorization: '' } })).status, 401)
  })

  it('answers 409 EDGE_NOT_DEPLOYED naming the distribution and the deploy route when its store is missing', async (t) => {
    const { app } = await edgeApp(t, { deployed: [LIVE_ID] })
    const answer = await call(app, 'POST', '', { body: { grantId: 'g1', distribution: 'media' } })
    assert.equal(answer.status, 409)
    assert.equal(answer.body.code, 'EDGE_NOT_DEPLOYED')
    assert.match(answer.body.message, /media/)
    assert.match(answer.body.message, new RegExp(`PUT /v1/admin/distributions/${MEDIA_ID}/edge`))
    assert.deepEqual(answer.body.details, { revokedIn: [], failedIn: ['media'] })
  })

  it('notices a store deleted after its ARN was cached (409), and finds a recreated one', async (t) => {
    const { app, cloudFront, deleteStore, storeOf } = await edgeApp(t)
    assert.equal((await call(app, 'POST', '', { body: { grantId: 'g1', distribution: 'live' } })).status, 201)
    await deleteStore(LIVE_ID)
    assert.equal((await call(app, 'POST', '', { body: { grantId: 'g2', distribution: 'live' } })).body.code, 'EDGE_NOT_DEPLOYED')
    await cloudFront.send(new CreateKeyValueStoreCommand({ Name: edgeResourceName(LIVE_ID) }))
    assert.equal((await call(app, 'POST', '', { body: { grantId: 'g3', distribution: 'live' } })).status, 201)
    assert.deepEqual(Object.keys(await storeOf(LIVE_ID)), ['revoked:g:g3'])
  })

  it('reports revokedIn and failedIn when one of several distributions fails, and a retry completes it', async (t) => {
    const logs = captureLogs()
    const { app, storeOf, cloudFront } = await edgeApp(t, { deployed: [MEDIA_ID], logs })
    const answer = await call(app, 'POST', '', { body: { grantId: 'g1' } })
    assert.equal(answer.status, 409)
    assert.equal(answer.body.code, 'EDGE_NOT_DEPLOYED')
    assert.deepEqual(answer.body.details, { revokedIn: ['media'], failedIn: ['live'] })
    assert.match(answer.body.message, /revoked in media; not revoked in live \(EDGE_NOT_DEPLOYED\)/)
    assert.ok((await storeOf(MEDIA_ID))['revoked:g:g1'] !== undefined, 'the other distribution is written')
    await cloudFront.send(new CreateKeyValueStoreCommand({ Name: edgeResourceName(LIVE_ID) }))
    const retried = await call(app, 'POST', '', { body: { grantId: 'g1' } })
    assert.deepEqual([retried.status, retried.body.distributions], [201, ['media', 'live']])
    assert.deepEqual(JSON.parse((await storeOf(LIVE_ID))['revoked:g:g1']!), { t: NOW, x: NOW + 660 })
    assert.deepEqual(
      auditLines(logs).map(({ action, resourceId, outcome, statusCode, code }) => ({ action, resourceId, outcome, statusCode, code })),
      [
        { action: 'revocation.create', resourceId: 'grant:g1', outcome: 'failure', statusCode: 409, code: 'EDGE_NOT_DEPLOYED' },
        { action: 'revocation.create', resourceId: 'grant:g1', outcome: 'success', statusCode: 201, code: undefined },
      ],
    )
  })

  it('refuses a distribution without the edge layer (400), an unknown one (400), and no edge distribution at all (409)', async (t) => {
    const { app } = await edgeApp(t)
    const plain = await call(app, 'POST', '', { body: { grantId: 'g1', distribution: 'plain' } })
    assert.deepEqual([plain.status, plain.body.code], [400, 'EDGE_NOT_ENABLED'])
    const unknown = await call(app, 'POST', '', { body: { grantId: 'g1', distribution: 'nope' } })
    assert.deepEqual([unknown.status, unknown.body.code], [400, 'UNKNOWN_DISTRIBUTION'])
    const listed = await call(app, 'GET', '?distribution=plain')
    assert.deepEqual([listed.status, listed.body.code], [400, 'EDGE_NOT_ENABLED'])

    const noEdge = await edgeApp(t, { deployed: [], distributions: { plain: DISTRIBUTIONS.plain } })
    const none = await call(noEdge.app, 'POST', '', { body: { grantId: 'g1' } })
    assert.deepEqual([none.status, none.body.code], [409, 'EDGE_NOT_CONFIGURED'])
  })

  it('answers 503 ADMIN_NOT_CONFIGURED without AWS', async (t) => {
    const app = await build(t)
    const answer = await call(app, 'POST', '', { body: { grantId: 'g1' } })
    assert.deepEqual([answer.status, answer.body.code], [503, 'ADMIN_NOT_CONFIGURED'])
    assert.equal((await call(app, 'GET', '')).body.code, 'ADMIN_NOT_CONFIGURED')
  })

  it('writes one audit line naming grant:<id> or sub:<hash>, never the raw sub', async (t) => {
    const logs = captureLogs()
    const { app } = await edgeApp(t, { logs })
    await call(app, 'POST', '', { body: { grantId: 'g1' } })
    await call(app, 'POST', '', { body: { sub: SUB, reason: 'compromised' } })
    await call(app, 'POST', '', { body: { sub: SUB, grantId: 'g1' } })
    await call(app, 'GET', '')
    assert.deepEqual(
      auditLines(logs).map(({ sub, action, account, resourceId, outcome, statusCode, code }) => ({ sub, action, account, resourceId, outcome, statusCode, code })),
      [
        { sub: 'ops-alice', action: 'revocation.create', account: 'test', resourceId: 'grant:g1', outcome: 'success', statusCode: 201, code: undefined },
        { sub: 'ops-alice', action: 'revocation.create', account: 'test', resourceId: `sub:${hashSubject(SUB)}`, outcome: 'success', statusCode: 201, code: undefined },
        // Refused by the handler before the subject is known: no resource.
        { sub: 'ops-alice', action: 'revocation.create', account: 'test', resourceId: undefined, outcome: 'failure', statusCode: 400, code: 'VALIDATION_ERROR' },
      ],
    )
    assert.ok(!logs.text().includes(SUB), 'the raw sub is never logged')
  })
})

describe('GET /v1/revocations', () => {
  it('lists active revocations merged across distributions, skipping due ones and deleting them', async (t) => {
    const { app, putEntries, storeOf } = await edgeApp(t)
    await call(app, 'POST', '', { body: { grantId: 'g1', reason: 'leaked' } })
    await call(app, 'POST', '', { body: { sub: SUB, distribution: 'live' } })
    await putEntries(MEDIA_ID, {
      'revoked:g:old': JSON.stringify({ t: NOW - 7200, x: NOW - 1 }),
      'revoked:g:exactly-due': JSON.stringify({ t: NOW - 7200, x: NOW }),
      'hmac:e1': 'edge-test-secret-0123456789abcdefghijklmnop',
    })
    const listed = await call(app, 'GET', '')
    assert.equal(listed.status, 200)
    assert.deepEqual(listed.body, {
      items: [
        { kind: 'grant', id: 'g1', revokedAt: NOW, removeAfter: NOW + 3660, reason: 'leaked', distributions: ['media', 'live'] },
        { kind: 'sub', id: hashSubject(SUB), revokedAt: NOW, removeAfter: NOW + 660, distributions: ['live'] },
      ],
      truncated: false,
      notDeployed: [],
    })
    assert.deepEqual(Object.keys(await storeOf(MEDIA_ID)).sort(), ['hmac:e1', 'revoked:g:g1'], 'the due entries were deleted, the HMAC key kept')

    const live = await call(app, 'GET', '?distribution=live')
    assert.deepEqual(live.body.items.map((item: { id: string; distributions: string[] }) => [item.id, item.distributions]), [['g1', ['live']], [hashSubject(SUB), ['live']]])
  })

  it('names distributions not deployed yet, and answers 409 for one asked by name', async (t) => {
    const { app } = await edgeApp(t, { deployed: [MEDIA_ID] })
    const listed = await call(app, 'GET', '')
    assert.deepEqual(listed.body, { items: [], truncated: false, notDeployed: ['live'] })
    const named = await call(app, 'GET', '?distribution=live')
    assert.deepEqual([named.status, named.body.code], [409, 'EDGE_NOT_DEPLOYED'])
  })
})

describe('revocation sweep', () => {
  it('deletes only the entries whose removeAfter has passed, in every edge distribution', async (t) => {
    const logs = captureLogs()
    const { app, clock, storeOf, putEntries } = await edgeApp(t, { logs })
    await call(app, 'POST', '', { body: { grantId: 'g1' } })
    await putEntries(LIVE_ID, { 'hmac:e1': 'edge-test-secret-0123456789abcdefghijklmnop', 'revoked:s:unreadable': 'not json' })
    assert.deepEqual(await app.revocations.sweep(), { removed: 0, failed: [] })
    // live's maxTtlSeconds is 600: its entry is due at NOW + 660, media's at NOW + 3660.
    clock.advance(661_000)
    assert.deepEqual(await app.revocations.sweep(), { removed: 1, failed: [] })
    assert.deepEqual(Object.keys(await storeOf(LIVE_ID)).sort(), ['hmac:e1', 'revoked:s:unreadable'], 'other keys, and a value it cannot read, are left')
    assert.deepEqual(Object.keys(await storeOf(MEDIA_ID)), ['revoked:g:g1'])
    clock.advance(3000_000)
    assert.deepEqual(await app.revocations.sweep(), { removed: 1, failed: [] })
    assert.deepEqual(await storeOf(MEDIA_ID), {})
    assert.match(logs.text(), /revocation sweep removed expired revocations/)
  })

  it('finishes a delete another replica beat it to: the key already gone, the rest of the batch is sent again', async (t) => {
    const { app, clock, emulator, storeOf } = await edgeApp(t, { deployed: [MEDIA_ID, LIVE_ID] })
    await call(app, 'POST', '', { body: { grantId: 'g1', distribution: 'media' } })
    clock.advance(3661_000)
    // What AWS may answer for a batch deleting a key that is no longer there.
    emulator.injectFault({ operation: 'UpdateKeys', code: 'ResourceNotFoundException', status: 404, message: 'The key does not exist.' })
    assert.deepEqual(await app.revocations.sweep(), { removed: 1, failed: [] })
    assert.deepEqual(await storeOf(MEDIA_ID), {}, 'the due entry is deleted after the retry')
  })

  it('runs by itself every edge.revocationSweepSeconds', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const logs = captureLogs()
    const { app, clock, storeOf } = await edgeApp(t, { logs })
    await call(app, 'POST', '', { body: { grantId: 'g1', distribution: 'live' } })
    clock.advance(661_000)
    t.mock.timers.tick(299_000)
    assert.deepEqual(Object.keys(await storeOf(LIVE_ID)), ['revoked:g:g1'], 'not before the period (300 s by default)')
    t.mock.timers.tick(1_000)
    await waitFor(() => logs.text().includes('revocation sweep removed expired revocations'), 5_000, 'the periodic sweep')
    assert.deepEqual(await storeOf(LIVE_ID), {})
  })

  it('logs a distribution it cannot sweep and still sweeps the others', async (t) => {
    const logs = captureLogs()
    const { app, clock, storeOf } = await edgeApp(t, { deployed: [LIVE_ID], logs })
    await call(app, 'POST', '', { body: { grantId: 'g1', distribution: 'live' } })
    clock.advance(661_000)
    assert.deepEqual(await app.revocations.sweep(), { removed: 1, failed: ['media'] })
    assert.deepEqual(await storeOf(LIVE_ID), {})
    const warning = logs
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'revocation sweep failed for a distribution')
    assert.equal(warning?.distribution, 'media')
    assert.equal(warning?.code, 'EDGE_NOT_DEPLOYED')
    assert.equal(warning?.level, 40)
  })
})
