import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { build } from '../support/build.js'
import { needs } from '../support/tools.js'

// Debian's chromium (CI installs it: .ci/run; elsewhere the test is skipped without it).
const CHROMIUM = '/usr/bin/chromium'

describe('GET /openapi.json and /docs', () => {
  it('serve the document and the interactive docs without a token', async (t) => {
    const app = await build(t)
    const document = await app.inject({ method: 'GET', url: '/openapi.json' })
    assert.equal(document.statusCode, 200)
    assert.match(document.json().openapi, /^3\./)
    const docs = await app.inject({ method: 'GET', url: '/docs/' })
    assert.equal(docs.statusCode, 200)
    assert.match(docs.headers['content-type'] as string, /^text\/html/)
    assert.match(docs.body, /swagger-ui-bundle\.js/)
    // Their own CSP: scripts only from the service itself, still never framed.
    assert.match(docs.headers['content-security-policy'] as string, /script-src 'self';/)
    assert.match(docs.headers['content-security-policy'] as string, /frame-ancestors 'none'/)
  })

  it('answer 404 NOT_FOUND, like any unknown path, when docs.enabled is false', async (t) => {
    const app = await build(t, { configInput: { docs: { enabled: false } } })
    for (const url of ['/openapi.json', '/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/swagger-ui.css', '/docs/static/index.html']) {
      const response = await app.inject({ method: 'GET', url })
      assert.equal(response.statusCode, 404, url)
      assert.deepEqual(response.json(), { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route GET ${url}` })
    }
  })

  it('render in a browser under their CSP: every operation listed, nothing blocked', needs('chromium'), async (t) => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`)
    const app = await build(t)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    t.after(() => browser.close())
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text())
    })
    page.on('pageerror', (err) => problems.push(err.message))

    await page.goto(`http://127.0.0.1:${port}/docs`)
    await page.waitForSelector('.opblock-summary-path', { timeout: 15_000 })
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((node) => node.getAttribute('data-path')))
    const expected = Object.keys((await app.inject({ method: 'GET', url: '/openapi.json' })).json().paths)
    for (const path of expected) assert.ok(paths.includes(path), `${path} is not listed in /docs`)
    assert.ok(await page.isVisible('.info .title'), "await page.isVisible('.info .title')")
    assert.deepEqual(problems, [])
  })
})
