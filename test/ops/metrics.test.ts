import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { errorCodeOf } from '../../src/metrics/registry.js'
import { build, TEST_NOW_MS } from '../support/build.js'
import { EC_KEY_ID, LEGACY_KEY_ID, RSA_KEY_ID } from '../support/keys.js'
import { bearer, makeToken } from '../support/tokens.js'

async function scrape(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ url: '/metrics' })
  assert.equal(res.statusCode, 200)
  return res.body
}

/** The value of one sample line, e.g. `name{label="x"}`. */
function value(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? undefined : Number(line.slice(sample.length + 1))
}

/** The sample lines of one metric name (exactly that name, any labels). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
}

describe('GET /metrics', () => {
  it('answers the Prometheus text format without a token, with process metrics', async (t) => {
    const app = await build(t)
    const res = await app.inject({ url: '/metrics' })
    assert.equal(res.statusCode, 200)
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/)
    for (const family of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.match(res.body, new RegExp(`^# TYPE ${family} `, 'm'), family)
    }
    // Declared for the code that feeds them (signature cache, AWS admin calls).
    assert.match(res.body, /^# TYPE cf_signer_signature_cache_total counter$/m)
    assert.match(res.body, /^# TYPE cf_signer_aws_calls_total counter$/m)
  })

  it('exports cf_signer_build_info: the package version and the Node.js version, value 1', async (t) => {
    const app = await build(t)
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.deepEqual(samples(await scrape(app), 'cf_signer_build_info'), [`cf_signer_build_info{version="${version}",node="${process.version}"} 1`])
  })

  it('counts signatures by kind, distribution, policy, algorithm and key ID', async (t) => {
    const app = await build(t)
    const sign = (payload: object) => app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload })
    assert.equal((await sign({ distribution: 'demo', path: '/videos/a.mp4' })).statusCode, 200)
    assert.equal((await sign({ distribution: 'demo', path: '/videos/a.mp4', keyId: EC_KEY_ID, hashAlgorithm: 'SHA256', notBefore: TEST_NOW_MS / 1000 })).statusCode, 200)
    const text = await scrape(app)
    const issued = samples(text, 'cf_signer_signatures_issued_total')
    assert.ok(issued.includes('cf_signer_signatures_issued_total{kind="url",distribution="demo",policy="canned",algorithm="RSA-SHA1",key_id="K2JCJMDEHXQW5F"} 1'), issued.join('\n'))
    assert.ok(issued.includes(`cf_signer_signatures_issued_total{kind="url",distribution="demo",policy="custom",algorithm="ECDSA-SHA256",key_id="${EC_KEY_ID}"} 1`), issued.join('\n'))
  })

  it('labels each signature with its kind: url (signed URLs and player redirects), cookie, stream, query', async (t) => {
    const app = await build(t)
    const wildcard = bearer(makeToken({ sub: 'alice', scope: 'sign sign:wildcard' }))
    const answers = [
      await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4' } }),
      await app.inject({ url: `/v1/playback?${new URLSearchParams({ distribution: 'demo', path: '/videos/b.mp4', access_token: makeToken() })}` }),
      await app.inject({ method: 'POST', url: '/v1/signed-cookies', headers: wildcard, payload: { distribution: 'demo', resource: '/hls/show/*' } }),
      await app.inject({ method: 'POST', url: '/v1/signed-streams', headers: bearer(), payload: { distribution: 'demo', stream: 'videos/clip.mp4' } }),
      await app.inject({ method: 'POST', url: '/v1/signed-queries', headers: wildcard, payload: { distribution: 'demo', resource: '/hls/show/*' } }),
    ]
    assert.deepEqual(answers.map((res) => res.statusCode), [200, 302, 200, 200, 200], answers.map((res) => /"code":"(\w+)"/.exec(res.body)?.[1] ?? res.statusCode).join(', '))
    const byKind = new Map<string, number>()
    for (const line of samples(await scrape(app), 'cf_signer_signatures_issued_total')) {
      const kind = /\{kind="([a-z]+)"/.exec(line)?.[1] ?? `no kind in ${line}`
      byKind.set(kind, (byKind.get(kind) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)))
    }
    assert.deepEqual(Object.fromEntries(byKind), { url: 2, cookie: 1, stream: 1, query: 1 })
  })

  it('records request latency by method, route pattern and status; unmatched URLs never appear raw', async (t) => {
    const app = await build(t)
    await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    await app.inject({ url: '/no/such/path?token=secret-value' })
    await app.inject({ url: '/healthz' })
    const counts = samples(await scrape(app), 'cf_signer_http_request_duration_seconds_count')
    assert.ok(counts.includes('cf_signer_http_request_duration_seconds_count{method="POST",route="/v1/signed-urls",status="200"} 1'), 'counts.includes(\'cf_signer_http_request_duration_seconds_count{method="POST",route="/v1/signed-urls…')
    assert.ok(counts.includes('cf_signer_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1'), 'counts.includes(\'cf_signer_http_request_duration_seconds_count{method="GET",route="unmatched",statu…')
    assert.ok(counts.includes('cf_signer_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 1'), 'counts.includes(\'cf_signer_http_request_duration_seconds_count{method="GET",route="/healthz",status…')
    const all = await scrape(app)
    assert.ok(!all.includes('/no/such/path') && !all.includes('secret-value'), 'no raw URL in a label')
    assert.match(all, /cf_signer_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/healthz",status="200"\}/)
  })

  it('counts error answers by code and status, whichever handler produced them', async (t) => {
    const app = await build(t)
    await app.inject({ method: 'POST', url: '/v1/signed-urls', payload: { distribution: 'demo', path: '/videos/a.mp4' } })
    await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'nope', path: '/videos/a.mp4' } })
    await app.inject({ method: 'POST', url: '/v1/signed-urls', headers: bearer(), payload: { distribution: 'nope', path: '/videos/a.mp4' } })
    await app.inject({ url: '/missing' })
    const errors = samples(await scrape(app), 'cf_signer_errors_total')
    assert.ok(errors.includes('cf_signer_errors_total{code="UNAUTHORIZED",status="401"} 1'), errors.join('\n'))
    assert.ok(errors.includes('cf_signer_errors_total{code="UNKNOWN_DISTRIBUTION",status="400"} 2'), 'errors.includes(\'cf_signer_errors_total{code="UNKNOWN_DISTRIBUTION",status="400"} 2\')')
    assert.ok(errors.includes('cf_signer_errors_total{code="NOT_FOUND",status="404"} 1'), 'errors.includes(\'cf_signer_errors_total{code="NOT_FOUND",status="404"} 1\')')
    assert.ok(!errors.some((line) => line.includes('status="200"')), 'successes are not errors')
  })

  it('reports the loaded keys, their age from the key file, and key reload failures', async (t) => {
    let clock = TEST_NOW_MS
    const app = await build(t, { now: () => clock })
    const rsaFile = join(app.config.keys.dir!, `${RSA_KEY_ID}.pem`)
    clock = statSync(rsaFile).mtimeMs + 90_000
    const text = await scrape(app)
    assert.deepEqual(samples(text, 'cf_signer_keys_loaded'), ['cf_signer_keys_loaded 3'])
    const ages = samples(text, 'cf_signer_key_age_seconds')
    const rsaAge = `cf_signer_key_age_seconds{key_id="${RSA_KEY_ID}",active="true"}`
    assert.ok(Math.abs(value(text, rsaAge)! - 90) < 0.001, ages.join('\n'))
    assert.ok(ages.some((line) => line.startsWith(`cf_signer_key_age_seconds{key_id="${LEGACY_KEY_ID}",active="false"}`)), 'ages.some((line) => line.startsWith(`cf_signer_key_age_seconds{key_id="${LEGACY_KEY_ID}",active="fa…')
    assert.equal(ages.length, 3)

    clock += 10_000
    assert.ok(Math.abs(value(await scrape(app), rsaAge)! - 100) < 0.001, 'the age grows between reloads')

    writeFileSync(join(app.config.keys.dir!, 'K9BROKENKEY01.pem'), 'not a key')
    app.keyStore.check()
    const after = await scrape(app)
    assert.deepEqual(samples(after, 'cf_signer_key_reload_failures_total'), ['cf_signer_key_reload_failures_total{reason="KEY_NOT_PEM"} 1'])
    assert.deepEqual(samples(after, 'cf_signer_keys_loaded'), ['cf_signer_keys_loaded 3'])
  })

  it('answers 404 NOT_FOUND when metrics.enabled is false, the route still registered', async (t) => {
    const app = await build(t, { configInput: { metrics: { enabled: false } } })
    const res = await app.inject({ url: '/metrics' })
    assert.equal(res.statusCode, 404)
    assert.equal(res.json().code, 'NOT_FOUND')
    assert.ok(app.hasRoute({ method: 'GET', url: '/metrics' }), 'the same routes, and OpenAPI document, in every configuration')
  })
})

describe('errorCodeOf', () => {
  it('reads the code of a JSON error body, and nothing else', () => {
    assert.equal(errorCodeOf('{"statusCode":403,"code":"FORBIDDEN_PATH","error":"Forbidden","message":"x"}'), 'FORBIDDEN_PATH')
    assert.equal(errorCodeOf('{"status":"not-ready"}'), undefined)
    assert.equal(errorCodeOf('{not json'), undefined)
    assert.equal(errorCodeOf('plain text'), undefined)
    assert.equal(errorCodeOf(Buffer.from('{"code":"X"}')), undefined)
  })
})
