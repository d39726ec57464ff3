import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { captureLogs } from '../../support/build.js'
import { EMULATOR_CREDENTIALS, READ, S3_ORIGIN, WRITE, adminApp, call } from './helpers.js'

function auditLines(logs: ReturnType<typeof captureLogs>): Array<Record<string, unknown>> {
  return logs
    .text()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.audit === true)
}

describe('admin audit log', () => {
  it('writes one line per change with the caller, action, resource, account and outcome', async (t) => {
    const logs = captureLogs()
    const { app } = await adminApp(t, { logs })
    const created = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN } } })
    await call(app, 'GET', `/distributions/${created.body.id}`, { headers: READ })
    await call(app, 'DELETE', `/distributions/${created.body.id}`)
    const lines = auditLines(logs)
    assert.equal(lines.length, 2, 'reads are not audited')
    assert.deepEqual(
      lines.map(({ audit, sub, action, resourceId, account, outcome, code }) => ({ audit, sub, action, resourceId, account, outcome, code })),
      [
        { audit: true, sub: 'ops-alice', action: 'distribution.create', resourceId: created.body.id, account: 'test', outcome: 'success', code: undefined },
        { audit: true, sub: 'ops-alice', action: 'distribution.delete', resourceId: created.body.id, account: 'test', outcome: 'failure', code: 'DistributionNotDisabled' },
      ],
    )
  })

  it('names each kind of change', async (t) => {
    const logs = captureLogs()
    const { app } = await adminApp(t, { logs })
    const oai = await call(app, 'POST', '/origin-access-identities', { body: { comment: 'media' } })
    const distribution = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN, originAccessIdentity: oai.body.id } } })
    await call(app, 'PATCH', `/distributions/${distribution.body.id}`, { body: { comment: 'renamed' } })
    await call(app, 'POST', `/distributions/${distribution.body.id}/invalidations`, { body: { paths: ['/a'] } })
    await call(app, 'POST', `/origin-access-identities/${oai.body.id}/grants`, { body: { bucket: 'no-such-bucket' } })
    const key = await call(app, 'POST', '/public-keys', { body: { keyId: 'K2JCJMDEHXQW5F' } })
    await call(app, 'POST', '/key-groups', { body: { name: 'signers', publicKeyIds: [key.body.id] } })
    await call(app, 'POST', '/origin-access-controls', { body: { name: 'media-oac' } })
    await call(app, 'POST', '/streaming-distributions', { body: { origin: { domainName: S3_ORIGIN } } })
    assert.deepEqual(
      auditLines(logs).map((line) => `${line.action} ${line.outcome}`),
      [
        'origin-access-identity.create success',
        'distribution.create success',
        'distribution.update success',
        'invalidation.create success',
        'origin-access-identity.grant failure',
        'public-key.create success',
        'key-group.create success',
        'origin-access-control.create success',
        'streaming-distribution.create success',
      ],
    )
  })

  it('never writes AWS credentials or request signatures to the logs or the answers', async (t) => {
    const logs = captureLogs()
    const { app, emulator } = await adminApp(t, { logs, aws: { maxAttempts: 1 } })
    const answers = [
      await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN } } }),
      await call(app, 'GET', '/distributions/E000000000000', { headers: READ }),
    ]
    emulator.injectFault({ operation: 'ListDistributions', code: 'InternalError', times: 1 })
    answers.push(await call(app, 'GET', '/distributions', { headers: READ }))
    emulator.injectFault({ operation: 'ListDistributions', code: 'Throttling', times: 1 })
    answers.push(await call(app, 'GET', '/distributions', { headers: READ }))
    assert.deepEqual(answers.map((a) => a.status), [201, 404, 502, 429])

    const everything = logs.text() + JSON.stringify(answers)
    for (const secret of [EMULATOR_CREDENTIALS.accessKeyId, EMULATOR_CREDENTIALS.secretAccessKey, 'AWS4-HMAC-SHA256', 'Signature=', WRITE.authorization.slice(7)]) {
      assert.ok(!everything.includes(secret), `found ${secret.slice(0, 12)}…`)
    }
    assert.match(logs.text(), /"code":"InternalError"/, 'the upstream failure is logged, without its secrets')
  })
})
