import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { build } from '../../support/build.js'
import { EMULATOR_CREDENTIALS, READ, S3_ORIGIN, WRITE, adminApp, call, startEmulator } from './helpers.js'
import { freePort } from '../../support/process.js'

/** Every admin route, one request each: they all exist whatever the configuration. */
const ROUTES: Array<['GET' | 'POST' | 'PATCH' | 'DELETE', string]> = [
  ['POST', '/distributions'],
  ['GET', '/distributions'],
  ['GET', '/distributions/E1'],
  ['PATCH', '/distributions/E1'],
  ['DELETE', '/distributions/E1'],
  ['POST', '/distributions/E1/wait'],
  ['POST', '/distributions/E1/invalidations'],
  ['GET', '/distributions/E1/invalidations'],
  ['GET', '/distributions/E1/invalidations/I1'],
  ['POST', '/streaming-distributions'],
  ['GET', '/streaming-distributions'],
  ['GET', '/streaming-distributions/E1'],
  ['PATCH', '/streaming-distributions/E1'],
  ['DELETE', '/streaming-distributions/E1'],
  ['POST', '/streaming-distributions/E1/wait'],
  ['POST', '/origin-access-identities'],
  ['GET', '/origin-access-identities'],
  ['GET', '/origin-access-identities/E1'],
  ['DELETE', '/origin-access-identities/E1'],
  ['POST', '/origin-access-identities/E1/grants'],
  ['POST', '/origin-access-controls'],
  ['GET', '/origin-access-controls'],
  ['POST', '/origin-access-controls/E1/grants'],
  ['POST', '/public-keys'],
  ['GET', '/public-keys'],
  ['POST', '/key-groups'],
  ['GET', '/key-groups'],
]

/** Points the SDK's shared config files at a temporary directory for one test. */
function useSharedCredentialsFile(t: TestContext, content: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-aws-'))
  writeFileSync(join(dir, 'credentials'), content)
  writeFileSync(join(dir, 'config'), '')
  const saved = { AWS_SHARED_CREDENTIALS_FILE: process.env.AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE }
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials')
  process.env.AWS_CONFIG_FILE = join(dir, 'config')
  t.after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    rmSync(dir, { recursive: true, force: true })
  })
}

describe('admin routes without AWS', () => {
  it('registers every route and answers 503 ADMIN_NOT_CONFIGURED once authenticated', async (t) => {
    const app = await build(t)
    for (const [method, url] of ROUTES) {
      const res = await call(app, method, url, { body: method === 'GET' || method === 'DELETE' ? undefined : {} })
      assert.equal(res.status, 503, `${method} ${url}`)
      assert.equal(res.body.code, 'ADMIN_NOT_CONFIGURED', `${method} ${url}`)
    }
  })

  it('still authenticates first: 401 without a token, 403 without an admin scope', async (t) => {
    const app = await build(t)
    const anonymous = await app.inject({ method: 'GET', url: '/v1/admin/distributions' })
    assert.equal(anonymous.statusCode, 401)
    const signer = await call(app, 'POST', '/public-keys', { body: {}, headers: { authorization: '' } })
    assert.equal(signer.status, 401)
    const reader = await call(app, 'POST', '/key-groups', { body: {}, headers: READ })
    assert.equal(reader.status, 403)
    assert.equal(reader.body.code, 'FORBIDDEN_SCOPE')
  })
})

