// An account whose endpoint is the emulator on loopback needs no AWS credentials: with none configured
// for it (no profile, no role), the service signs with the emulator's dummy ones instead of answering 502.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Value } from '@sinclair/typebox/value'
import { createAwsAccounts, isLoopbackEndpoint } from '../../src/aws/accounts.js'
import { AwsSchema, type AwsConfig } from '../../src/config/schema.js'
import { build } from '../support/build.js'
import { EMULATOR_CREDENTIALS, startEmulator } from '../support/emulator.js'
import { bearer, makeToken } from '../support/tokens.js'

describe('accounts on a loopback endpoint', () => {
  it('counts 127.0.0.1, ::1 and localhost (any port, any case) as loopback, and nothing else', () => {
    for (const endpoint of ['http://127.0.0.1:4566', 'http://[::1]:4566/', 'http://localhost:4566', 'https://LOCALHOST']) {
      assert.equal(isLoopbackEndpoint(endpoint), true, endpoint)
    }
    for (const endpoint of [undefined, 'https://cloudfront.amazonaws.com', 'http://localhost.example.com:4566', 'http://10.0.0.1:4566', 'http://127.0.0.2:4566', 'not a url']) {
      assert.equal(isLoopbackEndpoint(endpoint), false, String(endpoint))
    }
  })

  it("use the emulator's credentials when the account configures none, and the configured profile when it does", async () => {
    // Nothing listens on these endpoints: only the credentials each client would sign with are read.
    const accounts = createAwsAccounts(Value.Default(AwsSchema, {
      accounts: {
        local: { region: 'us-east-1', endpoint: 'http://localhost:4566' },
        profiled: { region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', profile: 'cf-signer-test-no-such-profile' },
      },
      defaultAccount: 'local',
    }) as AwsConfig)
    try {
      const local = await accounts.resolve('local').cloudFront.config.credentials()
      assert.equal(local.accessKeyId, EMULATOR_CREDENTIALS.accessKeyId)
      assert.equal((await accounts.resolve('local').s3.config.credentials()).accessKeyId, EMULATOR_CREDENTIALS.accessKeyId, 'S3 too')
      const profiled = await accounts.resolve('profiled').cloudFront.config.credentials().catch(() => undefined)
      assert.notEqual(profiled?.accessKeyId, EMULATOR_CREDENTIALS.accessKeyId, 'a configured profile is never replaced')
    } finally {
      accounts.close()
    }
  })

  it('answer the admin routes with no AWS credentials in the environment (was 502 AWS_CREDENTIALS_UNAVAILABLE)', async (t) => {
    const { endpoint } = await startEmulator(t)
    const app = await build(t, { configInput: { aws: { accounts: { local: { region: 'us-east-1', endpoint } }, maxAttempts: 1 } } })
    const res = await app.inject({ method: 'GET', url: '/v1/admin/distributions', headers: bearer(makeToken({ sub: 'ops', scope: 'admin:read' })) })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json().items, [])
  })
})
