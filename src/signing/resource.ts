import { signingError } from './errors.js'
import { SIGNING_PARAMS } from './policy.js'

// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded, so a
// browser or curl sends the path exactly as it was signed.
const encodeSegment = (segment: string) =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * Percent-encodes each segment of a raw (unencoded) path: `/my file+1.txt` → `/my%20file%2B1.txt`.
 * A `%` in a raw path is a literal percent sign.
 */
export function encodePath(rawPath: string): string {
  checkRawPath(rawPath)
  // Most paths need no encoding at all: skip splitting them.
  if (UNRESERVED_PATH.test(rawPath)) return rawPath
  return rawPath.split('/').map(encodeSegment).join('/')
}

const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/

// JSON allows "\ud800", which no UTF-8 URL can carry (encodeURIComponent throws on it).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * Refuses paths that would not name one object as written: relative, dot segments, control characters.
 * Dot segments count after percent-decoding and with `\` as a separator too: an origin that decodes
 * and normalises `/free/..%2Fpaid%2Fa.mp4` or `/free/..\paid\a.mp4` serves `/paid/a.mp4`.
 */
export function checkRawPath(rawPath: string): void {
  if (!rawPath.startsWith('/')) throw signingError('INVALID_PATH', 'path must start with "/"')
  if (/[\u0000-\u001f\u007f]/.test(rawPath)) throw signingError('INVALID_PATH', 'path contains control characters')
  if (LONE_SURROGATE.test(rawPath)) throw signingError('INVALID_PATH', 'path is not well-formed Unicode (a lone surrogate)')
  if (hasDotSegment(rawPath)) throw signingError('INVALID_PATH', 'path contains "." or ".." segments (percent-decoded, "/" and "\\" both separating)')
}

const DOT_SEGMENT = /(?:^|[/\\])\.\.?(?:[/\\]|$)/
// Only the separators and the dot matter to a dot segment; decoding them once is enough.
const ENCODED_DOT_OR_SEPARATOR = /%(?:2e|2f|5c)/gi

/** Whether a path has a `.` or `..` segment, as written or with `%2E`, `%2F`, `%5C` decoded once. */
function hasDotSegment(path: string): boolean {
  if (DOT_SEGMENT.test(path)) return true
  if (!path.includes('%')) return false
  return DOT_SEGMENT.test(path.replace(ENCODED_DOT_OR_SEPARATOR, (escaped) => String.fromCharCode(parseInt(escaped.slice(1), 16))))
}

/** Encodes extra query parameters; they become part of the signed resource. */
export function encodeQuery(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([key, value]) => {
      checkNotSigningParam(key)
      if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
        throw signingError('VALIDATION_ERROR', 'body.query: names and values must be well-formed Unicode (no lone surrogates)')
      }
      return `${encodeSegment(key)}=${encodeSegment(value)}`
    })
    .join('&')
}

export function checkNotSigningParam(name: string): void {
  if ((SIGNING_PARAMS as readonly string[]).includes(name)) {
    throw signingError('RESERVED_QUERY_PARAMETER', `query parameter "${name}" is reserved for CloudFront signing`)
  }
}

/** Appends `extra` (already encoded) to a URL or stream name that may already have a query. */
export function appendQuery(base: string, extra: string): string {
  if (extra === '') return base
  return base + (base.includes('?') ? '&' : '?') + extra
}

/** Removes the signing parameters, giving back the resource CloudFront compares with the policy. */
export function stripSigningParams(signed: string): string {
  const queryStart = signed.indexOf('?')
  if (queryStart === -1) return signed
  const kept = signed
    .slice(queryStart + 1)
    .split('&')
    .filter((pair) => !(SIGNING_PARAMS as readonly string[]).includes(pair.split('=')[0]))
  return kept.length === 0 ? signed.slice(0, queryStart) : `${signed.slice(0, queryStart)}?${kept.join('&')}`
}

/**
 * Caller-supplied wildcard patterns are refused beyond these: no folder grant comes near them, and
 * they bound what matching and coverage checks cost.
 */
export const MAX_PATTERN_LENGTH = 1024
export const MAX_PATTERN_WILDCARDS = 16
/** A run between two `*` that holds a `?` is searched bit-parallel in one 32-bit word. */
export const MAX_QUESTION_PART_LENGTH = 32
/** CloudFront refuses longer URLs (its quota "Maximum length of a URL"), so none is signed or matched. */
export const MAX_URL_LENGTH = 8192

const STAR = 42 // '*'
const QUESTION = 63 // '?'

/** Refuses a caller's wildcard pattern longer than MAX_PATTERN_LENGTH or with more than MAX_PATTERN_WILDCARDS `*`/`?`. */
export function checkPatternLimits(pattern: string): void {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw signingError('RESOURCE_TOO_LONG', `a wildcard resource is at most ${MAX_PATTERN_LENGTH} characters (this one has ${pattern.length})`)
  }
  let wildcards = 0
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i)
    if (c === STAR || c === QUESTION) wildcards++
  }
  if (wildcards > MAX_PATTERN_WILDCARDS) {
    throw signingError('TOO_MANY_WILDCARDS', `a wildcard resource has at most ${MAX_PATTERN_WILDCARDS} "*" and "?" (this one has ${wildcards})`)
  }
  const firstStar = pattern.indexOf('*')
  for (let start = firstStar + 1, stop = pattern.indexOf('*', start); firstStar !== -1 && stop !== -1; start = stop + 1, stop = pattern.indexOf('*', start)) {
    if (stop - start > MAX_QUESTION_PART_LENGTH && pattern.slice(start, stop).includes('?')) {
      throw signingError('RESOURCE_TOO_LONG', `between two "*", a run holding "?" is at most ${MAX_QUESTION_PART_LENGTH} characters (this one has ${stop - start})`)
    }
  }
}

/** Refuses a URL longer than CloudFront serves. */
export function checkUrlLength(url: string): void {
  if (url.length > MAX_URL_LENGTH) throw signingError('URL_TOO_LONG', `CloudFront serves URLs of at most ${MAX_URL_LENGTH} bytes (this one has ${url.length} before signing)`)
}

/** CloudFront's resource matching: `*` is any run of characters, `?` exactly one, the rest literal. */
export function matchesWildcard(pattern: string, value: string): boolean {
  return matchGlob(pattern, value, true)
}

/** Matches a configured path pattern (only `*` is a wildcard there) against a raw path. */
export function matchesPathPattern(pattern: string, rawPath: string): boolean {
  return matchGlob(pattern, rawPath, false)
}

/**
 * Glob matching without a regular expression or backtracking: the part before the first `*` must
 * start the value, the part after the last `*` must end it, and the parts between are found
 * leftmost-first in order (taking the earliest place for each never loses a match). Literal parts
 * are found with Knuth-Morris-Pratt, a part holding `?` (at most 32 characters) with one
 * bit-parallel pass, so the cost is O(|pattern| + |value|).
 */
function matchGlob(pattern: string, value: string, questionIsWildcard: boolean): boolean {
  const firstStar = pattern.indexOf('*')
  if (firstStar === -1) return value.length === pattern.length && matchesAt(pattern, 0, pattern.length, value, 0, questionIsWildcard)
  const lastStar = pattern.lastIndexOf('*')
  const end = value.length - (pattern.length - lastStar - 1)
  if (end < firstStar) return false
  if (!matchesAt(pattern, 0, firstStar, value, 0, questionIsWildcard)) return false
  if (!matchesAt(pattern, lastStar + 1, pattern.length, value, end, questionIsWildcard)) return false
  let from = firstStar
  for (let start = firstStar + 1; start < lastStar; ) {
    const stop = pattern.indexOf('*', start)
    if (stop > start) {
      const at = findPart(pattern.slice(start, stop), value, from, end, questionIsWildcard)
      if (at === -1) return false
      from = at + (stop - start)
    }
    start = stop + 1
  }
  return true
}

/** Whether pattern[start, stop) (no `*`) matches `value` at index `at`. */
function matchesAt(pattern: string, start: number, stop: number, value: string, at: number, questionIsWildcard: boolean): boolean {
  for (let i = start, j = at; i < stop; i++, j++) {
    const c = pattern.charCodeAt(i)
    if (c !== value.charCodeAt(j) && !(questionIsWildcard && c === QUESTION)) return false
  }
  return true
}

/** The first index at or after `from` where `part` (no `*`) matches and ends before `end`, or -1. */
function findPart(part: string, value: string, from: number, end: number, questionIsWildcard: boolean): number {
  return questionIsWildcard && part.includes('?') ? findWithQuestions(part, value, from, end) : findLiteral(part, value, from, end)
}

/** Knuth-Morris-Pratt: linear whatever the input, where the engine's indexOf is not (runs like a…ab…a). */
function findLiteral(part: string, value: string, from: number, end: number): number {
  const m = part.length
  const fallback = new Int32Array(m)
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && part.charCodeAt(i) !== part.charCodeAt(k)) k = fallback[k - 1]
    if (part.charCodeAt(i) === part.charCodeAt(k)) k++
    fallback[i] = k
  }
  for (let v = from, k = 0; v < end; v++) {
    const c = value.charCodeAt(v)
    while (k > 0 && c !== part.charCodeAt(k)) k = fallback[k - 1]
    if (c === part.charCodeAt(k)) k++
    if (k === m) return v - m + 1
  }
  return -1
}

/**
 * A part holding `?`: its first 32 characters are found with Shift-And in one 32-bit word (bit i of
 * the state says whether part[0..i] ends at the current character), the rest compared in place.
 * Linear for parts within MAX_QUESTION_PART_LENGTH (= 32, what checkPatternLimits allows); longer
 * ones still match correctly, at a cost nothing a caller sends can reach.
 */
function findWithQuestions(part: string, value: string, from: number, end: number): number {
  const head = part.length > 32 ? part.slice(0, 32) : part
  let questions = 0
  const others = new Map<number, number>()
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i)
    if (c === QUESTION) questions |= 1 << i
    else others.set(c, (others.get(c) ?? 0) | (1 << i))
  }
  const ascii = new Int32Array(128).fill(questions)
  for (const [c, bits] of others) {
    if (c < 128) ascii[c] |= bits
    else others.set(c, bits | questions)
  }
  const last = 1 << (head.length - 1)
  const headEnd = end - (part.length - head.length)
  let state = 0
  for (let v = from; v < headEnd; v++) {
    const c = value.charCodeAt(v)
    state = ((state << 1) | 1) & (c < 128 ? ascii[c] : (others.get(c) ?? questions))
    if ((state & last) !== 0) {
      const at = v - head.length + 1
      if (head === part || matchesAt(part, head.length, part.length, value, v + 1, true)) return at
    }
  }
  return -1
}

/**
 * Whether every path a CloudFront wildcard pattern (`*`, `?`) can match is allowed by a configured
 * path pattern (`*` only). The requested wildcards must fall inside the allowed pattern's `*`s.
 */
export function pathPatternCovers(allowed: string, requested: string): boolean {
  // Dynamic programming over the two strings: only `*` in `allowed` absorbs characters, and a
  // literal of `allowed` never lines up with a wildcard of `requested`.
  let row = new Array<boolean>(requested.length + 1).fill(false)
  row[0] = true
  for (let i = 1; i <= allowed.length; i++) {
    const a = allowed[i - 1]
    const next = new Array<boolean>(requested.length + 1).fill(false)
    next[0] = a === '*' && row[0]
    for (let j = 1; j <= requested.length; j++) {
      const r = requested[j - 1]
      next[j] = a === '*' ? row[j] || next[j - 1] : row[j - 1] && r === a && r !== '*' && r !== '?'
    }
    row = next
  }
  return row[requested.length]
}

export interface UrlPattern {
  /** `http*` covers both schemes, as CloudFront documents. */
  scheme: 'http' | 'https' | 'http*'
  host: string
  /** From the first `/` after the host, as written. */
  path: string
}

/**
 * Splits a caller's URL pattern (`https://<host>/videos/*`) into scheme, host and path. The host is
 * exact: a wildcard there could cover other distributions that trust the same key group.
 */
