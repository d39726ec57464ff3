// A small stand-in for a CloudFront edge, for browser tests: an HTTPS server on 127.0.0.1 that
// judges every request to the distribution's host with the inspector (signed URL parameters, else
// CloudFront-* cookies), answers 403 AccessDenied as CloudFront does, and serves media bytes with
// the response-content-type and response-content-disposition overrides an S3 origin applies.
// Other hosts (the web app's page) are handed to their own handlers. With `viewerRequest`, each media request first
// runs the distribution's viewer-request function on the request as received, as CloudFront does before it checks
// the signature: a response from the function is answered as is (403 x-edge-deny), a request goes on to the judgement.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runFunction } from '../../src/dev/emulator/function-runtime.js'
import { inspectSignedRequest, type DenialReason, type VerificationKey } from '../../src/signing/inspect.js'
import { EDGE_DENY_HEADER } from '../../src/edge/token.js'
import { buildViewerRequestEvent, type EventValue, type ViewerRequestSource } from './edge-function.js'

export interface TlsMaterial {
  key: string
  cert: string
}

/** A throwaway self-signed certificate for the given host names, made with the openssl CLI. */
export function createSelfSignedCert(hosts: string[]): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'cf-signer-edge-'))
  try {
    const keyFile = join(dir, 'key.pem')
    const certFile = join(dir, 'cert.pem')
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', keyFile, '-out', certFile, '-subj', '/CN=cf-signer test edge',
      '-addext', `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}`,
    ], { stdio: 'pipe' })
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface MediaFile {
  type: string
  body: Buffer | string
}

export interface EdgeDecision {
  host: string
  path: string
  status: number
  /** CloudFront's own judgement of the signature; null when it allowed or never judged (the function answered). */
  reason: DenialReason | null
  /** Where the signature was read from; null when the function answered before CloudFront judged it. */
  source: 'url' | 'cookies' | null
  /** With `viewerRequest` only: the function's x-edge-deny reason, null when it handed the request on. */
  edgeReason?: string | null
}

export interface ViewerRequestOptions {
  /** The function and its store for a request's path, read at that request. */
  source: ViewerRequestSource
  /** The distribution's CloudFront domain (context.distributionDomainName). */
  distributionDomainName: string
  distributionId?: string
  /** CloudFront-Viewer-Country for every request (default NL); a function to change it during a test, undefined for none. */
  country?: string | (() => string | undefined)
  /** The function's time budget; generous by default: tests judge the verdict, not the speed. */
  timeoutMs?: number
}

export interface EdgeOptions {
  tls: TlsMaterial
  /** The distribution's alias (or its hosts: alias and CloudFront domain): every request to them is judged. */
  mediaHost: string | readonly string[]
  /** Path (without query) → bytes. */
  media: Record<string, MediaFile>
  /** The keys CloudFront trusts for the distribution. */
  lookupKey: (id: string) => VerificationKey | undefined
  /** The edge's clock, epoch seconds. */
  now: () => number
  /** The page origin allowed to read media with credentials (CORS). */
  allowOrigin: string
  /** Handlers for the other hosts this server answers for (the web app). */
  sites?: Record<string, (request: IncomingMessage, response: ServerResponse) => void>
  /** Runs the distribution's viewer-request function before each media request is judged (off by default). */
  viewerRequest?: ViewerRequestOptions
}

export interface Edge {
  port: number
  /** Every judged request, in order. */
  decisions: EdgeDecision[]
  close: () => Promise<void>
}

