import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

// Query parameters whose values are credentials: the playback token and CloudFront signing parameters.
const SECRET_QUERY_PARAMS = /^(access_token|Signature|Policy|CloudFront-[A-Za-z-]+)$/

/** A request URL fit for logs: the path, and the query with secret values replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=')[0]
      return SECRET_QUERY_PARAMS.test(decodeSafely(name)) ? `${name}=[redacted]` : pair
    })
    .join('&')
  return `${url.slice(0, q)}?${query}`
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
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
 * The request's logger (`request.log`), made on its first use: a pino child costs microseconds on
 * every request (its bindings are serialised and redacted up front), yet most requests write nothing
 * but their request line, which has a logger of its own (src/plugins/request-log.ts). Lines that do
 * go through it (refusals, failures, audit lines) carry the request id as before.
 */
class RequestLogger {
  #made: FastifyBaseLogger | undefined
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get made(): FastifyBaseLogger {
    return (this.#made ??= this.parent.child(this.bindings, this.options))
  }
  get level(): string {
    return this.made.level
  }
  set level(level: string) {
    this.made.level = level
  }
  fatal(...args: unknown[]) {
    this.made.fatal.apply(this.made, args as never)
  }
  error(...args: unknown[]) {
    this.made.error.apply(this.made, args as never)
  }
  warn(...args: unknown[]) {
    this.made.warn.apply(this.made, args as never)
  }
  info(...args: unknown[]) {
    this.made.info.apply(this.made, args as never)
  }
  debug(...args: unknown[]) {
    this.made.debug.apply(this.made, args as never)
  }
  trace(...args: unknown[]) {
    this.made.trace.apply(this.made, args as never)
  }
  silent() {}
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.made.child(bindings, options)
  }
}

/** Fastify's `childLoggerFactory`: see RequestLogger. */
export function requestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger
}
