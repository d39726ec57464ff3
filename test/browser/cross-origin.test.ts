// Playback as today's browsers allow it across sites: the page (player.example.net), the service
// (api.example.com) and the media (media.example.com, the local edge of test/support/edge.ts) are
// three origins on two sites, with third-party cookies blocked. The hosts are mapped to the edge's
// local port with --host-rules over throwaway TLS, as in playback.test.ts; nothing leaves 127.0.0.1.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { FastifyInstance } from 'fastify'
import { chromium, type Page } from 'playwright-core'
import { build } from '../support/build.js'
import { makeToken } from '../support/tokens.js'
import { lookupTestKey } from '../support/inspector.js'
import { needs, SYSTEM_TOOLS } from '../support/tools.js'
import { createSelfSignedCert, makeSilentMp3, makeWav, startEdge, type Edge } from '../support/edge.js'

const PLAYER_HOST = 'player.example.net'
const API_HOST = 'api.example.com'
const MEDIA_HOST = 'media.example.com'
// The playback redirect signs for the distribution's CloudFront domain.
const CLOUDFRONT_HOST = 'd111111abcdef8.cloudfront.net'
// A third site that tries to keep a cookie from inside the player's page.
const PROBE_HOST = 'probe.example.org'
const HOSTS = [PLAYER_HOST, API_HOST, MEDIA_HOST, CLOUDFRONT_HOST, PROBE_HOST]
const PLAYER = `https://${PLAYER_HOST}`
const API = `https://${API_HOST}`
const MEDIA = `https://${MEDIA_HOST}`

const HLS_JS = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'))

const CONFIG = {
  distributions: {
    media: {
      domain: CLOUDFRONT_HOST,
      aliases: [MEDIA_HOST],
      allowedPaths: ['/media/*', '/hls/*', '/files/*'],
      defaultTtlSeconds: 300,
      maxTtlSeconds: 3600,
    },
  },
  cors: { origins: [PLAYER] },
}

// An encrypted HLS stream: a master playlist, a variant playlist, an AES-128 key and MP3 segments, all under the folder.
const SEGMENTS = 3
const HLS_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex')
const HLS_IV = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex')
const encrypt = (data: Buffer) => {
  const cipher = createCipheriv('aes-128-cbc', HLS_KEY, HLS_IV)
  return Buffer.concat([cipher.update(data), cipher.final()])
}
const MASTER = ['#EXTM3U', '#EXT-X-STREAM-INF:BANDWIDTH=130000,CODECS="mp4a.40.34"', 'audio/index.m3u8', ''].join('\n')
const VARIANT = [
  '#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD',
  `#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1.key",IV=0x${HLS_IV.toString('hex')}`,
  ...Array.from({ length: SEGMENTS }, (_, i) => [`#EXTINF:1.0,`, `seg-${i}.mp3`]).flat(),
  '#EXT-X-ENDLIST', '',
].join('\n')
const FILE_NAME = 'Résumé "final" 2026+*.pdf'
// Every character the issue names except the two Chromium never saves (" and *): this one is saved exactly.
const SAVED_EXACTLY = "Résumé 'final' 2026+%; 100% sûr (€½).pdf"

const MEDIA_FILES = {
  '/media/tone.wav': { type: 'audio/wav', body: makeWav() },
  '/hls/movie-42/index.m3u8': { type: 'application/vnd.apple.mpegurl', body: MASTER },
  '/hls/movie-42/audio/index.m3u8': { type: 'application/vnd.apple.mpegurl', body: VARIANT },
  '/hls/movie-42/keys/k1.key': { type: 'application/octet-stream', body: HLS_KEY },
  ...Object.fromEntries(Array.from({ length: SEGMENTS }, (_, i) => [`/hls/movie-42/audio/seg-${i}.mp3`, { type: 'audio/mpeg', body: encrypt(makeSilentMp3(1)) }])),
  '/hls/movie-43/audio/seg-0.mp3': { type: 'audio/mpeg', body: encrypt(makeSilentMp3(1)) },
  '/files/cv.pdf': { type: 'binary/octet-stream', body: '%PDF-1.4\n%%EOF\n' },
}