describe('?account=', () => {
  it('acts on the named account, the default one otherwise', async (t) => {
    const personal = await startEmulator(t)
    const work = await startEmulator(t)
    const app = await build(t, {
      configInput: {
        aws: {
          accounts: { personal: { region: 'us-east-1', endpoint: personal.endpoint }, work: { region: 'eu-west-1', endpoint: work.endpoint } },
          defaultAccount: 'personal',
        },
      },
      awsCredentials: EMULATOR_CREDENTIALS,
    })
    const created = await call(app, 'POST', '/distributions?account=work', { body: { origin: { domainName: S3_ORIGIN }, comment: 'work' } })
    assert.equal(created.status, 201)
    const inWork = await call(app, 'GET', '/distributions?account=work', { headers: READ })
    const inDefault = await call(app, 'GET', '/distributions', { headers: READ })
    const inPersonal = await call(app, 'GET', '/distributions?account=personal', { headers: READ })
    assert.deepEqual(inWork.body.items.map((d: { id: string }) => d.id), [created.body.id])
    assert.deepEqual(inDefault.body.items, [])
    assert.deepEqual(inPersonal.body.items, [])
  })

  it('answers 400 UNKNOWN_ACCOUNT for a name not configured, before the body is validated', async (t) => {
    const { app } = await adminApp(t)
    const res = await call(app, 'POST', '/distributions?account=nope', { body: { not: 'valid' } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'UNKNOWN_ACCOUNT')
  })
})

describe('AWS credentials and reachability', () => {
  it("signs with a configured profile's credentials from the shared credentials file", async (t) => {
    useSharedCredentialsFile(t, '[ops]\naws_access_key_id = AKIDPROFILETEST0001\naws_secret_access_key = profile-secret-0123456789\n')
    const { endpoint } = await startEmulator(t)
    const app = await build(t, { configInput: { aws: { accounts: { test: { region: 'us-east-1', endpoint, profile: 'ops' } } } } })
    const res = await call(app, 'GET', '/distributions', { headers: READ })
    assert.equal(res.status, 200)
  })

  it('answers 502 AWS_CREDENTIALS_UNAVAILABLE when the profile does not exist', async (t) => {
    useSharedCredentialsFile(t, '[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other-secret\n')
    const { endpoint } = await startEmulator(t)
    const app = await build(t, { configInput: { aws: { accounts: { test: { region: 'us-east-1', endpoint, profile: 'missing' } } } } })
    const res = await call(app, 'GET', '/distributions', { headers: READ })
    assert.equal(res.status, 502)
    assert.equal(res.body.code, 'AWS_CREDENTIALS_UNAVAILABLE')
  })

  it('answers 502 UPSTREAM_UNAVAILABLE when the endpoint cannot be reached', async (t) => {
    const endpoint = `http://127.0.0.1:${await freePort()}`
    const app = await build(t, { configInput: { aws: { accounts: { test: { region: 'us-east-1', endpoint } }, maxAttempts: 1 } }, awsCredentials: EMULATOR_CREDENTIALS })
    const res = await call(app, 'GET', '/distributions', { headers: WRITE })
    assert.equal(res.status, 502)
    assert.equal(res.body.code, 'UPSTREAM_UNAVAILABLE')
  })
})

describe('CloudFront failures', () => {
  it('answers 429 with Retry-After once the SDK has spent its attempts on Throttling', async (t) => {
    const { app, emulator } = await adminApp(t, { aws: { maxAttempts: 2 } })
    emulator.injectFault({ operation: 'ListDistributions', code: 'Throttling', status: 400, times: 3 })
    const res = await call(app, 'GET', '/distributions', { headers: READ })
    assert.equal(res.status, 429)
    assert.equal(res.body.code, 'Throttling')
    assert.equal(res.headers['retry-after'], '1')
    // Counted once per call, after the SDK's retries.
    const metric = (await app.metrics.awsCalls.get()).values.find((v) => v.labels.operation === 'ListDistributions')
    assert.deepEqual([metric?.labels.outcome, metric?.value], ['Throttling', 1])
  })

  it('retries a throttled call within the SDK attempts and succeeds', async (t) => {
    const { app, emulator } = await adminApp(t, { aws: { maxAttempts: 3 } })
    emulator.injectFault({ operation: 'ListDistributions', code: 'Throttling', status: 400, times: 2 })
    const res = await call(app, 'GET', '/distributions', { headers: READ })
    assert.equal(res.status, 200)
  })

  it("answers 502 keeping CloudFront's code when CloudFront keeps failing (5xx)", async (t) => {
    const { app, emulator } = await adminApp(t, { aws: { maxAttempts: 2 } })
    emulator.injectFault({ operation: 'GetDistribution', code: 'ServiceUnavailable', times: 2 })
    const res = await call(app, 'GET', '/distributions/E000000000000', { headers: READ })
    assert.equal(res.status, 502)
    assert.equal(res.body.code, 'ServiceUnavailable')
    assert.equal(res.body.error, 'Bad Gateway')
  })

  it('answers 504 UPSTREAM_TIMEOUT when CloudFront does not answer in aws.requestTimeoutMs', async (t) => {
    const { app, emulator } = await adminApp(t, { aws: { maxAttempts: 1, requestTimeoutMs: 200 } })
    emulator.injectFault({ operation: 'ListDistributions', delayMs: 2000, times: 1 })
    const res = await call(app, 'GET', '/distributions', { headers: READ })
    assert.equal(res.status, 504)
    assert.equal(res.body.code, 'UPSTREAM_TIMEOUT')
  })
})
