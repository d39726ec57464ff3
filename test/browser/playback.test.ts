// Debian's chromium plays media through a local stand-in for CloudFront (test/support/edge.ts),
// which judges every request with the inspector and the published test keys.
//
// Why HTTPS, and how the hosts are real: the service's cookies are `Secure` (and SameSite=None
// requires Secure), so they are only set and sent over https. The edge serves both hosts over TLS
// with a throwaway self-signed certificate made by `openssl` at test time, which chromium accepts
// with --ignore-certificate-errors (the origin still counts as secure). Chromium's --host-rules
// send app.example.com:443 and media.example.com:443 to the edge's local port, so the browser
// believes it talks to those hosts on 443: it sends `Host: media.example.com`, matches the cookie
// `Domain=example.com` set by app.example.com against media.example.com, and applies same-site and
// CORS rules exactly as on the real hosts; the signed URLs carry no port, as in production. The
// page on app.example.com reaches the service at its own origin (/v1/...), the way a TLS-terminating
// proxy in front of the service would put it. Nothing leaves 127.0.0.1.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { chromium } from 'playwright-core'
import { build } from '../support/build.js'
import { makeToken } from '../support/tokens.js'
import { lookupTestKey } from '../support/inspector.js'
import { createSelfSignedCert, forwardToService, makeWav, startEdge, type Edge } from '../support/edge.js'
import { needs } from '../support/tools.js'

const CHROMIUM = '/usr/bin/chromium'
const APP_HOST = 'app.example.com'
const MEDIA_HOST = 'media.example.com'
const APP_ORIGIN = `https://${APP_HOST}`
const MEDIA = `https://${MEDIA_HOST}`

const CONFIG = {
  distributions: {
    media: {
      domain: 'd111111abcdef8.cloudfront.net',
      aliases: [MEDIA_HOST],
      allowedPaths: ['/media/*', '/hls/*'],
      defaultTtlSeconds: 300,
      maxTtlSeconds: 3600,
      cookies: { domain: 'example.com', sameSite: 'None' },
    },
  },
}

const PLAYLIST = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:1', '#EXTINF:0.5,', 'seg-0.wav', '#EXTINF:0.5,', 'seg-1.wav', '#EXT-X-ENDLIST', ''].join('\n')
const MEDIA_FILES = {
  '/media/tone.wav': { type: 'audio/wav', body: makeWav() },
  '/media/other.wav': { type: 'audio/wav', body: makeWav(0.25) },
  '/hls/movie-42/index.m3u8': { type: 'application/vnd.apple.mpegurl', body: PLAYLIST },
  '/hls/movie-42/seg-0.wav': { type: 'audio/wav', body: makeWav() },
  '/hls/movie-42/seg-1.wav': { type: 'audio/wav', body: makeWav() },
  '/hls/movie-43/index.m3u8': { type: 'application/vnd.apple.mpegurl', body: PLAYLIST },
}

// The player page: asks the service for grants, plays audio, loads files with credentials.
const PAGE = `<!doctype html><meta charset="utf-8"><title>player</title><body><script>
window.api = async (token, path, body) => {
  const res = await fetch(path, { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}
window.play = (url) => new Promise((resolve) => {
  const audio = document.createElement('audio')
  audio.addEventListener('playing', () => resolve({ played: true, duration: audio.duration }))
  audio.addEventListener('error', () => resolve({ played: false, error: audio.error && audio.error.code }))
  audio.src = url
  document.body.append(audio)
  audio.play().catch(() => {})
})
window.load = async (url) => {
  const res = await fetch(url, { credentials: 'include' })
  return { status: res.status, text: await res.text() }
}
</script></body>`

/** The web app on app.example.com: the page, and the service behind the same origin. */
function webApp(service: FastifyInstance) {
  return (request: IncomingMessage, response: ServerResponse) => {
    if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE)
      return
    }
    if (!request.url?.startsWith('/v1/')) {
      response.writeHead(404).end()
      return
    }
    forwardToService(service, request, response)
  }
}

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof chromium.launch>>['newPage']>>

interface Loaded {
  status: number
  text: string
}

const api = (page: Page, token: string, path: string, body: Record<string, unknown>) =>
  page.evaluate(([t, p, b]) => (globalThis as any).api(t, p, b), [token, path, body] as const) as Promise<{ status: number; body: any }>
const play = (page: Page, url: string) => page.evaluate((u) => (globalThis as any).play(u), url) as Promise<{ played: boolean; duration?: number }>
const load = (page: Page, url: string) => page.evaluate((u) => (globalThis as any).load(u), url) as Promise<Loaded>

/** The edge's decisions about one path since a given point. */
const decisionsFor = (edge: Edge, path: string, since = 0) => edge.decisions.slice(since).filter((d) => d.path === path)