// The player page: calls the service cross-origin (CORS), plays through hls.js or a media element.
const PAGE = `<!doctype html><meta charset="utf-8"><title>player</title><script src="/hls.min.js"></script><body><script>
window.api = async (token, path, body) => {
  const res = await fetch('${API}' + path, { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}
window.playVideo = (url) => new Promise((resolve) => {
  const video = document.createElement('video')
  video.addEventListener('playing', () => resolve({ played: true, duration: video.duration }))
  video.addEventListener('error', () => resolve({ played: false, error: video.error && video.error.code }))
  video.src = url
  document.body.append(video)
  video.play().catch(() => {})
})
// The README's hls.js recipe: the grant's query on every request under its folder, nowhere else.
window.playHls = (manifest, folder, query, fragments) => new Promise((resolve) => {
  const video = document.createElement('video')
  document.body.append(video)
  const loaded = []
  let playing = false
  const done = () => { if (playing && loaded.length === fragments) resolve({ played: true, loaded }) }
  const hls = new Hls({
    xhrSetup(xhr, url) {
      xhr.open('GET', url.startsWith(folder) ? url + (url.includes('?') ? '&' : '?') + query : url, true)
    },
  })
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => { loaded.push(data.frag.relurl); done() })
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) resolve({ played: false, details: data.details, status: data.response ? data.response.code : null, loaded })
  })
  video.addEventListener('playing', () => { playing = true; done() })
  hls.loadSource(manifest)
  hls.attachMedia(video)
  video.play().catch(() => {})
})
window.load = async (url, credentials) => {
  const res = await fetch(url, { credentials })
  return { status: res.status, text: await res.text() }
}
window.download = (url) => {
  const link = document.createElement('a')
  link.href = url
  document.body.append(link)
  link.click()
}
</script></body>`

/** The player's own site: the page and hls.js. */
function playerSite(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
  if (request.url === '/hls.min.js') return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(HLS_JS)
  response.writeHead(404).end()
}

/**
 * The service on its own origin, every request header passed (CORS needs Origin). A path under
 * /same-origin/ answers with the default Cross-Origin-Resource-Policy, to show what it blocks.
 */
function apiSite(service: FastifyInstance) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', async () => {
      const sameOrigin = request.url!.startsWith('/same-origin/')
      const { host: _host, connection: _connection, ...headers } = request.headers
      const answer = await service.inject({
        method: request.method as 'GET',
        url: sameOrigin ? request.url!.slice('/same-origin'.length) : request.url!,
        headers: headers as Record<string, string>,
        payload: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      })
      const { connection: _c, 'transfer-encoding': _encoding, ...answered } = answer.headers
      if (sameOrigin) answered['cross-origin-resource-policy'] = 'same-origin'
      response.writeHead(answer.statusCode, answered as Record<string, string | string[]>).end(answer.rawPayload)
    })
  }
}

/** A third-party site that sets a SameSite=None cookie and reports the cookies it receives. */
function probeSite(request: IncomingMessage, response: ServerResponse): void {
  const headers = { 'access-control-allow-origin': PLAYER, 'access-control-allow-credentials': 'true', 'cache-control': 'no-store' }
  if (request.url === '/set') return void response.writeHead(200, { ...headers, 'set-cookie': 'probe=1; Path=/; Secure; SameSite=None; Max-Age=600' }).end('set')
  response.writeHead(200, headers).end(request.headers.cookie ?? '')
}

const call = <T>(page: Page, name: string, ...args: unknown[]) =>
  page.evaluate(([fn, rest]) => (globalThis as any)[fn](...rest), [name, args] as const) as Promise<T>

