// OpenTelemetry end to end: the service as its own process with OTEL_EXPORTER_OTLP_ENDPOINT set, a
// local OTLP/HTTP receiver on 127.0.0.1 and the local CloudFront emulator. A span per request that
// continues the caller's traceparent, a child span per AWS call, the trace ID on the log lines, URLs
// redacted in span attributes; and, with the variable unset, nothing exported at all.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { startTracing, tracesUrl } from '../../src/telemetry/tracing.js'
import { TEST_DISTRIBUTIONS } from '../support/build.js'
import { EMULATOR_CREDENTIALS, startEmulator } from '../support/emulator.js'
import { makeKeyDir, vectorKeyFiles, RSA_KEY_ID } from '../support/keys.js'
import { startService, type ServiceProcess } from '../support/process.js'
import { makeToken, TEST_JWT_SECRET } from '../support/tokens.js'
import { waitFor } from '../support/wait.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const SERVER = 2
const CLIENT = 3

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  status?: { code?: number; message?: string }
  attributes?: Array<{ key: string; value: OtlpValue }>
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>
}

/** IDs as hex, whether the exporter wrote them as hex (JSON) or base64. */
const hexId = (id: string | undefined) => (id === undefined || /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex'))
const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((a) => a.key === key)?.value
  return value?.stringValue ?? (value?.intValue !== undefined ? Number(value.intValue) : undefined)
}