const DEFAULT_VIEWER_COUNTRY = 'NL'
const ACCESS_DENIED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>'

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const decisions: EdgeDecision[] = []
  const mediaHosts: readonly string[] = typeof options.mediaHost === 'string' ? [options.mediaHost] : options.mediaHost

  function setCorsHeaders(response: ServerResponse): void {
    response.setHeader('cache-control', 'no-store')
    response.setHeader('access-control-allow-origin', options.allowOrigin)
    response.setHeader('access-control-allow-credentials', 'true')
    response.setHeader('access-control-expose-headers', 'x-edge-deny')
    response.setHeader('vary', 'Origin')
  }

  /** The viewer-request stage: true when the function answered (the response is sent), false when the request goes on. */
  async function runViewerRequest(stage: ViewerRequestOptions, request: IncomingMessage, response: ServerResponse, host: string, path: string): Promise<boolean> {
    const fn = await stage.source(path)
    if (fn === undefined) return false
    const country = typeof stage.country === 'function' ? stage.country() : 'country' in stage ? stage.country : DEFAULT_VIEWER_COUNTRY
    const event = buildViewerRequestEvent(request, {
      distributionDomainName: stage.distributionDomainName,
      ...(stage.distributionId !== undefined && { distributionId: stage.distributionId }),
      ...(country !== undefined && { country }),
    })
    const run = runFunction(fn.code, event, fn.store, { timeoutMs: stage.timeoutMs ?? 5000 })
    setCorsHeaders(response)
    if (run.error !== undefined) {
      // CloudFront answers 503 when the function fails or runs over its budget.
      decisions.push({ host, path, status: 503, reason: null, source: null, edgeReason: `function-error: ${run.error}` })
      response.writeHead(503, { 'content-type': 'text/plain', 'x-cache': 'FunctionExecutionError from cloudfront' }).end('function error')
      return true
    }
    const output = run.output as { statusCode?: number; headers?: Record<string, EventValue>; body?: string | { data?: string; encoding?: string } } | null
    if (output?.statusCode === undefined) return false
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(output.headers ?? {})) headers[name] = value.multiValue?.map((item) => item.value) ?? value.value
    const body = typeof output.body === 'string' ? output.body : output.body?.encoding === 'base64' ? Buffer.from(output.body.data ?? '', 'base64') : (output.body?.data ?? '')
    decisions.push({ host, path, status: output.statusCode, reason: null, source: null, edgeReason: output.headers?.[EDGE_DENY_HEADER]?.value ?? null })
    response.writeHead(output.statusCode, { ...headers, 'x-cache': 'FunctionGeneratedResponse from cloudfront' }).end(body)
    return true
  }

  async function serveMedia(request: IncomingMessage, response: ServerResponse, host: string): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]
    // The function sees the request as received, before CloudFront checks the signature.
    if (options.viewerRequest !== undefined && (await runViewerRequest(options.viewerRequest, request, response, host, path))) return
    // The browser connects to a local port but believes it talks to port 443: CloudFront sees no port.
    const url = `https://${host}${request.url}`
    const inspection = inspectSignedRequest({ url, cookies: parseCookies(request.headers.cookie), at: options.now(), lookupKey: options.lookupKey })
    const file = options.media[path]
    const status = inspection.verdict === 'deny' ? 403 : file === undefined ? 404 : 200
    decisions.push({ host, path, status, reason: inspection.reason, source: inspection.source, ...(options.viewerRequest !== undefined && { edgeReason: null }) })
    setCorsHeaders(response)
    if (status === 200) {
      response.writeHead(200, { 'content-type': file!.type, 'content-length': Buffer.byteLength(file!.body), ...responseOverrides(request.url ?? '/') })
      response.end(file!.body)
    } else {
      response.writeHead(status, { 'content-type': 'application/xml', 'x-cache': 'Error from cloudfront' })
      response.end(status === 403 ? ACCESS_DENIED : '')
    }
  }

  const server: Server = createServer({ key: options.tls.key, cert: options.tls.cert }, (request, response) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase()
    if (mediaHosts.includes(host)) {
      serveMedia(request, response, host).catch((error: unknown) => {
        console.error('local edge:', error)
        if (!response.headersSent) response.writeHead(502)
        response.end()
      })
      return
    }
    const site = options.sites?.[host]
    if (site !== undefined) return site(request, response)
    response.writeHead(421).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    decisions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * The response-* query parameters S3 honours on a signed GetObject, which reach it when the cache
 * policy forwards them (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
 */
function responseOverrides(url: string): Record<string, string> {
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
  const headers: Record<string, string> = {}
  for (const [param, header] of [['response-content-type', 'content-type'], ['response-content-disposition', 'content-disposition']] as const) {
    const value = query.get(param)
    if (value !== null) headers[header] = value
  }
  return headers
}

function parseCookies(header: string | undefined): Record<string, string> | undefined {
  if (header === undefined) return undefined
  return Object.fromEntries(
    header
      .split(';')
      .map((pair) => pair.trim())
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  )
}

/** A short mono 8-bit PCM WAV: a valid media file every browser plays. */
export function makeWav(seconds = 0.5, sampleRate = 8000): Buffer {
  const samples = Math.round(seconds * sampleRate)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + samples, 4)
  header.write('WAVEfmt ', 8)
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(sampleRate, 24)
  header.writeUInt32LE(sampleRate, 28) // byte rate
  header.writeUInt16LE(1, 32) // block align
  header.writeUInt16LE(8, 34) // bits per sample
  header.write('data', 36)
  header.writeUInt32LE(samples, 40)
  const data = Buffer.alloc(samples)
  for (let i = 0; i < samples; i++) data[i] = 128 + Math.round(60 * Math.sin((2 * Math.PI * 440 * i) / sampleRate))
  return Buffer.concat([header, data])
}

// MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono, no CRC: 417-byte frames of 1152 samples.
const MP3_FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x90, 0xc4])
const MP3_FRAME_BYTES = 417
const MP3_FRAME_SECONDS = 1152 / 44_100

/**
 * Silent MP3 frames: all-zero side information and no main data decode as silence in any MP3
 * decoder, so a browser plays them through hls.js (MP3 is an HLS packed-audio format) without an encoder.
 */
export function makeSilentMp3(seconds = 1): Buffer {
  const frame = Buffer.alloc(MP3_FRAME_BYTES)
  MP3_FRAME_HEADER.copy(frame)
  return Buffer.concat(Array.from({ length: Math.ceil(seconds / MP3_FRAME_SECONDS) }, () => frame))
}

/**
 * The service behind a web app's own origin (as a TLS-terminating proxy would put it): the request's method, URL,
 * Authorization and Content-Type are handed to the app, and its answer comes back as is.
 */
export function forwardToService(service: FastifyInstance, request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', async () => {
    const answer = await service.inject({
      method: request.method as 'POST',
      url: request.url!,
      headers: { authorization: request.headers.authorization ?? '', 'content-type': request.headers['content-type'] ?? '' },
      payload: Buffer.concat(chunks),
    })
    const { connection: _connection, 'transfer-encoding': _encoding, ...headers } = answer.headers
    response.writeHead(answer.statusCode, headers as Record<string, string | string[]>).end(answer.rawPayload)
  })
}