describe('browser playback through a local CloudFront edge', needs('chromium'), () => {
  it('plays signed URLs and cookie-protected folders, and refuses tampered or expired ones', { timeout: 60_000 }, async (t) => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required for this test: apt-get install chromium (.ci/run does)`)
    let clockMs = Date.now()
    const service = await build(t, { configInput: CONFIG, now: () => clockMs })
    const edge = await startEdge({
      tls: createSelfSignedCert([APP_HOST, MEDIA_HOST]),
      mediaHost: MEDIA_HOST,
      media: MEDIA_FILES,
      lookupKey: lookupTestKey,
      now: () => Math.floor(clockMs / 1000),
      allowOrigin: APP_ORIGIN,
      sites: { [APP_HOST]: webApp(service) },
    })
    t.after(() => edge.close())
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--ignore-certificate-errors', '--autoplay-policy=no-user-gesture-required',
        // Unlike --host-resolver-rules (addresses only), --host-rules also maps the port.
        `--host-rules=MAP ${APP_HOST}:443 127.0.0.1:${edge.port}, MAP ${MEDIA_HOST}:443 127.0.0.1:${edge.port}`,
      ],
    })
    t.after(() => browser.close())
    const context = await browser.newContext({ ignoreHTTPSErrors: true })
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    await page.goto(`${APP_ORIGIN}/`)
    const token = makeToken({ sub: 'web-player', scope: 'sign sign:wildcard' }, { nowMs: clockMs })

    const signed = await api(page, token, '/v1/signed-urls', { url: `${MEDIA}/media/tone.wav`, expiresIn: 60 })
    assert.equal(signed.status, 200, JSON.stringify(signed.body))
    const signedUrl: string = signed.body.url

    await t.test('a signed URL plays in a media element', async () => {
      const played = await play(page, signedUrl)
      assert.equal(played.played, true, JSON.stringify(played))
      assert.ok(played.duration! > 0.4, 'played.duration! > 0.4')
      const decisions = decisionsFor(edge, '/media/tone.wav')
      assert.ok(decisions.length > 0, 'decisions.length > 0')
      assert.deepEqual(new Set(decisions.map((d) => `${d.status} ${d.source} ${d.reason}`)), new Set(['200 url null']))
    })

    await t.test('a tampered signed URL is refused with 403', async () => {
      const mark = edge.decisions.length
      const tampered = signedUrl.replace('/media/tone.wav', '/media/other.wav')
      const loaded = await load(page, tampered)
      assert.equal(loaded.status, 403)
      assert.match(loaded.text, /AccessDenied/)
      assert.equal((await play(page, tampered)).played, false)
      assert.deepEqual(new Set(decisionsFor(edge, '/media/other.wav', mark).map((d) => d.reason)), new Set(['BAD_SIGNATURE']))
    })

    await t.test('a cookie-protected folder loads after the service set the cookies for example.com', async () => {
      const playlist = `${MEDIA}/hls/movie-42/index.m3u8`
      assert.equal((await load(page, playlist)).status, 403, 'nothing granted yet')
      const granted = await api(page, token, '/v1/signed-cookies', { distribution: 'media', resource: '/hls/movie-42/*', expiresIn: 120, setCookies: true })
      assert.equal(granted.status, 200, JSON.stringify(granted.body))
      assert.equal(await page.evaluate('document.cookie'), '', 'HttpOnly: scripts never see them')
      const jar = await context.cookies(MEDIA)
      assert.deepEqual(jar.map((c) => c.name).sort(), ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature'])
      for (const cookie of jar) {
        assert.deepEqual({ domain: cookie.domain, secure: cookie.secure, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }, { domain: '.example.com', secure: true, httpOnly: true, sameSite: 'None' })
      }

      const mark = edge.decisions.length
      const index = await load(page, playlist)
      assert.equal(index.status, 200)
      const segments = index.text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))
      assert.deepEqual(segments, ['seg-0.wav', 'seg-1.wav'])
      for (const segment of segments) assert.equal((await load(page, new URL(segment, playlist).href)).status, 200, segment)
      assert.equal((await play(page, new URL(segments[0], playlist).href)).played, true, 'a media element sends the cookies too')
      const judged = edge.decisions.slice(mark)
      assert.ok(judged.length >= 4, 'judged.length >= 4')
      assert.ok(judged.every((d) => d.status === 200 && d.source === 'cookies'), JSON.stringify(judged))

      const other = await load(page, `${MEDIA}/hls/movie-43/index.m3u8`)
      assert.equal(other.status, 403, 'another folder')
      assert.equal(edge.decisions.at(-1)?.reason, 'RESOURCE_MISMATCH')
    })

    await t.test('once expired, the signed URL and the cookies are refused with 403', async () => {
      clockMs += 121_000
      assert.equal((await load(page, signedUrl)).status, 403)
      assert.equal(edge.decisions.at(-1)?.reason, 'EXPIRED')
      // The browser still holds the cookies (their Max-Age runs on its own clock); the edge refuses them.
      assert.equal((await load(page, `${MEDIA}/hls/movie-42/index.m3u8`)).status, 403)
      assert.deepEqual(edge.decisions.at(-1), { host: MEDIA_HOST, path: '/hls/movie-42/index.m3u8', status: 403, reason: 'EXPIRED', source: 'cookies' })
    })
  })
})