export function splitUrlPattern(pattern: string): UrlPattern {
  const separator = pattern.indexOf('://')
  const scheme = separator === -1 ? '' : pattern.slice(0, separator).toLowerCase()
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'http*') {
    throw signingError('INVALID_RESOURCE', 'resource must be a path pattern (/videos/*) or a URL pattern starting http://, https:// or http*://')
  }
  const rest = pattern.slice(separator + 3)
  const slash = rest.indexOf('/')
  const host = slash === -1 ? rest : rest.slice(0, slash)
  if (host.includes('*') || host.includes('?')) throw signingError('WILDCARD_HOST', 'the host of a resource must be exact: no "*" or "?" before the path')
  if (host === '' || slash === -1) throw signingError('INVALID_RESOURCE', 'a URL pattern needs a host and a path: https://<host>/videos/*')
  return { scheme, host, path: rest.slice(slash) }
}

/**
 * Canonicalises the path and query of a URL the caller supplied, the way @aws-sdk/cloudfront-signer
 * does for paths (decode each segment, encode it again), so pre-encoded and raw input sign alike.
 * In the query, `%XX` and `+` are kept as sent (their meaning belongs to the origin); `*` and `?`
 * are encoded so they can never act as policy wildcards.
 */
export function canonicalisePathAndQuery(pathname: string, search: string): { path: string; rawPath: string; query: string } {
  let rawPath: string
  try {
    rawPath = pathname
      .split('/')
      .map((segment) => decodeURIComponent(segment).replaceAll('/', '%2F'))
      .join('/')
  } catch {
    throw signingError('INVALID_URL', 'the URL path has a malformed percent-encoding')
  }
  const path = pathname
    .split('/')
    .map((segment) => encodeSegment(decodeURIComponent(segment)))
    .join('/')
  const query = search.replace(/^\?/, '')
  const pairs = query === '' ? [] : query.split('&').filter((pair) => pair !== '')
  const canonicalQuery = pairs
    .map((pair) => {
      const eq = pair.indexOf('=')
      const key = eq === -1 ? pair : pair.slice(0, eq)
      checkNotSigningParam(decodeQueryName(key))
      return eq === -1 ? encodeQueryComponent(key) : `${encodeQueryComponent(key)}=${encodeQueryComponent(pair.slice(eq + 1))}`
    })
    .join('&')
  return { path, rawPath, query: canonicalQuery }
}

function decodeQueryName(name: string): string {
  try {
    return decodeURIComponent(name)
  } catch {
    return name
  }
}

function encodeQueryComponent(component: string): string {
  return component
    .split(/(%[0-9A-Fa-f]{2}|\+)/)
    .map((part, i) => (i % 2 === 1 ? part.toUpperCase() : encodeSegment(part)))
    .join('')
}