describe('browser playback across origins, third-party cookies blocked', needs('chromium'), () => {
  it('plays through the playback redirect and a signed query, and downloads under the exact file name', { timeout: 90_000 }, async (t) => {
    const clockMs = Date.now()
    const service = await build(t, { configInput: CONFIG, now: () => clockMs })
    const edge: Edge = await startEdge({
      tls: createSelfSignedCert(HOSTS),
      mediaHost: [MEDIA_HOST, CLOUDFRONT_HOST],
      media: MEDIA_FILES,
      lookupKey: lookupTestKey,
      now: () => Math.floor(clockMs / 1000),
      allowOrigin: PLAYER,
      sites: { [PLAYER_HOST]: playerSite, [API_HOST]: apiSite(service), [PROBE_HOST]: probeSite },
    })
    t.after(() => edge.close())
    const browser = await chromium.launch({
      executablePath: SYSTEM_TOOLS.chromium.executable,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required',
        // Third-party cookies blocked, as for users who turned them off (the probe below checks they are).
        '--test-third-party-cookie-phaseout',
        `--host-rules=${HOSTS.map((host) => `MAP ${host}:443 127.0.0.1:${edge.port}`).join(', ')}`,
      ],
    })
    t.after(() => browser.close())
    const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    await page.goto(`${PLAYER}/`)
    const token = makeToken({ sub: 'web-player', scope: 'sign sign:wildcard' }, { nowMs: clockMs })

    await t.test('the browser keeps and sends no third-party cookie', async () => {
      assert.equal((await call<{ status: number }>(page, 'load', `https://${PROBE_HOST}/set`, 'include')).status, 200)
      assert.deepEqual(await context.cookies(`https://${PROBE_HOST}`), [], 'not kept when set from the player page')
      const firstParty = await context.newPage()
      await firstParty.goto(`https://${PROBE_HOST}/set`)
      await firstParty.close()
      assert.deepEqual((await context.cookies(`https://${PROBE_HOST}`)).map((c) => c.name), ['probe'], 'kept when set first-party')
      assert.equal((await call<{ text: string }>(page, 'load', `https://${PROBE_HOST}/echo`, 'include')).text, '', 'never sent from the player page')
    })

    await t.test('a <video> on another origin plays through the playback redirect (CORP cross-origin)', async () => {
      const query = new URLSearchParams({ distribution: 'media', path: '/media/tone.wav', access_token: token })
      const mark = edge.decisions.length
      const played = await call<{ played: boolean; duration?: number }>(page, 'playVideo', `${API}/v1/playback?${query}`)
      assert.deepEqual({ played: played.played, long: (played.duration ?? 0) > 0.4 }, { played: true, long: true }, JSON.stringify(played))
      const judged = edge.decisions.slice(mark)
      assert.ok(judged.length > 0 && judged.every((d) => d.status === 200 && d.source === 'url'), JSON.stringify(judged))

      const blocked = await call<{ played: boolean }>(page, 'playVideo', `${API}/same-origin/v1/playback?${query}`)
      assert.equal(blocked.played, false, 'the same redirect with CORP same-origin is blocked')
    })

    await t.test('hls.js plays an encrypted multi-segment stream with only a signed query; outside the folder or tampered, 403', async () => {
      const granted = await call<{ status: number; body: { query: string; resource: string } }>(page, 'api', token, '/v1/signed-queries', { distribution: 'media', resource: '/hls/movie-42/*', expiresIn: 120 })
      assert.equal(granted.status, 200, JSON.stringify(granted.body))
      const folder = `${MEDIA}/hls/movie-42/`
      assert.equal(granted.body.resource, `${folder}*`)
      const mark = edge.decisions.length
      const played = await call<{ played: boolean; loaded: string[] }>(page, 'playHls', `${folder}index.m3u8`, folder, granted.body.query, SEGMENTS)
      assert.deepEqual(played, { played: true, loaded: Array.from({ length: SEGMENTS }, (_, i) => `seg-${i}.mp3`) })
      const judged = edge.decisions.slice(mark)
      assert.deepEqual(
        new Set(judged.map((d) => d.path)),
        new Set(['/hls/movie-42/index.m3u8', '/hls/movie-42/audio/index.m3u8', '/hls/movie-42/keys/k1.key', ...Array.from({ length: SEGMENTS }, (_, i) => `/hls/movie-42/audio/seg-${i}.mp3`)]),
        'manifest, variant playlist, key and every segment',
      )
      assert.ok(judged.every((d) => d.status === 200 && d.source === 'url'), JSON.stringify(judged))

      const outside = await call<{ status: number }>(page, 'load', `${MEDIA}/hls/movie-43/audio/seg-0.mp3?${granted.body.query}`, 'omit')
      assert.equal(outside.status, 403, 'a segment outside the folder')
      assert.equal(edge.decisions.at(-1)?.reason, 'RESOURCE_MISMATCH')
      const tampered = granted.body.query.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === 'A' ? 'B' : 'A'}`)
      const refused = await call<{ played: boolean; status: number | null }>(page, 'playHls', `${folder}index.m3u8`, folder, tampered, SEGMENTS)
      assert.deepEqual({ played: refused.played, status: refused.status }, { played: false, status: 403 }, JSON.stringify(refused))
      assert.equal(edge.decisions.at(-1)?.reason, 'BAD_SIGNATURE')
    })

    await t.test('a signed download arrives with the exact file name, saved as Chromium allows', async () => {
      const signed = await call<{ status: number; body: { url: string } }>(page, 'api', token, '/v1/signed-urls', {
        url: `${MEDIA}/files/cv.pdf`,
        download: { filename: FILE_NAME, disposition: 'attachment', contentType: 'application/pdf' },
      })
      assert.equal(signed.status, 200, JSON.stringify(signed.body))
      const [download, response] = await Promise.all([page.waitForEvent('download'), page.waitForResponse(signed.body.url), call(page, 'download', signed.body.url)])
      const disposition = (await response.headerValue('content-disposition')) ?? ''
      assert.equal(decodeURIComponent(/filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1] ?? ''), FILE_NAME, disposition)
      assert.equal(await response.headerValue('content-type'), 'application/pdf')
      // Chromium replaces the characters it never puts in a file name ("*/:<>?\|) on every platform;
      // the rest (accents, +, spaces) comes from filename*, not from the ASCII fallback.
      assert.equal(download.suggestedFilename(), FILE_NAME.replace(/["*]/g, '_'))
      assert.deepEqual(edge.decisions.at(-1), { host: MEDIA_HOST, path: '/files/cv.pdf', status: 200, reason: null, source: 'url' })

      const exact = await call<{ status: number; body: { url: string } }>(page, 'api', token, '/v1/signed-urls', {
        url: `${MEDIA}/files/cv.pdf`,
        download: { filename: SAVED_EXACTLY, disposition: 'attachment' },
      })
      assert.equal(exact.status, 200, JSON.stringify(exact.body))
      const [saved] = await Promise.all([page.waitForEvent('download'), call(page, 'download', exact.body.url)])
      assert.equal(saved.suggestedFilename(), SAVED_EXACTLY)
    })
  })
})
