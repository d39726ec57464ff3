import type { FastifyRequest } from 'fastify'

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
