import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { describe, it } from 'node:test'
import { auditLines, captureLogs } from '../../support/build.js'
import { waitFor } from '../../support/wait.js'
import { EMULATOR_CREDENTIALS, READ, S3_ORIGIN, WRITE, adminApp, call } from './helpers.js'

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
      lines.map(({ audit, sub, action, resourceId, account, outcome, statusCode, code }) => ({ audit, sub, action, resourceId, account, outcome, statusCode, code })),
      [
        { audit: true, sub: 'ops-alice', action: 'distribution.create', resourceId: created.body.id, account: 'test', outcome: 'success', statusCode: 201, code: undefined },
        { audit: true, sub: 'ops-alice', action: 'distribution.delete', resourceId: created.body.id, account: 'test', outcome: 'failure', statusCode: 409, code: 'DistributionNotDisabled' },
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

  it('writes exactly one line for every refused change: token, scope, schema, body, account, key, precondition, CloudFront', async (t) => {
    const logs = captureLogs()
    const { app } = await adminApp(t, { logs })
    const created = await call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN } } })
    const refusals = [
      { request: () => call(app, 'POST', '/distributions', { headers: { authorization: '' }, body: { origin: { domainName: S3_ORIGIN } } }), statusCode: 401, code: 'UNAUTHORIZED', sub: undefined },
      { request: () => call(app, 'POST', '/distributions', { headers: READ, body: { origin: { domainName: S3_ORIGIN } } }), statusCode: 403, code: 'FORBIDDEN_SCOPE', sub: 'ops-bob' },
      { request: () => call(app, 'POST', '/distributions', { body: { origin: { domainName: 42 } } }), statusCode: 400, code: 'VALIDATION_ERROR' },
      { request: () => call(app, 'POST', '/distributions', { body: { origin: { domainName: S3_ORIGIN }, comentt: 'typo' } }), statusCode: 400, code: 'VALIDATION_ERROR' },
      { request: () => app.inject({ method: 'POST', url: '/v1/admin/key-groups', headers: { ...WRITE, 'content-type': 'application/json' }, payload: '{"name":' }), statusCode: 400, code: 'MALFORMED_JSON' },
      { request: () => call(app, 'POST', '/distributions?account=nope', { body: { origin: { domainName: S3_ORIGIN } } }), statusCode: 400, code: 'UNKNOWN_ACCOUNT', account: 'nope' },
      { request: () => call(app, 'POST', '/public-keys', { body: { keyId: 'KNOTLOADED00001' } }), statusCode: 400, code: 'UNKNOWN_KEY' },
      {
        request: () => call(app, 'PATCH', `/distributions/${created.body.id}`, { headers: { 'if-match': '"E2STALEETAG"' }, body: { comment: 'mine' } }),
        statusCode: 412,
        code: 'PreconditionFailed',
        resourceId: created.body.id,
      },
      { request: () => call(app, 'DELETE', '/distributions/E000000000000'), statusCode: 404, code: 'NoSuchDistribution', resourceId: 'E000000000000' },
    ]
    for (const refusal of refusals) {
      const before = auditLines(logs).length
      const answer = await refusal.request()
      const status = 'status' in answer ? answer.status : answer.statusCode
      assert.equal(status, refusal.statusCode, refusal.code)
      const lines = auditLines(logs).slice(before)
      assert.equal(lines.length, 1, `${refusal.code}: one audit line`)
      const { audit, sub, action, account, outcome, statusCode, code, resourceId } = lines[0]
      assert.deepEqual(
        { audit, sub, account, outcome, statusCode, code, resourceId },
        { audit: true, sub: 'sub' in refusal ? refusal.sub : 'ops-alice', account: refusal.account ?? 'test', outcome: 'failure', statusCode: refusal.statusCode, code: refusal.code, resourceId: refusal.resourceId },
        refusal.code,
      )
      assert.match(String(action), /^[a-z-]+\.(create|update|delete)$/)
    }
    assert.equal(auditLines(logs).length, refusals.length + 1)
  })

  it('writes the line of a change whose caller went away before the answer', async (t) => {
    const logs = captureLogs()
    const { app, emulator } = await adminApp(t, { logs })
    emulator.injectFault({ operation: 'CreateCloudFrontOriginAccessIdentity', delayMs: 400 })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const socket = connect((app.server.address() as { port: number }).port, '127.0.0.1')
    await once(socket, 'connect')
    const body = JSON.stringify({ comment: 'left early' })
    const called = emulator.nextCall('CreateCloudFrontOriginAccessIdentity')
    socket.write(`POST /v1/admin/origin-access-identities HTTP/1.1\r\nHost: x\r\nAuthorization: ${WRITE.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    await called
    socket.destroy()
    await waitFor(() => auditLines(logs).length > 0, 5000, 'the audit line of the change')
    const lines = auditLines(logs)
    assert.equal(lines.length, 1)
    assert.equal(lines[0].action, 'origin-access-identity.create')
    assert.equal(lines[0].outcome, 'success')
    assert.match(String(lines[0].resourceId), /^E[A-Z0-9]+$/)
  })
})
