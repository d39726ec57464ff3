import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { contentDisposition, downloadParams, MAX_FILENAME_BYTES } from '../../src/signing/download.js'
import { CodedError } from '../../src/signing/errors.js'

/** The filename* value decoded as RFC 5987 says: charset, empty language, percent-decoded UTF-8. */
function decodeExtValue(header: string): string {
  const match = /filename\*=UTF-8''([^;\s]*)/.exec(header)
  assert.ok(match, `no filename* in ${header}`)
  return decodeURIComponent(match[1])
}

const isInvalidFilename = (err: unknown) => err instanceof CodedError && err.code === 'INVALID_FILENAME'

describe('contentDisposition', () => {
  it('keeps every character of the name in filename* and gives an ASCII fallback', () => {
    const name = 'Résumé "final" 2026+*.pdf'
    const header = contentDisposition({ filename: name, disposition: 'attachment' })
    assert.equal(header, `attachment; filename="Resume _final_ 2026+*.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%202026%2B%2A.pdf`)
    assert.equal(decodeExtValue(header), name)
  })

  it('round-trips quotes, apostrophes, stars, pluses, percents, semicolons, spaces and non-ASCII', () => {
    for (const name of [`it's 100% done; ok.txt`, 'a+b=c (1) [2] {3}.csv', '東京 タワー.png', 'emoji 🎬 clip.mp4', '%41%25.txt', 'tab-free name;filename="x".txt']) {
      const header = contentDisposition({ filename: name, disposition: 'inline' })
      assert.ok(header.startsWith('inline; filename="'), header)
      assert.equal(decodeExtValue(header), name, name)
      // Only attr-chars and escapes in the extended value: no quote, apostrophe, star, space or semicolon to misparse.
      assert.match(header.slice(header.indexOf("UTF-8''") + 7), /^[A-Za-z0-9!#$&+\-.^_`|~%]*$/, name)
      const fallback = /filename="([^"]*)"/.exec(header)?.[1] ?? ''
      assert.match(fallback, /^[\x20-\x7e]*$/, `ASCII fallback for ${name}`)
      assert.ok(!/%[0-9A-Fa-f]{2}/.test(fallback), `no percent escape in the fallback for ${name}`)
    }
  })

  it('refuses control characters, separators, dot names and names over the bound with INVALID_FILENAME', () => {
    for (const name of ['a\nb.txt', 'a\rb', 'a\u0000b', 'a\u007fb', 'a\u0085b', 'dir/file.txt', 'dir\\file.txt', '.', '..', '   ', 'x\uD800y', 'é'.repeat(128)]) {
      assert.throws(() => contentDisposition({ filename: name, disposition: 'attachment' }), isInvalidFilename, JSON.stringify(name))
    }
    assert.equal(decodeExtValue(contentDisposition({ filename: 'a'.repeat(MAX_FILENAME_BYTES), disposition: 'attachment' })).length, MAX_FILENAME_BYTES)
    assert.throws(() => contentDisposition({ filename: 'a'.repeat(MAX_FILENAME_BYTES + 1), disposition: 'attachment' }), isInvalidFilename)
  })
})

describe('downloadParams', () => {
  it('adds response-content-type only when asked', () => {
    assert.deepEqual(Object.keys(downloadParams({ filename: 'a.pdf', disposition: 'attachment' })), ['response-content-disposition'])
    assert.deepEqual(downloadParams({ filename: 'a.pdf', disposition: 'inline', contentType: 'application/pdf' }), {
      'response-content-disposition': `inline; filename="a.pdf"; filename*=UTF-8''a.pdf`,
      'response-content-type': 'application/pdf',
    })
  })
})
