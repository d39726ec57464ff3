import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import { callerFromClaims, hasAnyScope, type Caller, type Scope } from '../auth/caller.js'
import { createJwksLookup, type JwksLookup } from '../auth/jwks.js'
import { checkTokenTimes } from '../auth/token-times.js'
import { createVerifiedTokens, type CredentialKind, type VerifiedToken } from '../auth/verified-tokens.js'
import { appError, CodedError } from '../http/errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller
    /** This request's token, once looked up (auth's own state: others ask app.verifiedToken). */
    tokenVerification: VerifiedToken | Promise<VerifiedToken> | null
  }
  interface FastifyInstance {
    authenticate: ReturnType<typeof createAuthenticate>
    /** The request's verified token, looked up once per request: the rate limiter keys budgets by its sub. */
    verifiedToken: typeof verifiedToken
    /** Tokens already verified, by where they came from and their exact text (src/auth/verified-tokens.ts). */
    verifiedTokens: ReturnType<typeof createVerifiedTokens>
    /** The JWKS client when auth.jwt.jwksUrl is configured (readiness asks it whether a set was fetched). */
    jwks: JwksLookup | undefined
  }
}

// fast-jwt and @fastify/jwt error codes, folded into the service's own (times are checked by checkTokenTimes).
function tokenErrorCode(code: string | undefined) {
  return code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' ? ('UNAUTHORIZED' as const) : ('TOKEN_INVALID' as const)
}

const TOKEN_MESSAGES = {
  UNAUTHORIZED: 'an Authorization: Bearer <token> header is required',
  TOKEN_INVALID: 'the token is malformed, badly signed, or signed with an algorithm that is not allowed',
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
 * The request's verified token (the Authorization header, else `access_token` in the query), looked
 * up once per request whoever asks first: a remembered token is answered as is (no promise), any
 * other goes through @fastify/jwt. Claims that are present but malformed refuse the token
 * (TOKEN_INVALID), like a bad signature.
 */
function verifiedToken(request: FastifyRequest): VerifiedToken | Promise<VerifiedToken> {
  if (request.tokenVerification !== null) return request.tokenVerification
  const credential = credentialOf(request)
  const known = credential === undefined ? undefined : request.server.verifiedTokens.get(credential.kind, credential.token)
  request.tokenVerification = known ?? verifyWithJwt(request, credential)
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
    // A callback hook, not an async one: a remembered token is admitted without a promise.
    return function verifyCaller(request, _reply, done) {
      const queryToken = (request.query as Record<string, unknown> | undefined)?.access_token
      if (queryToken !== undefined && !options.allowQueryToken) {
        return done(appError('TOKEN_IN_QUERY_NOT_ALLOWED', 'access_token in the query is accepted on /v1/playback only; send an Authorization header'))
      }
      const verified = verifiedToken(request)
      if (!(verified instanceof Promise)) return done(admit(request, verified.caller))
      verified.then((token) => done(admit(request, token.caller)), done)
    }
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
  let jwks: JwksLookup | undefined
  if (jwt.secret !== undefined) {
    secret = jwt.secret
  } else if (jwt.publicKeyFile !== undefined) {
    // Verification only: the service never issues tokens with a public key.
    secret = { public: readFileSync(jwt.publicKeyFile), private: 'unused' }
  } else {
    const publicKeyFor = (jwks = createJwksLookup(jwt.jwksUrl!, { log: app.log, now: app.now, maxBytes: jwt.jwksMaxBytes, maxKeys: jwt.jwksMaxKeys }))
    secret = (async (_request: unknown, token: { header: { kid?: string } }) => publicKeyFor(token.header.kid)) as never
    // Not ready until a set is fetched (README, Readiness): start at once rather than on the first token.
    app.addHook('onReady', async () => publicKeyFor.prefetch())
  }
  // `complete` hands the key lookup the token's header (its kid and alg), not only the payload.
  await app.register(fastifyJwt, { secret, verify: verify as never, decode: { complete: true } })
  app.decorateRequest('caller', null as unknown as Caller)
  app.decorateRequest('tokenVerification', null)
  app.decorate('authenticate', createAuthenticate())
  app.decorate('verifiedToken', verifiedToken)
  app.decorate('verifiedTokens', createVerifiedTokens(jwt.clockToleranceSeconds * 1000, app.now))
  app.decorate('jwks', jwks)
}

export default fp(authPlugin, { name: 'auth', dependencies: ['config'] })
