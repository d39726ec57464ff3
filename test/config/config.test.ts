// The configuration loader: every bad field named at once, unknown fields refused, production never
// falling back to development defaults, the development defaults created once and reused, and the
// checks across fields (TTLs, hosts, cookie domains, JWT algorithms against their key source).
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig, type LoadConfigOptions } from '../../src/config/load.js'
import { loadSigningKey } from '../../src/signing/keys.js'
import { build } from '../support/build.js'
import { bearer, makeToken, TEST_JWT_SECRET } from '../support/tokens.js'

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function writeFile(t: TestContext, name: string, content: string): string {
  const file = join(tempDir(t), name)
  writeFileSync(file, content)
  return file
}

/** The problems a load reports; fails when it loads. */
function problemsOf(options: LoadConfigOptions): string[] {
  try {
    loadConfig(options)
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    assert.equal(err.message, `invalid configuration:\n  - ${err.problems.join('\n  - ')}`)
    return err.problems
  }
  assert.fail('the configuration loaded')
}

function assertProblem(problems: string[], field: string) {
  assert.ok(
    problems.some((p) => p.startsWith(`${field}: `)),
    `a problem names ${field}:\n${problems.join('\n')}`,
  )
}

const VALID = {
  auth: { jwt: { secret: TEST_JWT_SECRET } },
  keys: { dir: '/etc/cf-signer/keys', activeKeyId: 'K2JCJMDEHXQW5F' },
  distributions: { media: { domain: 'd111111abcdef8.cloudfront.net', aliases: ['media.example.com'] } },
}
const withDistributions = (distributions: Record<string, unknown>) => ({ ...VALID, distributions })

