// The edge layer seen from a browser: the local edge (test/support/edge.ts) runs the viewer-request function the service
// deployed to the emulator (PUT /v1/admin/distributions/{id}/edge), reading the function and its KeyValueStore live at
// every request, before CloudFront's signature check. Hosts are mapped to the edge's port with --host-rules over a
// throwaway certificate, as in playback.test.ts; the page on app.example.com reaches the service at its own origin.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build } from '../support/build.js'
import { createSelfSignedCert, forwardToService, makeSilentMp3, makeWav, startEdge, type Edge, type EdgeDecision } from '../support/edge.js'
import { emulatorViewerRequest } from '../support/edge-function.js'
import { createCloudFrontEmulator } from '../../src/dev/emulator/index.js'
import { EMULATOR_CREDENTIALS } from '../support/emulator.js'
import { lookupTestKey } from '../support/inspector.js'
import { RSA_KEY_ID } from '../support/keys.js'
import { bearer, makeToken } from '../support/tokens.js'
import { needs, SYSTEM_TOOLS } from '../support/tools.js'
import { waitFor } from '../support/wait.js'

const APP_HOST = 'app.example.com'
const EVIL_HOST = 'evil.example.net'
const MEDIA_HOST = 'media.example.com'
const APP = `https://${APP_HOST}`
const MEDIA = `https://${MEDIA_HOST}`
const S3_ORIGIN = 'media-bucket.s3.amazonaws.com'
const EDGE_KEY = { id: 'e1', secret: 'e1-secret-0123456789abcdefghijklmnopqrstuv' }

const HLS_JS = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'))

// Many short segments, so a revocation lands while the stream still has most of its segments to fetch.
const SEGMENTS = 40
const SEGMENT = makeSilentMp3(0.5)
const PLAYLIST = [
  '#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD',
  ...Array.from({ length: SEGMENTS }, (_, i) => ['#EXTINF:0.5,', `seg-${i}.mp3`]).flat(),
  '#EXT-X-ENDLIST', '',
].join('\n')
const MEDIA_FILES = {
  '/media/tone.wav': { type: 'audio/wav', body: makeWav() },
  '/hls/movie-42/index.m3u8': { type: 'application/vnd.apple.mpegurl', body: PLAYLIST },
  ...Object.fromEntries(Array.from({ length: SEGMENTS }, (_, i) => [`/hls/movie-42/seg-${i}.mp3`, { type: 'audio/mpeg', body: SEGMENT }])),
}

// The player page. hls.js buffers about one segment ahead and does not retry a refused fragment, so a revocation
// shows within a segment or two: a fatal fragLoadError, then the media element waits for data that never comes.
const PAGE = `<!doctype html><meta charset="utf-8"><title>player</title><script src="/hls.min.js"></script><body><script>
window.api = async (token, path, body) => {
  const res = await fetch(path, { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}
window.player = null
window.startHls = (manifest, folder, query) => {
  if (window.player) { window.player.hls.destroy(); window.player.video.remove() }
  const video = document.createElement('video')
  document.body.append(video)
  const noRetry = { maxTimeToFirstByteMs: 10000, maxLoadTimeMs: 20000, timeoutRetry: null, errorRetry: null }
  const hls = new Hls({
    maxBufferLength: 1, maxMaxBufferLength: 1, backBufferLength: 0,
    fragLoadPolicy: { default: noRetry },
    xhrSetup(xhr, url) {
      xhr.open('GET', url.startsWith(folder) ? url + (url.includes('?') ? '&' : '?') + query : url, true)
    },
  })
  const state = { hls, video, loaded: [], fatal: null, playing: false, waitingAfterFatal: null }
  window.player = state
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => state.loaded.push(data.frag.relurl))
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal || state.fatal) return
    state.fatal = { details: data.details, code: data.response ? data.response.code : null, url: data.frag ? data.frag.relurl : null, at: video.currentTime }
    // Already out of data when the error came (HAVE_FUTURE_DATA not reached): no further waiting event comes.
    if (video.readyState < 3) stalled()
  })
  const stalled = () => { state.waitingAfterFatal = { at: video.currentTime, bufferedEnd: video.buffered.length ? video.buffered.end(video.buffered.length - 1) : 0 } }
  video.addEventListener('playing', () => { state.playing = true })
  video.addEventListener('waiting', () => { if (state.fatal) stalled() })
  hls.loadSource(manifest)
  hls.attachMedia(video)
  video.play().catch(() => {})
}
window.playerState = () => {
  const p = window.player
  return { loaded: p.loaded.slice(), fatal: p.fatal, playing: p.playing, currentTime: p.video.currentTime, waitingAfterFatal: p.waitingAfterFatal }
}
window.play = (url) => new Promise((resolve) => {
  const audio = document.createElement('audio')
  audio.addEventListener('playing', () => resolve({ played: true }))
  audio.addEventListener('error', () => resolve({ played: false, error: audio.error && audio.error.code }))
  audio.src = url
  document.body.append(audio)
  audio.play().catch(() => {})
})
</script></body>`

