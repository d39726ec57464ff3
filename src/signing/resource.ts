import { CodedError } from './errors.js'
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

/** Refuses paths that would not name one object as written: relative, dot segments, control characters. */
export function checkRawPath(rawPath: string): void {
  if (!rawPath.startsWith('/')) throw new CodedError('INVALID_PATH', 'path must start with "/"')
  if (/[\u0000-\u001f\u007f]/.test(rawPath)) throw new CodedError('INVALID_PATH', 'path contains control characters')
  if (LONE_SURROGATE.test(rawPath)) throw new CodedError('INVALID_PATH', 'path is not well-formed Unicode (a lone surrogate)')
  if (DOT_SEGMENT.test(rawPath)) throw new CodedError('INVALID_PATH', 'path contains "." or ".." segments')
}

const DOT_SEGMENT = /\/\.\.?(\/|$)/

/** Encodes extra query parameters; they become part of the signed resource. */
export function encodeQuery(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([key, value]) => {
      checkNotSigningParam(key)
      if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
        throw new CodedError('VALIDATION_ERROR', 'body.query: names and values must be well-formed Unicode (no lone surrogates)')
      }
      return `${encodeSegment(key)}=${encodeSegment(value)}`
    })
    .join('&')
}

export function checkNotSigningParam(name: string): void {
  if ((SIGNING_PARAMS as readonly string[]).includes(name)) {
    throw new CodedError('RESERVED_QUERY_PARAMETER', `query parameter "${name}" is reserved for CloudFront signing`)
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

/** CloudFront's resource matching: `*` is any run of characters, `?` exactly one, the rest literal. */
export function matchesWildcard(pattern: string, value: string): boolean {
  return globToRegExp(pattern, true, resourceRegExps).test(value)
}

// Compiled patterns, one cache per kind of pattern (policy resources, configured paths).
const resourceRegExps = new Map<string, RegExp>()
const pathPatternRegExps = new Map<string, RegExp>()

/** `*` matches any run of characters; `?` one character when `questionIsWildcard`, else itself. */
function globToRegExp(pattern: string, questionIsWildcard: boolean, regExpCache: Map<string, RegExp>): RegExp {
  const star = '[\\s\\S]*'
  const question = questionIsWildcard ? '[\\s\\S]' : null
  let re = regExpCache.get(pattern)
  if (re === undefined) {
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? star : c === '?' && question !== null ? question : c.replace(/[\\^$.|?+()[\]{}*]/g, '\\$&')))
      .join('')
    re = new RegExp(`^${source}$`)
    if (regExpCache.size > 10_000) regExpCache.clear()
    regExpCache.set(pattern, re)
  }
  return re
}

/** Matches a configured path pattern (only `*` is a wildcard there) against a raw path. */
export function matchesPathPattern(pattern: string, rawPath: string): boolean {
  return globToRegExp(pattern, false, pathPatternRegExps).test(rawPath)
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
    throw new CodedError('INVALID_URL', 'the URL path has a malformed percent-encoding')
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
