import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import { LRUCache } from 'lru-cache'
import { JWKS_MAX_BYTES, JWKS_MAX_KEYS } from '../config/schema.js'
import { appError, CodedError } from '../errors.js'
import { callerFromClaims, hasAnyScope, type Caller, type Scope } from '../grants/caller.js'

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller
    /** The verification of this request's token, shared by the rate limiter and authentication. */
    tokenVerification: Promise<VerifiedToken> | null
  }
  interface FastifyInstance {
    authenticate: ReturnType<typeof createAuthenticate>
    /** Tokens already verified, by where they came from and their exact text (src/plugins/auth.ts). */
    verifiedTokens: ReturnType<typeof createVerifiedTokens>
  }
}

export interface VerifiedToken {
  claims: Readonly<Record<string, unknown>>
  caller: Caller
}

// fast-jwt and @fastify/jwt error codes, folded into the service's own (times are checked by checkTokenTimes).
function tokenErrorCode(code: string | undefined) {
  return code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' ? ('UNAUTHORIZED' as const) : ('TOKEN_INVALID' as const)
}

const TOKEN_MESSAGES = {
  UNAUTHORIZED: 'an Authorization: Bearer <token> header is required',
  TOKEN_INVALID: 'the token is malformed, badly signed, or signed with an algorithm that is not allowed',
}

export interface TokenTimeRules {
  clockToleranceSeconds: number
  requireExpiry: boolean
  maxTokenLifetimeSeconds?: number
}

/**
 * The token's times on the app's clock (fast-jwt's own exp and nbf checks are off: they read the
 * wall clock). A token without `exp` is refused unless the operator opted out, and never when a
 * maximum lifetime is set; the lifetime counts from `iat`, or from now when there is no `iat` or it
 * lies in the future, so a far-off `iat` cannot stretch it.
 */
export function checkTokenTimes(claims: Readonly<Record<string, unknown>>, nowMs: number, rules: TokenTimeRules): void {
  const { exp, nbf, iat } = claims
  for (const [name, value] of [['exp', exp], ['nbf', nbf], ['iat', iat]] as const) {
    if (value !== undefined && typeof value !== 'number') throw appError('TOKEN_INVALID', `the token's ${name} claim must be a number of seconds`)
  }
  const toleranceMs = rules.clockToleranceSeconds * 1000
  if (typeof nbf === 'number' && nowMs < nbf * 1000 - toleranceMs) throw appError('TOKEN_NOT_YET_VALID', 'the token is not valid yet (nbf)')
  if (typeof exp !== 'number') {
    if (rules.requireExpiry || rules.maxTokenLifetimeSeconds !== undefined) throw appError('TOKEN_NO_EXPIRY', 'the token has no exp claim; tokens must expire')
    return
  }
  if (nowMs > exp * 1000 + toleranceMs) throw appError('TOKEN_EXPIRED', 'the token has expired')
  const max = rules.maxTokenLifetimeSeconds
  if (max !== undefined) {
    const from = typeof iat === 'number' ? Math.min(iat, (nowMs + toleranceMs) / 1000) : nowMs / 1000
    if (exp - from > max) throw appError('TOKEN_LIFETIME_TOO_LONG', `the token lives longer than the ${max} seconds allowed (auth.jwt.maxTokenLifetimeSeconds)`)
  }
}

export const VERIFIED_TOKEN_ENTRIES = 10_000
export const VERIFIED_TOKEN_TTL_MS = 60_000

/** Where a token came from: a `Bearer` Authorization header, or `access_token` in a playback query. */
export type CredentialKind = 'bearer' | 'query'

/**
 * A caller sends the same token on every request: it is verified once (by @fastify/jwt) and then
 * known by where it came from and its exact text for at most a minute, never past its `exp` (plus
 * the clock tolerance), so an expired token is refused even if it was accepted while valid; its
 * `nbf` had already passed when it was accepted. Only accepted tokens are kept: a refused one is
 * verified again each time, and made-up tokens cannot fill the memory. A hit costs a map lookup
 * instead of decoding the token, hashing it and running @fastify/jwt's callback chain.
 */