/** An OTLP/HTTP receiver: keeps every request to any path, and the JSON bodies POSTed to /v1/traces. */
async function otlpReceiver(t: TestContext) {
  const received = { requests: 0, raw: [] as string[], exports: [] as OtlpExport[] }
  const server = createServer((req, res) => {
    received.requests++
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      received.raw.push(body)
      if (req.method === 'POST' && req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) received.exports.push(JSON.parse(body) as OtlpExport)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const spans = () => received.exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)))
  return { received, spans, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** The service in production mode, its one AWS account on the emulator (the emulator's dummy credentials through the environment). */
async function startTracedService(t: TestContext, emulatorEndpoint: string, env: Record<string, string>): Promise<ServiceProcess> {
  const keys = makeKeyDir(vectorKeyFiles())
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-tracing-'))
  t.after(() => {
    keys.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })
  const configFile = join(dir, 'config.yaml')
  writeFileSync(
    configFile,
    stringify({
      auth: { jwt: { secret: TEST_JWT_SECRET } },
      keys: { dir: keys.dir, activeKeyId: RSA_KEY_ID },
      distributions: TEST_DISTRIBUTIONS,
      aws: { accounts: { test: { region: 'us-east-1', endpoint: emulatorEndpoint } }, maxAttempts: 1 },
    }),
  )
  const service = await startService([process.execPath, '--import', 'tsx', 'src/server.ts'], {
    cwd: REPO,
    env: {
      NODE_ENV: 'production',
      CONFIG_FILE: configFile,
      SHUTDOWN_DELAY_MS: '0',
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      ...env,
    },
    startTimeoutMs: 60_000,
  })
  t.after(() => {
    if (service.child.exitCode === null) service.child.kill('SIGKILL')
  })
  return service
}

/** Stops the service the way the platform does; its graceful shutdown flushes the spans. */
async function stop(service: ServiceProcess): Promise<void> {
  service.child.kill('SIGTERM')
  assert.equal(await service.exited, 0, service.output())
}

const logLines = (service: ServiceProcess) =>
  service
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('exports a server span per request continuing the traceparent, a child span per AWS call, the trace ID on the log line, no credential in any attribute', async (t) => {
    const receiver = await otlpReceiver(t)
    const silentReceiver = await otlpReceiver(t)
    const { endpoint: emulatorEndpoint } = await startEmulator(t)
    // Started together: each takes seconds to load on a busy machine.
    const [traced, untraced] = await Promise.all([
      startTracedService(t, emulatorEndpoint, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }),
      // Every other OTLP variable points at a receiver, but without OTEL_EXPORTER_OTLP_ENDPOINT nothing starts.
      startTracedService(t, emulatorEndpoint, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: tracesUrl(silentReceiver.endpoint), OTEL_TRACES_EXPORTER: 'otlp' }),
    ])

    const traceId = randomBytes(16).toString('hex')
    const parentId = randomBytes(8).toString('hex')
    const admin = { authorization: `Bearer ${makeToken({ sub: 'ops', scope: 'admin:read' }, { nowMs: Date.now() })}`, traceparent: `00-${traceId}-${parentId}-01` }
    const playbackToken = makeToken({ sub: 'player', scope: 'sign' }, { nowMs: Date.now() })
    const signToken = makeToken({ sub: 'alice', scope: 'sign' }, { nowMs: Date.now() })
    let signature = ''
    for (const service of [traced, untraced]) {
      const list = await fetch(`${service.baseUrl}/v1/admin/distributions`, { headers: admin })
      assert.equal(list.status, 200, await list.text())
      assert.equal((await fetch(`${service.baseUrl}/v1/admin/distributions/E0NOSUCHDIST0`, { headers: admin })).status, 404)
      const playback = await fetch(`${service.baseUrl}/v1/playback?${new URLSearchParams({ distribution: 'demo', path: '/videos/a.mp4', access_token: playbackToken })}`, { redirect: 'manual' })
      assert.equal(playback.status, 302)
      const signed = await fetch(`${service.baseUrl}/v1/signed-urls`, {
        method: 'POST',
        headers: { authorization: `Bearer ${signToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ distribution: 'demo', path: '/videos/b.mp4' }),
      })
      assert.equal(signed.status, 200)
      signature = new URL(((await signed.json()) as { url: string }).url).searchParams.get('Signature')!
      assert.equal((await fetch(`${service.baseUrl}/healthz`)).status, 200)
    }
    await Promise.all([stop(traced), stop(untraced)])

    await waitFor(() => receiver.spans().some((span) => span.name === 'CloudFront.ListDistributions'), 10_000, () => `the spans, got ${receiver.spans().map((s) => s.name).join(', ')}`)
    const spans = receiver.spans()
    const byId = new Map(spans.map((span) => [hexId(span.spanId), span]))
    const server = spans.find((span) => span.name === 'GET /v1/admin/distributions')
    assert.ok(server !== undefined, `a span for the admin request among ${spans.map((s) => s.name).join(', ')}`)
    assert.equal(server.kind, SERVER, 'a server span')
    assert.equal(hexId(server.traceId), traceId, "the caller's trace")
    assert.equal(hexId(server.parentSpanId), parentId, "the caller's span is its parent")
    assert.equal(attribute(server, 'http.route'), '/v1/admin/distributions')
    assert.equal(attribute(server, 'http.response.status_code'), 200)

    const aws = spans.find((span) => span.name === 'CloudFront.ListDistributions')!
    assert.equal(aws.kind, CLIENT, 'a client span')
    assert.equal(hexId(aws.traceId), traceId, 'in the same trace')
    const ancestors: string[] = []
    for (let span: OtlpSpan | undefined = aws; span?.parentSpanId !== undefined && span.parentSpanId !== ''; span = byId.get(hexId(span.parentSpanId)!)) ancestors.push(hexId(span.parentSpanId)!)
    assert.ok(ancestors.includes(hexId(server.spanId)!), 'the AWS call is inside the request span')
    assert.deepEqual(
      ['rpc.system', 'rpc.service', 'rpc.method', 'cloud.region', 'cf_signer.aws.account'].map((key) => attribute(aws, key)),
      ['aws-api', 'CloudFront', 'ListDistributions', 'us-east-1', 'test'],
    )
    const failed = spans.find((span) => span.name === 'CloudFront.GetDistribution')
    assert.equal(failed?.status?.code, 2, 'a failed AWS call has the error status')
    assert.equal(attribute(failed!, 'error.type'), failed!.status!.message, 'and its error code as error.type')
    assert.ok(typeof attribute(failed!, 'error.type') === 'string', 'error.type is set')
    const resource = receiver.received.exports[0].resourceSpans[0].resource.attributes
    assert.equal(resource.find((a) => a.key === 'service.name')?.value.stringValue, 'cf-signer', 'OTEL_SERVICE_NAME defaults to cf-signer')

    const requestLine = logLines(traced).find((line) => line.route === '/v1/admin/distributions')
    assert.ok(requestLine !== undefined, 'the request line of the admin call')
    assert.equal(requestLine.trace_id, traceId, 'the request line carries the trace ID')
    assert.ok(typeof requestLine.span_id === 'string' && byId.has(requestLine.span_id as string), 'and a span ID of that trace')
    const signLine = logLines(traced).find((line) => line.route === '/v1/signed-urls')
    assert.ok(typeof signLine?.trace_id === 'string' && spans.some((span) => hexId(span.traceId) === signLine.trace_id && span.name === 'POST /v1/signed-urls'), 'a request without traceparent starts a trace of its own, named on its line')

    const playbackSpan = spans.find((span) => span.name === 'GET /v1/playback')!
    assert.equal(attribute(playbackSpan, 'url.path'), '/v1/playback')
    assert.equal(attribute(playbackSpan, 'url.query'), 'distribution=demo&path=%2Fvideos%2Fa.mp4&access_token=[redacted]')
    const exported = receiver.received.raw.join('\n')
    assert.ok(!exported.includes(playbackToken) && !exported.includes(playbackToken.split('.')[2]), 'no token in an exported span')
    assert.ok(!exported.includes(signature), 'no signature in an exported span')
    assert.ok(!spans.some((span) => span.name.includes('/healthz')), 'probes are not traced')

    assert.equal(silentReceiver.received.requests, 0, 'without OTEL_EXPORTER_OTLP_ENDPOINT nothing is sent')
    assert.ok(
      logLines(untraced).every((line) => line.trace_id === undefined),
      'and no log line has a trace ID',
    )
  })

  it('starts nothing without OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    assert.equal(await startTracing({}), undefined)
    assert.equal(await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SERVICE_NAME: 'x' }), undefined)
  })

  it('sends traces to <endpoint>/v1/traces', () => {
    assert.equal(tracesUrl('http://collector:4318'), 'http://collector:4318/v1/traces')
    assert.equal(tracesUrl('http://collector:4318/'), 'http://collector:4318/v1/traces')
  })
})