/** app.example.com: the player page, hls.js, and the service behind the same origin. */
function appSite(service: FastifyInstance) {
  return (request: IncomingMessage, response: ServerResponse) => {
    if (request.url === '/') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
    if (request.url === '/hls.min.js') return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(HLS_JS)
    if (!request.url?.startsWith('/v1/')) return void response.writeHead(404).end()
    forwardToService(service, request, response)
  }
}

/** evil.example.net: a page that embeds media it was handed (a leaked URL). */
function evilSite(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE.replace('<script src="/hls.min.js"></script>', ''))
  response.writeHead(404).end()
}

interface PlayerState {
  loaded: string[]
  fatal: { details: string; code: number | null; url: string | null; at: number } | null
  playing: boolean
  currentTime: number
  waitingAfterFatal: { at: number; bufferedEnd: number } | null
}

const call = <T>(page: Page, name: string, ...args: unknown[]) =>
  page.evaluate(([fn, rest]) => (globalThis as any)[fn](...rest), [name, args] as const) as Promise<T>
const playerState = (page: Page) => call<PlayerState>(page, 'playerState')
const isSegment = (d: EdgeDecision) => d.path.startsWith('/hls/movie-42/seg-')

/** The service's admin routes on the emulator: a distribution that trusts the test RSA key through a key group. */
async function createSignedDistribution(t: TestContext, endpoint: string): Promise<{ id: string; domainName: string }> {
  const admin = await build(t, { configInput: { aws: { accounts: { test: { region: 'us-east-1', endpoint } } } }, awsCredentials: EMULATOR_CREDENTIALS })
  const headers = bearer(makeToken({ sub: 'ops', scope: 'admin:write' }))
  const send = async (url: string, body: object) => {
    const res = await admin.inject({ method: 'POST', url: `/v1/admin${url}`, headers, payload: body })
    assert.equal(res.statusCode, 201, `${url}: ${res.body}`)
    return res.json()
  }
  const key = await send('/public-keys', { keyId: RSA_KEY_ID })
  const group = await send('/key-groups', { name: 'signers', publicKeyIds: [key.id] })
  const distribution = await send('/distributions', { origin: { domainName: S3_ORIGIN }, aliases: [MEDIA_HOST], comment: 'media', trustedKeyGroups: [group.id] })
  return { id: distribution.id, domainName: distribution.domainName }
}