export function createVerifiedTokens(clockToleranceMs: number, now: () => number) {
  // The same clock bounds each entry and ages it (ttlResolution 0: read the clock on each lookup, no timer).
  const tokens = new LRUCache<string, VerifiedToken>({ max: VERIFIED_TOKEN_ENTRIES, perf: { now }, ttlResolution: 0 })
  // The kind is part of the key: a token remembered from a query never answers for a header, and back.
  const keyOf = (kind: CredentialKind, token: string) => `${kind} ${token}`
  return {
    get(kind: CredentialKind, token: string): VerifiedToken | undefined {
      return tokens.get(keyOf(kind, token))
    },
    remember(kind: CredentialKind, token: string, verified: VerifiedToken): void {
      const { exp } = verified.claims
      const validForMs = typeof exp === 'number' ? exp * 1000 + clockToleranceMs - now() : Infinity
      const ttl = Math.floor(Math.min(VERIFIED_TOKEN_TTL_MS, validForMs))
      if (ttl >= 1) tokens.set(keyOf(kind, token), verified, { ttl })
    },
    clear: () => tokens.clear(),
  }
}

const BEARER_PREFIX_LENGTH = 'Bearer '.length

/**
 * The request's token as @fastify/jwt reads it, or undefined when it would refuse the request
 * before looking at a token: the Authorization header when there is one (only `Bearer <token>`,
 * the scheme in any case, one space, no other), else the query's `access_token`.
 */
function credentialOf(request: FastifyRequest): { kind: CredentialKind; token: string } | undefined {
  const { authorization } = request.headers
  if (authorization !== undefined) {
    const token = authorization.slice(BEARER_PREFIX_LENGTH)
    const wellFormed = authorization.charCodeAt(BEARER_PREFIX_LENGTH - 1) === 0x20 && authorization.slice(0, BEARER_PREFIX_LENGTH - 1).toLowerCase() === 'bearer'
    return wellFormed && token !== '' && !token.includes(' ') ? { kind: 'bearer', token } : undefined
  }
  const queryToken = (request.query as Record<string, unknown> | undefined)?.access_token
  return typeof queryToken === 'string' && queryToken !== '' ? { kind: 'query', token: queryToken } : undefined
}

/**
 * Verifies the request's bearer token (the Authorization header, else `access_token` in the query)
 * once per request: the rate limiter and the route's authentication share the result. Claims that
 * are present but malformed refuse the token (TOKEN_INVALID), like a bad signature.
 */
export function verifyRequestToken(request: FastifyRequest): Promise<VerifiedToken> {
  if (request.tokenVerification === null) {
    const credential = credentialOf(request)
    const known = credential === undefined ? undefined : request.server.verifiedTokens.get(credential.kind, credential.token)
    request.tokenVerification = known !== undefined ? Promise.resolve(known) : verifyWithJwt(request, credential)
  }
  return request.tokenVerification
}

async function verifyWithJwt(request: FastifyRequest, credential: { kind: CredentialKind; token: string } | undefined): Promise<VerifiedToken> {
  let claims: Record<string, unknown>
  try {
    // A header (well-formed or not) is read by @fastify/jwt itself, with its own global verifier.
    claims = await (credential?.kind === 'query' ? request.jwtVerify({ extractToken: () => credential.token } as never) : request.jwtVerify())
  } catch (err) {
    if (err instanceof CodedError) throw err
    const code = tokenErrorCode((err as { code?: string }).code)
    throw appError(code, TOKEN_MESSAGES[code])
  }
  const { now, config } = request.server
  checkTokenTimes(claims, now(), config.auth.jwt)
  const verified = { claims, caller: callerFromClaims(claims) }
  if (credential !== undefined) request.server.verifiedTokens.remember(credential.kind, credential.token, verified)
  return verified
}

/**
 * Builds onRequest hooks that verify the bearer token and require one of the scopes. They run
 * before the body is parsed, so an unauthenticated caller learns nothing about the body schema.
 */
function createAuthenticate() {
  return function authenticate(scopes: readonly Scope[], options: { allowQueryToken?: boolean } = {}): onRequestHookHandler {
    // The caller's sub is not bound to request.log (that would make a pino child per request): the
    // request line and the audit lines name it themselves.
    const admit = (request: FastifyRequest, caller: Caller) => {
      request.caller = caller
      return hasAnyScope(caller, scopes) ? undefined : appError('FORBIDDEN_SCOPE', `this route needs the scope ${scopes.join(' or ')}`)
    }
    // A callback hook, not an async one: a token already verified is admitted without a promise.
    return function verifyCaller(request, _reply, done) {
      const queryToken = (request.query as Record<string, unknown> | undefined)?.access_token
      if (queryToken !== undefined && !options.allowQueryToken) {
        return done(appError('TOKEN_IN_QUERY_NOT_ALLOWED', 'access_token in the query is accepted on /v1/playback only; send an Authorization header'))
      }
      const credential = request.tokenVerification === null ? credentialOf(request) : undefined
      const known = credential !== undefined ? request.server.verifiedTokens.get(credential.kind, credential.token) : undefined
      if (known !== undefined) return done(admit(request, known.caller))
      verifyRequestToken(request).then((verified) => done(admit(request, verified.caller)), done)
    }
  }
}

