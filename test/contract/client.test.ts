import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SCHEMA_FILE, generateSchema } from '../../clients/typescript/generate.js'
import { createCfSignerClient, type CfSignerClient, type Schemas } from '../../clients/typescript/index.js'
import { build, TEST_NOW_MS } from '../support/build.js'
import { makeToken } from '../support/tokens.js'

const NOW = TEST_NOW_MS / 1000

/** The typed client against the app listening on 127.0.0.1. */
async function startClient(t: import('node:test').TestContext): Promise<CfSignerClient> {
  const app = await build(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  return createCfSignerClient(`http://127.0.0.1:${port}`, makeToken({ sub: 'client', scope: 'sign sign:wildcard' }))
}

describe('clients/typescript', () => {
  it('schema.d.ts is what `npm run client` generates from openapi.yaml', async () => {
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), await generateSchema(), 'clients/typescript/schema.d.ts is stale: run `npm run openapi` (or `npm run client`) and commit it')
  })

  it('signs a URL from either body form; the service refuses a mix the types refuse', async (t) => {
    const client = await startClient(t)
    const byPath = await client.POST('/v1/signed-urls', { body: { distribution: 'demo', path: '/videos/clip.mp4', expiresIn: 60 } })
    assert.equal(byPath.response.status, 200, JSON.stringify(byPath.error))
    assert.match(byPath.data?.url ?? '', /^https:\/\/d111111abcdef8\.cloudfront\.net\/videos\/clip\.mp4\?Expires=/)
    assert.equal(byPath.data?.expires, NOW + 60)
    const byUrl = await client.POST('/v1/signed-urls', { body: { url: 'https://media.example.com/images/a.png' } })
    assert.equal(byUrl.response.status, 200, JSON.stringify(byUrl.error))
    assert.equal(byUrl.data?.policy, 'canned')

    // @ts-expect-error a body names a distribution and path, or a url, never both
    const mixed: Schemas['SignedUrlRequest'] = { distribution: 'demo', path: '/videos/clip.mp4', url: 'https://media.example.com/videos/clip.mp4' }
    // @ts-expect-error a distribution with a url is neither form
    const refused = await client.POST('/v1/signed-urls', { body: { distribution: 'demo', url: 'https://media.example.com/videos/clip.mp4' } })
    assert.equal(refused.response.status, 400)
    assert.equal(refused.error?.code, 'VALIDATION_ERROR')
    const both = await client.POST('/v1/signed-urls', { body: mixed })
    assert.equal(both.error?.code, 'VALIDATION_ERROR')
  })

  it('signs a batch whose items are typed, each succeeding or failing on its own', async (t) => {
    const client = await startClient(t)
    const { data, error } = await client.POST('/v1/signed-urls/batch', {
      body: { items: [{ distribution: 'demo', path: '/videos/a.mp4' }, { url: 'https://media.example.com/images/b.png' }, { distribution: 'nowhere', path: '/a' }] },
    })
    assert.equal(error, undefined, JSON.stringify(error))
    const outcomes = data?.items.map((item) => ('error' in item ? item.error.code : new URL(item.url).pathname))
    assert.deepEqual(outcomes, ['/videos/a.mp4', '/images/b.png', 'UNKNOWN_DISTRIBUTION'])
  })

  it('signs cookies, redirects a player and inspects what it signed', async (t) => {
    const client = await startClient(t)
    const cookies = await client.POST('/v1/signed-cookies', { body: { distribution: 'demo', resource: '/hls/movie-42/*' } })
    assert.equal(cookies.response.status, 200, JSON.stringify(cookies.error))
    const cookieSet = cookies.data?.cookies
    assert.ok(cookieSet !== undefined, 'the answer carries the cookies')

    const playback = await client.GET('/v1/playback', { params: { query: { distribution: 'demo', path: '/videos/clip.mp4' } }, redirect: 'manual' })
    assert.equal(playback.response.status, 302)
    const location = playback.response.headers.get('location') ?? ''
    assert.match(location, /^https:\/\/d111111abcdef8\.cloudfront\.net\/videos\/clip\.mp4\?Expires=/)

    const viaUrl = await client.POST('/v1/inspect', { body: { url: location } })
    assert.equal(viaUrl.data?.verdict, 'allow', JSON.stringify(viaUrl.data ?? viaUrl.error))
    const viaCookies = await client.POST('/v1/inspect', { body: { url: 'https://media.example.com/hls/movie-42/seg-1.ts', cookies: cookieSet } })
    assert.equal(viaCookies.data?.verdict, 'allow', JSON.stringify(viaCookies.data ?? viaCookies.error))
  })
})