describe('config: validation', () => {
  it('an invalid file lists every bad field at once', (t) => {
    const file = writeFile(
      t,
      'config.yaml',
      [
        'server:',
        '  port: http',
        'auth:',
        '  jwt:',
        `    secret: ${TEST_JWT_SECRET}`,
        '    clockToleranceSeconds: -1',
        'keys:',
        '  dir: /keys',
        '  activeKeyId: my-key',
        'distributions:',
        '  media:',
        '    domain: "not a host"',
        '    allowedPaths: ["videos/*"]',
        '    maxTtlSeconds: 1d',
        '    scheme: ftp',
      ].join('\n'),
    )
    const problems = problemsOf({ file, production: true })
    for (const field of [
      'server.port',
      'auth.jwt.clockToleranceSeconds',
      'keys.activeKeyId',
      'distributions.media.domain',
      'distributions.media.allowedPaths.0',
      'distributions.media.maxTtlSeconds',
      'distributions.media.scheme',
    ]) {
      assertProblem(problems, field)
    }
    assert.ok(problems.some((p) => p.includes('"1d"')), 'the bad value is shown')
  })

  it('refuses unknown fields, naming them', () => {
    const problems = problemsOf({
      production: true,
      input: { ...VALID, server: { prot: 8080 }, distribution: {}, distributions: { media: { ...VALID.distributions.media, ttl: 60 } } },
    })
    assertProblem(problems, 'server.prot')
    assertProblem(problems, 'distribution')
    assertProblem(problems, 'distributions.media.ttl')
  })

  it('a YAML syntax error names the file', (t) => {
    const file = writeFile(t, 'broken.yaml', 'server:\n  port: [3000\n')
    const problems = problemsOf({ file, production: true })
    assert.equal(problems.length, 1)
    assert.ok(problems[0].startsWith(`${file}: not valid YAML`), problems[0])
  })

  it('a missing file names the file', (t) => {
    const file = join(tempDir(t), 'nope.yaml')
    assert.ok(problemsOf({ file })[0].startsWith(`${file}: `), 'problemsOf({ file })[0].startsWith(`${file}: `)')
  })

  it('production with no keys and no auth stops, naming both, and creates nothing', (t) => {
    const devDir = join(tempDir(t), '.dev')
    const problems = problemsOf({ production: true, devDir })
    assertProblem(problems, 'auth.jwt')
    assertProblem(problems, 'keys.dir')
    assert.equal(problems.length, 2, problems.join('\n'))
    assert.equal(existsSync(devDir), false)
  })

  it('defaultTtlSeconds above maxTtlSeconds is refused', () => {
    const problems = problemsOf({ production: true, input: withDistributions({ media: { domain: 'd1.cloudfront.net', defaultTtlSeconds: 700, maxTtlSeconds: 600 } }) })
    assertProblem(problems, 'distributions.media.defaultTtlSeconds')
  })

  it('a host in two distributions is refused, whatever its case and role', () => {
    for (const [a, b] of [
      [{ domain: 'd1.cloudfront.net' }, { domain: 'D1.cloudfront.net' }],
      [{ domain: 'd1.cloudfront.net', aliases: ['media.example.com'] }, { domain: 'd2.cloudfront.net', aliases: ['Media.Example.com'] }],
      [{ domain: 'd1.cloudfront.net', aliases: ['d2.cloudfront.net'] }, { domain: 'd2.cloudfront.net' }],
    ]) {
      const problems = problemsOf({ production: true, input: withDistributions({ one: a, two: b }) })
      assertProblem(problems, 'distributions.two')
    }
  })

  it('a cookie domain no alias reaches is refused, naming distributions.<name>.cookies.domain', () => {
    const problems = problemsOf({
      production: true,
      input: withDistributions({ media: { domain: 'd1.cloudfront.net', aliases: ['media.example.com'], cookies: { domain: 'example.org' } } }),
    })
    assertProblem(problems, 'distributions.media.cookies.domain')
    const noAliases = problemsOf({ production: true, input: withDistributions({ media: { domain: 'd1.cloudfront.net', cookies: { domain: 'd1.cloudfront.net' } } }) })
    assertProblem(noAliases, 'distributions.media.cookies.domain')
    for (const domain of ['example.com', 'Media.Example.com']) {
      loadConfig({ production: true, input: withDistributions({ media: { domain: 'd1.cloudfront.net', aliases: ['media.example.com'], cookies: { domain } } }) })
    }
  })

  it('JWT algorithms must fit the key source: HS* with a public key, RS* with a secret, are refused', (t) => {
    const publicKeyFile = writeFile(t, 'jwt.pub.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString())
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { publicKeyFile, algorithms: ['HS256'] } } } }), 'auth.jwt.algorithms')
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { secret: TEST_JWT_SECRET, algorithms: ['RS256', 'HS256'] } } } }), 'auth.jwt.algorithms')
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { jwksUrl: 'https://login.example.com/jwks.json', algorithms: ['HS512'] } } } }), 'auth.jwt.algorithms')
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { secret: TEST_JWT_SECRET, algorithms: ['none'] } } } }), 'auth.jwt.algorithms.0')
    assert.deepEqual(loadConfig({ production: true, input: { ...VALID, auth: { jwt: { publicKeyFile } } } }).auth.jwt.algorithms, ['RS256'])
  })

  it('one JWT source only; secrets and passphrases read from their files; short secrets refused', (t) => {
    const dir = tempDir(t)
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { secret: TEST_JWT_SECRET, jwksUrl: 'https://login.example.com/jwks.json' } } } }), 'auth.jwt')
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { secret: 'short' } } } }), 'auth.jwt.secret')
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { secretFile: join(dir, 'missing') } } } }), 'auth.jwt.secretFile')
    assertProblem(problemsOf({ production: true, input: { ...VALID, keys: { ...VALID.keys, passphraseFile: join(dir, 'missing') } } }), 'keys.passphraseFile')
    writeFileSync(join(dir, 'short'), 'too-short\n')
    assertProblem(problemsOf({ production: true, input: { ...VALID, auth: { jwt: { secretFile: join(dir, 'short') } } } }), 'auth.jwt.secretFile')
    writeFileSync(join(dir, 'secret'), `${TEST_JWT_SECRET}\n`)
    writeFileSync(join(dir, 'passphrase'), 'pass phrase \n')
    const config = loadConfig({ production: true, input: { ...VALID, auth: { jwt: { secretFile: join(dir, 'secret') } }, keys: { ...VALID.keys, passphraseFile: join(dir, 'passphrase') } } })
    assert.equal(config.auth.jwt.secret, TEST_JWT_SECRET)
    assert.equal(config.keys.passphrase, 'pass phrase')
    assert.ok(Object.isFrozen(config.distributions.media), 'Object.isFrozen(config.distributions.media)')
  })

  it('auth.jwt token and JWKS bounds: tokens must expire and the JWKS is capped by default; bad values are refused', () => {
    const { jwt } = loadConfig({ production: true, input: VALID }).auth
    assert.equal(jwt.requireExpiry, true)
    assert.equal(jwt.maxTokenLifetimeSeconds, undefined)
    assert.equal(jwt.jwksMaxBytes, 1_048_576)
    assert.equal(jwt.jwksMaxKeys, 100)
    const bad = { requireExpiry: 'no', maxTokenLifetimeSeconds: 0, jwksMaxBytes: 10, jwksMaxKeys: 0 }
    const problems = problemsOf({ production: true, input: { ...VALID, auth: { jwt: { ...VALID.auth.jwt, ...bad } } } })
    for (const field of Object.keys(bad)) assertProblem(problems, `auth.jwt.${field}`)
  })

  it('HOST and PORT override server.host and server.port', () => {
    const config = loadConfig({ production: true, input: VALID, overrides: { host: '0.0.0.0', port: 8080 } })
    assert.equal(config.server.host, '0.0.0.0')
    assert.equal(config.server.port, 8080)
    for (const port of [Number('abc'), 70_000, -1, 80.5]) assertProblem(problemsOf({ production: true, input: VALID, overrides: { port } }), 'PORT')
  })
})

