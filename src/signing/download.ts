import { signingError } from './errors.js'

export type Disposition = 'attachment' | 'inline'

/** How the browser should treat the object: saved under a name (attachment) or shown (inline). */
export interface DownloadOptions {
  filename: string
  disposition: Disposition
  /** Replaces the object's stored Content-Type. */
  contentType?: string
}

/** File systems commonly cap a name at 255 bytes; a longer one would be cut by the browser anyway. */
export const MAX_FILENAME_BYTES = 255

// Control characters and path separators: a name, never a path, and nothing a header could split on.
const FORBIDDEN_FILENAME_CHARS = /[\u0000-\u001f\u007f-\u009f/\\]/
const LONE_SURROGATE = /(?:[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF])/
const COMBINING_MARKS = /[\u0300-\u036f]/g

/** Refuses a file name that cannot be one name on the user's disk. */
export function checkFilename(filename: string): void {
  if (FORBIDDEN_FILENAME_CHARS.test(filename)) throw signingError('INVALID_FILENAME', 'download.filename must not contain control characters, "/" or "\\"')
  if (LONE_SURROGATE.test(filename)) throw signingError('INVALID_FILENAME', 'download.filename is not well-formed Unicode (a lone surrogate)')
  if (filename.trim() === '' || filename === '.' || filename === '..') throw signingError('INVALID_FILENAME', 'download.filename must name a file')
  const bytes = Buffer.byteLength(filename, 'utf8')
  if (bytes > MAX_FILENAME_BYTES) throw signingError('INVALID_FILENAME', `download.filename is at most ${MAX_FILENAME_BYTES} bytes in UTF-8 (this one has ${bytes})`)
}

/**
 * The ASCII `filename` for clients without RFC 5987: accents dropped (é → e), other non-ASCII, `"`,
 * `\` and `%` replaced by `_`, as RFC 6266 appendix D advises for the quoted form.
 */
function asciiFallback(filename: string): string {
  return filename.normalize('NFKD').replace(COMBINING_MARKS, '').replace(/[^\x20-\x7e]|["\\%]/gu, '_')
}

/** RFC 5987 ext-value: UTF-8, every byte outside attr-char percent-encoded (`'`, `*`, `(`, `)` included). */
function extValue(filename: string): string {
  return `UTF-8''${encodeURIComponent(filename).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`
}

/** The Content-Disposition header value (RFC 6266): an ASCII fallback `filename` and the exact `filename*`. */
export function contentDisposition(options: Pick<DownloadOptions, 'filename' | 'disposition'>): string {
  checkFilename(options.filename)
  return `${options.disposition}; filename="${asciiFallback(options.filename)}"; filename*=${extValue(options.filename)}`
}

/** The S3 response-* overrides for a download, as query parameters (name → unencoded value). */
export function downloadParams(options: DownloadOptions): Record<string, string> {
  const params: Record<string, string> = { 'response-content-disposition': contentDisposition(options) }
  if (options.contentType !== undefined) params['response-content-type'] = options.contentType
  return params
}