describe('browser playback through the edge layer', needs('chromium'), () => {
  it('stops a playing stream when its grant is revoked, and refuses a grant embedded from a foreign site', { timeout: 120_000 }, async (t) => {
    // Stopped after the browser, so no media request still in flight finds it gone.
    const emulator = createCloudFrontEmulator()
    const endpoint = await emulator.listen()
    let browser: Browser | undefined
    t.after(async () => {
      await browser?.close()
      await emulator.close()
    })
    const distribution = await createSignedDistribution(t, endpoint)
    const keysDir = mkdtempSync(join(tmpdir(), 'cf-signer-edge-keys-'))
    t.after(() => rmSync(keysDir, { recursive: true, force: true }))
    writeFileSync(join(keysDir, EDGE_KEY.id), EDGE_KEY.secret)

    // The edge function reads Date.now(): the service, its tokens and the edge all run on the real clock.
    const service = await build(t, {
      now: () => Date.now(),
      awsCredentials: EMULATOR_CREDENTIALS,
      configInput: {
        aws: { accounts: { test: { region: 'us-east-1', endpoint } }, wait: { firstPollDelayMs: 20, maxPollDelayMs: 100 } },
        edge: { keysDir, activeKeyId: EDGE_KEY.id },
        distributions: {
          media: {
            domain: distribution.domainName,
            aliases: [MEDIA_HOST],
            allowedPaths: ['/media/*', '/hls/*'],
            defaultTtlSeconds: 300,
            maxTtlSeconds: 3600,
            distributionId: distribution.id,
            edge: true,
          },
        },
      },
    })
    const admin = bearer(makeToken({ sub: 'ops', scope: 'admin:write' }, { nowMs: Date.now() }))
    const deployed = await service.inject({ method: 'PUT', url: `/v1/admin/distributions/${distribution.id}/edge`, headers: admin })
    assert.equal(deployed.statusCode, 200, deployed.body)

    const viewerRequest = emulatorViewerRequest(endpoint, distribution.id)
    t.after(() => viewerRequest.destroy())
    const edge: Edge = await startEdge({
      tls: createSelfSignedCert([APP_HOST, EVIL_HOST, MEDIA_HOST]),
      mediaHost: [MEDIA_HOST, distribution.domainName],
      media: MEDIA_FILES,
      lookupKey: lookupTestKey,
      now: () => Math.floor(Date.now() / 1000),
      allowOrigin: APP,
      sites: { [APP_HOST]: appSite(service), [EVIL_HOST]: evilSite },
      viewerRequest: { source: viewerRequest, distributionDomainName: distribution.domainName, distributionId: distribution.id },
    })
    t.after(() => edge.close())
    browser = await chromium.launch({
      executablePath: SYSTEM_TOOLS.chromium.executable,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required',
        `--host-rules=${[APP_HOST, EVIL_HOST, MEDIA_HOST].map((host) => `MAP ${host}:443 127.0.0.1:${edge.port}`).join(', ')}`,
      ],
    })
    const context = await browser.newContext({ ignoreHTTPSErrors: true })
    const page = await context.newPage()
    page.setDefaultTimeout(20_000)
    await page.goto(`${APP}/`)
    const token = makeToken({ sub: 'web-player', scope: 'sign sign:wildcard' }, { nowMs: Date.now() })
    const folder = `${MEDIA}/hls/movie-42/`
    const grantFolder = async () => {
      const granted = await call<{ status: number; body: { query: string; grantId: string } }>(page, 'api', token, '/v1/signed-queries', { distribution: 'media', resource: '/hls/movie-42/*', expiresIn: 300 })
      assert.equal(granted.status, 200, JSON.stringify(granted.body))
      assert.match(granted.body.query, /(^|&)cf-edge=v1\./, 'the grant carries its edge token')
      return granted.body
    }

    await t.test('revoking the grant stops the stream at its next segment; a fresh grant plays again', async () => {
      const first = await grantFolder()
      await call(page, 'startHls', `${folder}index.m3u8`, folder, first.query)
      await page.waitForFunction(() => {
        const p = (globalThis as any).player
        return p.playing && p.loaded.length >= 3 && p.video.currentTime > 0.5
      })
      const before = await playerState(page)
      assert.equal(before.fatal, null)
      assert.ok(before.loaded.length < SEGMENTS / 2, `still most of the stream to fetch (loaded ${before.loaded.length})`)
      assert.ok(edge.decisions.every((d) => d.status === 200 && d.edgeReason === null), JSON.stringify(edge.decisions.filter((d) => d.status !== 200)))

      const mark = edge.decisions.length
      const revoked = await service.inject({ method: 'POST', url: '/v1/revocations', headers: admin, payload: { grantId: first.grantId } })
      assert.equal(revoked.statusCode, 201, revoked.body)

      await waitFor(() => edge.decisions.slice(mark).some((d) => d.edgeReason === 'revoked-grant'), 20_000, () => `a revoked-grant refusal in ${JSON.stringify(edge.decisions.slice(mark))}`)
      const refusal = edge.decisions.slice(mark).find((d) => d.edgeReason === 'revoked-grant')!
      assert.deepEqual({ status: refusal.status, segment: isSegment(refusal), reason: refusal.reason }, { status: 403, segment: true, reason: null })
      await page.waitForFunction(() => (globalThis as any).player.fatal !== null)
      await page.waitForFunction(() => (globalThis as any).player.waitingAfterFatal !== null)
      const after = await playerState(page)
      assert.deepEqual({ details: after.fatal?.details, code: after.fatal?.code, url: after.fatal?.url }, { details: 'fragLoadError', code: 403, url: refusal.path.slice('/hls/movie-42/'.length) })
      const stall = after.waitingAfterFatal!
      assert.ok(stall.at < SEGMENTS * 0.5 - 1, `the media element stalls well before the end (at ${stall.at} s)`)
      assert.ok(stall.at <= stall.bufferedEnd + 0.1, `it stalls where the buffered media ends (${stall.at} s of ${stall.bufferedEnd} s)`)
      assert.ok(after.loaded.length < SEGMENTS, 'the rest of the stream was never fetched')
      const afterRefusal = edge.decisions.slice(edge.decisions.indexOf(refusal) + 1)
      assert.ok(afterRefusal.every((d) => !(isSegment(d) && d.status === 200)), `no segment served after the refusal: ${JSON.stringify(afterRefusal)}`)

      const second = await grantFolder()
      assert.notEqual(second.grantId, first.grantId)
      const again = edge.decisions.length
      await call(page, 'startHls', `${folder}index.m3u8`, folder, second.query)
      await page.waitForFunction(() => {
        const p = (globalThis as any).player
        return p.playing && p.loaded.length >= 3 && p.video.currentTime > 0.5
      })
      assert.equal((await playerState(page)).fatal, null)
      const replayed = edge.decisions.slice(again)
      assert.ok(replayed.filter(isSegment).length >= 3, 'replayed.filter(isSegment).length >= 3')
      assert.ok(replayed.every((d) => d.status === 200 && d.edgeReason === null && d.reason === null), JSON.stringify(replayed))
    })

    await t.test('a grant for app.example.com plays there and is refused 403 referrer when embedded on another site', async () => {
      const granted = await call<{ status: number; body: { url: string } }>(page, 'api', token, '/v1/signed-urls', { url: `${MEDIA}/media/tone.wav`, expiresIn: 120, referrers: [APP_HOST] })
      assert.equal(granted.status, 200, JSON.stringify(granted.body))
      const evil = await context.newPage()
      await evil.goto(`https://${EVIL_HOST}/`)
      const mark = edge.decisions.length
      const embedded = await call<{ played: boolean }>(evil, 'play', granted.body.url)
      assert.equal(embedded.played, false)
      const refused = edge.decisions.slice(mark).filter((d) => d.path === '/media/tone.wav')
      assert.ok(refused.length > 0, 'refused.length > 0')
      assert.deepEqual(new Set(refused.map((d) => `${d.status} ${d.edgeReason}`)), new Set(['403 referrer']))
      await evil.close()

      const home = edge.decisions.length
      assert.equal((await call<{ played: boolean }>(page, 'play', granted.body.url)).played, true)
      const served = edge.decisions.slice(home).filter((d) => d.path === '/media/tone.wav')
      assert.ok(served.length > 0, 'served.length > 0')
      assert.ok(served.every((d) => d.status === 200 && d.edgeReason === null), JSON.stringify(served))
    })
  })
})