describe('config: development defaults', () => {
  it('are created in devDir on first load and reused on the next (same key ID and secret)', async (t) => {
    const devDir = join(tempDir(t), '.dev')
    const first = loadConfig({ devDir })
    assert.equal(first.development, true)
    assert.match(first.keys.activeKeyId!, /^K[A-Z0-9]{6,63}$/)
    const keyFile = join(first.keys.dir!, `${first.keys.activeKeyId}.pem`)
    assert.ok(keyFile.startsWith(devDir), 'keyFile.startsWith(devDir)')
    assert.equal(statSync(keyFile).mode & 0o077, 0, 'the key file is private to its owner')
    assert.equal(statSync(join(devDir, 'jwt-secret')).mode & 0o077, 0, 'the secret file is private to its owner')
    assert.equal(loadSigningKey(keyFile).algorithm, 'RSA')
    assert.ok(first.auth.jwt.secret!.length >= 32, 'first.auth.jwt.secret!.length >= 32')
    assert.ok(Object.keys(first.distributions).length > 0, 'the embedded defaults name a distribution')

    const keyBytes = readFileSync(keyFile, 'utf8')
    const second = loadConfig({ devDir })
    assert.equal(second.keys.activeKeyId, first.keys.activeKeyId)
    assert.equal(second.auth.jwt.secret, first.auth.jwt.secret)
    assert.equal(readFileSync(keyFile, 'utf8'), keyBytes)

    // And they serve: a token signed with the development secret signs a URL with the development key.
    const app = await build(t, { config: second })
    const [name] = Object.keys(second.distributions)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/signed-urls',
      headers: bearer(makeToken({ sub: 'dev', scope: 'sign' }, { key: second.auth.jwt.secret })),
      payload: { distribution: name, path: '/videos/intro.mp4' },
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().keyId, first.keys.activeKeyId)
  })

  it('are not used when auth or keys are configured: the missing half is an error', (t) => {
    const devDir = join(tempDir(t), '.dev')
    assertProblem(problemsOf({ devDir, input: { keys: VALID.keys, distributions: VALID.distributions } }), 'auth.jwt')
    assertProblem(problemsOf({ devDir, input: { auth: VALID.auth, distributions: VALID.distributions } }), 'keys.dir')
    assert.equal(existsSync(devDir), false)
  })
})
