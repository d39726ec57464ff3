import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

// Names whose values are credentials, in any case: the playback token, CloudFront's signing
// parameters, the edge token, and the cookie names (Expires and Key-Pair-Id are not secret, but the cookies all go).
const SECRET_NAMES = new Set(['access_token', 'signature', 'policy', 'cf-edge'])
const LONGEST_SECRET_NAME = 64

function isSecretName(name: string): boolean {
  const lower = name.toLowerCase()
  return SECRET_NAMES.has(lower) || lower.startsWith('cloudfront-')
}

const REDACTED = '[redacted]'

/**
 * A request URL fit for logs: secret query values replaced (by the decoded name, in any case), then
 * any credential embedded elsewhere (the path, a URL nested in a query value, percent-encoded once
 * or more): see redactEmbedded.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return redactEmbedded(url)
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const name = eq === -1 ? pair : pair.slice(0, eq)
      return isSecretName(decodeSafely(name)) ? `${name}=${REDACTED}` : pair
    })
    .join('&')
  return redactEmbedded(`${url.slice(0, q)}?${query}`)
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

// The characters of a JWT (base64url and its dots) and of parameter names; anything else separates.
function isWordChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

/**
 * A percent escape at `i`, however many times encoded (`%3D`, `%253D`...): its length and the byte it
 * finally stands for; length 0 when `i` starts no escape.
 */
function escapeAt(text: string, i: number): { length: number; byte: number } {
  if (text.charCodeAt(i) !== 0x25 || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) return { length: 0, byte: -1 }
  let j = i + 1
  // `%25` followed by another hex pair is an escaped `%`: one more level of encoding.
  while (text.startsWith('25', j) && isHex(text.charCodeAt(j + 2)) && isHex(text.charCodeAt(j + 3))) j += 2
  return { length: j + 2 - i, byte: Number.parseInt(text.slice(j, j + 2), 16) }
}

/** Whether the run text[start, end) is shaped like a JWT: `eyJ` (a JSON object), a part, a dot, a part, a dot. */
function isJwtShaped(text: string, start: number, end: number): boolean {
  if (!text.startsWith('eyJ', start)) return false
  let dots = 0
  for (let i = start + 3; i < end && dots < 2; i++) {
    if (text.charCodeAt(i) !== 0x2e) continue
    // Each of the first two parts has something in it.
    if (text.charCodeAt(i - 1) === 0x2e) return false
    dots++
  }
  return dots === 2
}

/**
 * Credentials wherever they appear in a URL: a JWT-shaped run (`eyJ...` in the path or any value),
 * and the value after a secret name and `=` (a Signature in a nested URL), up to the next `&` or `#`,
 * literal or escaped. One pass, character by character (no regular expression: the text is the
 * caller's); a URL with nothing to hide is returned as is.
 */
function redactEmbedded(text: string): string {
  let out = ''
  let copied = 0
  let i = 0
  while (i < text.length) {
    if (!isWordChar(text.charCodeAt(i))) {
      i += escapeAt(text, i).length || 1
      continue
    }
    let end = i + 1
    while (end < text.length && isWordChar(text.charCodeAt(end))) end++
    if (isJwtShaped(text, i, end)) {
      out += text.slice(copied, i) + REDACTED
      copied = i = end
      continue
    }
    const equals = end - i <= LONGEST_SECRET_NAME ? equalsAt(text, end) : 0
    if (equals > 0 && isSecretName(text.slice(i, end))) {
      const valueStart = end + equals
      const valueEnd = valueEndAt(text, valueStart)
      if (text.slice(valueStart, valueEnd) !== REDACTED) {
        out += text.slice(copied, valueStart) + REDACTED
        copied = valueEnd
      }
      i = valueEnd
      continue
    }
    i = end
  }
  return copied === 0 ? text : out + text.slice(copied)
}

/** The length of an `=` at `i`, literal or escaped; 0 when there is none. */
function equalsAt(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x3d) return 1
  const escape = escapeAt(text, i)
  return escape.byte === 0x3d ? escape.length : 0
}

/** Where a value starting at `i` ends: at the next `&` or `#`, literal or escaped, or the end. */
function valueEndAt(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x26 || c === 0x23) return i
    const escape = escapeAt(text, i)
    if (escape.byte === 0x26 || escape.byte === 0x23) return i
    i += escape.length || 1
  }
  return i
}

/**
 * pino options for the service: JSON lines with the request id and caller `sub`; never the
 * Authorization header, cookies, keys or signed URLs.
 */
export function loggerOptions(level: string, pretty: boolean) {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'res.headers.location', '*.privateKey', '*.secret'],
      censor: '[redacted]',
    },
    serializers: {
      req: (request: FastifyRequest) => ({ method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip }),
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  }
}

/**
 * The request's logger (`request.log`), made on its first use: most requests write nothing but
 * their request line, which has a logger of its own (src/plugins/request-log.ts), so they never pay
 * for a pino child. Lines that do go through it (refusals, failures, audit lines) carry the request
 * id as before.
 */
class RequestLogger {
  #made: FastifyBaseLogger | undefined
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get made(): FastifyBaseLogger {
    return (this.#made ??= this.parent.child(this.bindings, this.options))
  }
  get level(): string {
    return this.made.level
  }
  set level(level: string) {
    this.made.level = level
  }
  silent() {}
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.made.child(bindings, options)
  }
}

// Each level method writes through the child, made by the first of them that is called.
for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const) {
  Object.defineProperty(RequestLogger.prototype, level, {
    value(this: RequestLogger, ...args: unknown[]) {
      const made = this.made
      made[level].apply(made, args as never)
    },
  })
}

/** Fastify's `childLoggerFactory`: see RequestLogger. */
export function requestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger
}
