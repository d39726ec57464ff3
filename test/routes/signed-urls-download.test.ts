// POST /v1/signed-urls with `download`: S3's response-* overrides signed into the URL.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { TEST_NOW_MS } from '../support/build.js'
import { sharedApp } from '../support/shared-app.js'
import { bearer, makeToken } from '../support/tokens.js'
import { assertVerdict, getParam, inspectWithTestKeys } from '../support/inspector.js'
import { stripSigningParams } from '../../src/signing/resource.js'

const NOW = TEST_NOW_MS / 1000
const defaultApp = sharedApp()
const NAME = 'Résumé "final" 2026+*.pdf'
const DISPOSITION = `attachment; filename="Resume _final_ 2026+*.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%202026%2B%2A.pdf`

function post(app: FastifyInstance, payload: unknown, url = '/v1/signed-urls', token = makeToken({ sub: 'alice', scope: 'sign sign:wildcard' })) {
  return app.inject({ method: 'POST', url, headers: bearer(token), payload: payload as object })
}

describe('POST /v1/signed-urls with download', () => {
  it('adds response-content-disposition and response-content-type to the URL before signing (canned: part of the resource)', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { distribution: 'demo', path: '/files/cv.pdf', download: { filename: NAME, disposition: 'attachment', contentType: 'application/pdf' } })
    assert.equal(res.statusCode, 200, res.body)
    const { url, policy, resource } = res.json()
    assert.equal(policy, 'canned')
    assert.equal(resource, stripSigningParams(url), 'the overrides are in the signed resource')
    assert.equal(getParam(url, 'response-content-disposition'), DISPOSITION)
    assert.equal(getParam(url, 'response-content-type'), 'application/pdf')
    // Every reserved character is percent-encoded, so a browser sends the query exactly as signed.
    const query = url.slice(url.indexOf('?') + 1)
    assert.match(query, /^[A-Za-z0-9\-._~%=&]*$/, query)
    assertVerdict(inspectWithTestKeys(url, { at: NOW }), 'allow')
    const dropped = url.replace(/&response-content-type=[^&]*/, '')
    assertVerdict(inspectWithTestKeys(dropped, { at: NOW }), 'BAD_SIGNATURE', 'an override removed')
    const renamed = url.replace('attachment', 'inline')
    assertVerdict(inspectWithTestKeys(renamed, { at: NOW }), 'BAD_SIGNATURE', 'the disposition changed')
  })

  it('keeps the caller\'s query first and works with a wildcard resource covering the URL', async (t) => {
    const app = await defaultApp()
    const res = await post(app, { url: 'https://media.example.com/files/report.pdf?v=2', query: { lang: 'fr' }, resource: '/files/*', download: { filename: 'rapport été.pdf', disposition: 'inline' } })
    assert.equal(res.statusCode, 200, res.body)
    const { url, policy } = res.json()
    assert.equal(policy, 'custom')
    assert.ok(url.startsWith('https://media.example.com/files/report.pdf?v=2&lang=fr&response-content-disposition=inline%3B%20filename%3D%22rapport%20ete.pdf%22%3B%20filename%2A%3DUTF-8%27%27rapport%2520%25C3%25A9t%25C3%25A9.pdf&Policy='), url)
    assert.equal(getParam(url, 'response-content-type'), undefined)
    assertVerdict(inspectWithTestKeys(url, { at: NOW }), 'allow')
  })

  it('refuses bad file names with INVALID_FILENAME and malformed download options with VALIDATION_ERROR', async (t) => {
    const app = await defaultApp()
    const expect = async (download: unknown, code: string, extra: Record<string, unknown> = {}) => {
      const res = await post(app, { distribution: 'demo', path: '/files/a.pdf', download, ...extra })
      assert.equal(res.statusCode, 400, res.body)
      assert.equal(res.json().code, code, JSON.stringify(download))
    }
    for (const filename of ['a\r\nSet-Cookie: x=1', 'a/b.pdf', 'a\\b.pdf', '..', 'x'.repeat(256), 'é'.repeat(200)]) {
      await expect({ filename, disposition: 'attachment' }, 'INVALID_FILENAME')
    }
    await expect({ filename: '', disposition: 'attachment' }, 'VALIDATION_ERROR')
    await expect({ filename: 'x'.repeat(1025), disposition: 'attachment' }, 'VALIDATION_ERROR')
    await expect({ filename: 'a.pdf' }, 'VALIDATION_ERROR')
    await expect({ filename: 'a.pdf', disposition: 'download' }, 'VALIDATION_ERROR')
    await expect({ filename: 'a.pdf', disposition: 'inline', filenme: 'typo' }, 'VALIDATION_ERROR')
    for (const contentType of ['text/html\r\nX: y', 'pdf', 'text/plain; charset', 'a/b; c="d\ne"']) {
      await expect({ filename: 'a.pdf', disposition: 'inline', contentType }, 'VALIDATION_ERROR')
    }
    await expect({ filename: 'a.pdf', disposition: 'inline' }, 'VALIDATION_ERROR', { query: { 'response-content-disposition': 'inline' } })
    const ok = await post(app, { distribution: 'demo', path: '/files/a.txt', download: { filename: 'a.txt', disposition: 'inline', contentType: 'text/plain; charset="utf-8"' } })
    assert.equal(ok.statusCode, 200, ok.body)
  })

  it('applies to batch items, each on its own', async (t) => {
    const app = await defaultApp()
    const res = await post(app, {
      items: [
        { distribution: 'demo', path: '/files/a.pdf', download: { filename: NAME, disposition: 'attachment' } },
        { distribution: 'demo', path: '/files/b.pdf', download: { filename: 'a/b.pdf', disposition: 'attachment' } },
        { distribution: 'demo', path: '/files/c.pdf', download: { filename: 'c.pdf' } },
      ],
    }, '/v1/signed-urls/batch')
    assert.equal(res.statusCode, 200, res.body)
    const [first, second, third] = res.json().items
    assert.equal(getParam(first.url, 'response-content-disposition'), DISPOSITION)
    assertVerdict(inspectWithTestKeys(first.url, { at: NOW }), 'allow')
    assert.equal(second.error.code, 'INVALID_FILENAME')
    assert.equal(third.error.code, 'VALIDATION_ERROR')
  })
})