export const JWKS_TIMEOUT_MS = 5_000
export const JWKS_TTL_MS = 10 * 60_000
// An unknown kid refetches the set (the issuer may have rotated), at most this often, so made-up kids cannot hammer it.
export const JWKS_REFETCH_INTERVAL_MS = 30_000

/** The body as text, refused past `maxBytes` whatever Content-Length says: the stream is cancelled, not drained. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0)
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new Error(`the key set is larger than ${maxBytes} bytes (Content-Length ${declared})`)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  // Leaving the loop early (the throw) cancels the stream, which closes the connection.
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength
    if (size > maxBytes) throw new Error(`the key set is larger than ${maxBytes} bytes`)
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
    throw new Error(`the key set is not JSON (${(err as Error).message})`)
  }
  const keys = (body as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new Error('the key set has no "keys" array')
  if (keys.length > maxKeys) throw new Error(`the key set has ${keys.length} keys, more than ${maxKeys}`)
  return keys
}

/**
 * The public key (PEM) for a token's `kid`, from the JWKS at `url`. Each fetch is bounded in time, in
 * bytes and in keys; a known key keeps serving from the last good set while a refresh fails (the
 * issuer is down, or answers a set too large or malformed: the cause goes to the log), and only a
 * kid we cannot look up at all is `AUTH_UNAVAILABLE`.
 */
export function createJwksLookup(
  url: string,
  options: { log: FastifyBaseLogger; now?: () => number; timeoutMs?: number; maxBytes?: number; maxKeys?: number },
) {
  const now = options.now ?? Date.now
  const maxBytes = options.maxBytes ?? JWKS_MAX_BYTES
  const maxKeys = options.maxKeys ?? JWKS_MAX_KEYS
  let keys = new Map<string, string>()
  let fetchedAt = -Infinity
  let attemptedAt = -Infinity
  let lastAttemptFailed = false
  let pending: Promise<void> | undefined

  async function fetchKeys(): Promise<void> {
    attemptedAt = now()
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? JWKS_TIMEOUT_MS), headers: { accept: 'application/json' } })
      if (!response.ok) {
        await response.body?.cancel()
        throw new Error(`HTTP ${response.status}`)
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
      lastAttemptFailed = true
      options.log.warn({ err: { message: (err as Error).message }, jwksUrl: url }, 'cannot fetch the JWKS')
      throw err
    }
  }
  const refresh = () => (pending ??= fetchKeys().finally(() => (pending = undefined)))

  return async function publicKeyFor(kid: string | undefined): Promise<string> {
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
}

async function authPlugin(app: FastifyInstance) {
  const jwt = app.config.auth.jwt
  const verify = {
    algorithms: jwt.algorithms as never,
    allowedIss: jwt.issuer,
    allowedAud: jwt.audience,
    // fast-jwt checks iss/aud only when present: a configured issuer or audience must also be required.
    requiredClaims: [...(jwt.issuer !== undefined ? ['iss'] : []), ...(jwt.audience !== undefined ? ['aud'] : [])],
    // exp and nbf are checked on the app's clock, with the other time rules (checkTokenTimes).
    ignoreExpiration: true,
    ignoreNotBefore: true,
  }
  let secret: Parameters<typeof fastifyJwt>[1]['secret']
  if (jwt.secret !== undefined) {
    secret = jwt.secret
  } else if (jwt.publicKeyFile !== undefined) {
    // Verification only: the service never issues tokens with a public key.
    secret = { public: readFileSync(jwt.publicKeyFile), private: 'unused' }
  } else {
    const publicKeyFor = createJwksLookup(jwt.jwksUrl!, { log: app.log, now: app.now, maxBytes: jwt.jwksMaxBytes, maxKeys: jwt.jwksMaxKeys })
    secret = (async (_request: unknown, token: { header: { kid?: string } }) => publicKeyFor(token.header.kid)) as never
  }
  // `complete` hands the key lookup the token's header (its kid and alg), not only the payload.
  await app.register(fastifyJwt, { secret, verify: verify as never, decode: { complete: true } })
  app.decorateRequest('caller', null as unknown as Caller)
  app.decorateRequest('tokenVerification', null)
  app.decorate('authenticate', createAuthenticate())
  app.decorate('verifiedTokens', createVerifiedTokens(jwt.clockToleranceSeconds * 1000, app.now))
}

export default fp(authPlugin, { name: 'auth', dependencies: ['config'] })
