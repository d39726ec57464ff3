import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { JWKS_MAX_BYTES, JWKS_MAX_KEYS } from '../config/schema.js'
import { appError } from '../http/errors.js'

export const JWKS_TIMEOUT_MS = 5_000
export const JWKS_TTL_MS = 10 * 60_000
// An unknown kid refetches the set (the issuer may have rotated), at most this often, so made-up kids cannot hammer it.
export const JWKS_REFETCH_INTERVAL_MS = 30_000
// Until a first set is fetched the service is not ready, so a readiness check retries that often.
export const JWKS_FIRST_FETCH_RETRY_MS = 1_000

/**
 * Why a fetch failed, for the log and /readyz: the network error's code (`ENOTFOUND`, `ECONNREFUSED`...),
 * `TIMEOUT`, `HTTP_STATUS` (with the status), `TOO_LARGE`, `TOO_MANY_KEYS`, `NOT_JSON` or `NO_KEYS`.
 */
export class JwksFetchError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly status?: number,
  ) {
    super(message)
  }
}

/** A fetch failure as a JwksFetchError: undici says `fetch failed` and keeps the useful part in `cause`. */
export function describeJwksFailure(err: unknown): JwksFetchError {
  if (err instanceof JwksFetchError) return err
  const error = err as Error & { cause?: Error & { code?: unknown } }
  if (error.name === 'TimeoutError') return new JwksFetchError('TIMEOUT', error.message)
  const code = error.cause?.code ?? (error as { code?: unknown }).code
  const detail = error.cause?.message ?? (code !== undefined ? String(code) : undefined)
  return new JwksFetchError(typeof code === 'string' ? code : 'FETCH_FAILED', detail !== undefined && detail !== '' ? `${error.message}: ${detail}` : error.message)
}

/** The body as text, refused past `maxBytes` whatever Content-Length says: the stream is cancelled, not drained. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0)
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new JwksFetchError('TOO_LARGE', `the key set is larger than ${maxBytes} bytes (Content-Length ${declared})`)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  // Leaving the loop early (the throw) cancels the stream, which closes the connection.
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength
    if (size > maxBytes) throw new JwksFetchError('TOO_LARGE', `the key set is larger than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The `keys` of a JWKS answer; a set that is not JSON, has no `keys` array, or has too many keys is refused whole. */
function parseKeySet(text: string, maxKeys: number): unknown[] {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new JwksFetchError('NOT_JSON', `the key set is not JSON (${(err as Error).message})`)
  }
  const keys = (body as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new JwksFetchError('NO_KEYS', 'the key set has no "keys" array')
  if (keys.length > maxKeys) throw new JwksFetchError('TOO_MANY_KEYS', `the key set has ${keys.length} keys, more than ${maxKeys}`)
  return keys
}

/**
 * The public key (PEM) for a token's `kid`, from the JWKS at `url`. Each fetch is bounded in time, in
 * bytes and in keys; a known key keeps serving from the last good set while a refresh fails (the
 * issuer is down, or answers a set too large or malformed: the cause goes to the log), and only a
 * kid we cannot look up at all is `AUTH_UNAVAILABLE`. Each failure is logged with its reason
 * (JwksFetchError). `status()` says whether a set was ever fetched, for readiness.
 */
export function createJwksLookup(
  url: string,
  options: { log: { warn(details: object, message: string): void }; now?: () => number; timeoutMs?: number; maxBytes?: number; maxKeys?: number },
) {
  const now = options.now ?? Date.now
  const maxBytes = options.maxBytes ?? JWKS_MAX_BYTES
  const maxKeys = options.maxKeys ?? JWKS_MAX_KEYS
  let keys = new Map<string, string>()
  let fetchedAt = -Infinity
  let attemptedAt = -Infinity
  let lastAttemptFailed = false
  let lastFailure: { reason: string; message: string; atMs: number } | undefined
  let pending: Promise<void> | undefined

  async function fetchKeys(): Promise<void> {
    attemptedAt = now()
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? JWKS_TIMEOUT_MS), headers: { accept: 'application/json' } })
      if (!response.ok) {
        await response.body?.cancel()
        throw new JwksFetchError('HTTP_STATUS', `HTTP ${response.status}`, response.status)
      }
      const next = new Map<string, string>()
      for (const jwk of parseKeySet(await readCapped(response, maxBytes), maxKeys) as Array<Record<string, unknown> | null>) {
        if (typeof jwk?.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue
        try {
          next.set(jwk.kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString())
        } catch {
          // A key this runtime cannot read is one no token here can be verified with.
        }
      }
      keys = next
      fetchedAt = now()
      lastAttemptFailed = false
    } catch (err) {
      const failure = describeJwksFailure(err)
      lastAttemptFailed = true
      lastFailure = { reason: failure.reason, message: failure.message, atMs: attemptedAt }
      options.log.warn({ reason: failure.reason, status: failure.status, err: { message: failure.message }, jwksUrl: url }, `cannot fetch the JWKS (${failure.reason})`)
      throw failure
    }
  }
  const refresh = () => (pending ??= fetchKeys().finally(() => (pending = undefined)))

  async function publicKeyFor(kid: string | undefined): Promise<string> {
    if (kid === undefined) throw new Error('the token has no kid')
    const known = keys.get(kid)
    if (known !== undefined) {
      if (now() - fetchedAt > JWKS_TTL_MS && now() - attemptedAt > JWKS_REFETCH_INTERVAL_MS) refresh().catch(() => {})
      return known
    }
    if (pending !== undefined || now() - attemptedAt > JWKS_REFETCH_INTERVAL_MS) await refresh().catch(() => {})
    const found = keys.get(kid)
    if (found !== undefined) return found
    if (lastAttemptFailed) throw appError('AUTH_UNAVAILABLE', 'the token signing keys (auth.jwt.jwksUrl) cannot be fetched; try again later')
    throw new Error('no key in the JWKS has the token\'s kid')
  }

  return Object.assign(publicKeyFor, {
    /** Fetches the set now (at start), so the first token does not wait for it; failures are logged. */
    prefetch(): void {
      refresh().catch(() => {})
    },
    /**
     * Whether a set was ever fetched, and the last failure. Until one is, each call past the retry
     * interval starts another fetch: an instance that is not ready gets no tokens to trigger one.
     */
    status(): { fetched: boolean; lastFailure: typeof lastFailure } {
      const fetched = fetchedAt !== -Infinity
      if (!fetched && pending === undefined && now() - attemptedAt > JWKS_FIRST_FETCH_RETRY_MS) refresh().catch(() => {})
      return { fetched, lastFailure }
    },
  })
}

export type JwksLookup = ReturnType<typeof createJwksLookup>
