import type { IncomingHttpHeaders } from 'node:http'
import type { ApiError } from './errors.js'

export interface EmulatorRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  body: Buffer
  params: Record<string, string>
}

export interface Reply {
  status: number
  headers?: Record<string, string>
  body?: string | Buffer
  /** A POST that changed nothing a state file keeps (KMS Sign, Verify...): the emulator skips rewriting the file. */
  readOnly?: boolean
}

/** A resolved request: the SDK-style operation name (what faults are keyed by) and its handler. */
export interface Operation {
  name: string
  handle(request: EmulatorRequest): Reply | Promise<Reply>
}

/** One emulated AWS service: which operation a request is, and how the service spells its errors. */
export interface Service {
  /** `headers` matter only to services that pick the operation from one (KMS's X-Amz-Target). */
  resolve(method: string, path: string, query: URLSearchParams, headers?: IncomingHttpHeaders): (Operation & { params: Record<string, string> }) | undefined
  unknownOperation(method: string, path: string): ApiError
  renderError(error: ApiError, requestId: string): Reply
  /** The request-id headers this service's clients read. */
  requestIdHeaders(requestId: string): Record<string, string>
}

export interface Route {
  method: string
  /** `/distribution/:Id/config`; a `:Name` segment matches one non-empty segment. */
  pattern: string
  operation: string
  when?: (query: URLSearchParams) => boolean
  handle(request: EmulatorRequest): Reply
}

export function matchRoute(routes: readonly Route[], method: string, path: string, query: URLSearchParams) {
  const segments = path.split('/').filter(Boolean)
  for (const route of routes) {
    if (route.method !== method || (route.when && !route.when(query))) continue
    const pattern = route.pattern.split('/').filter(Boolean)
    if (pattern.length !== segments.length) continue
    const params: Record<string, string> = {}
    const matches = pattern.every((part, index) => {
      const segment = segments[index] ?? ''
      if (!part.startsWith(':')) return part === segment
      params[part.slice(1)] = decodeURIComponent(segment)
      return segment !== ''
    })
    if (matches) return { name: route.operation, handle: route.handle, params }
  }
  return undefined
}

export function header(request: EmulatorRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}
