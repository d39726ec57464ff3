import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import buildGetJwks from 'get-jwks'
import { appError, CodedError } from '../errors.js'
import { callerFromClaims, hasAnyScope, type Caller, type Scope } from '../grants/caller.js'

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller
  }
  interface FastifyInstance {
    authenticate: ReturnType<typeof createAuthenticate>
  }
}

// fast-jwt and @fastify/jwt error codes, folded into the service's own.
function tokenErrorCode(code: string | undefined) {
  if (code === 'FST_JWT_NO_AUTHORIZATION_IN_HEADER') return 'UNAUTHORIZED' as const
  if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED') return 'TOKEN_EXPIRED' as const
  if (code === 'FAST_JWT_INACTIVE') return 'TOKEN_NOT_YET_VALID' as const
  return 'TOKEN_INVALID' as const
}

const TOKEN_MESSAGES = {
  UNAUTHORIZED: 'an Authorization: Bearer <token> header is required',
  TOKEN_EXPIRED: 'the token has expired',
  TOKEN_NOT_YET_VALID: 'the token is not valid yet (nbf)',
  TOKEN_INVALID: 'the token is malformed, badly signed, or signed with an algorithm that is not allowed',
}

/**
 * Builds onRequest hooks that verify the bearer token and require one of the scopes. They run
 * before the body is parsed, so an unauthenticated caller learns nothing about the body schema.
 */
function createAuthenticate() {
  return function authenticate(scopes: readonly Scope[], options: { allowQueryToken?: boolean } = {}): onRequestAsyncHookHandler {
    return async function verifyCaller(request: FastifyRequest) {
      const queryToken = (request.query as Record<string, unknown> | undefined)?.access_token
      if (queryToken !== undefined && !options.allowQueryToken) {
        throw appError('TOKEN_IN_QUERY_NOT_ALLOWED', 'access_token in the query is accepted on /v1/playback only; send an Authorization header')
      }
      const useQuery = typeof queryToken === 'string' && request.headers.authorization === undefined
      let claims: Record<string, unknown>
      try {
        claims = useQuery ? await request.jwtVerify({ extractToken: () => queryToken } as never) : await request.jwtVerify()
      } catch (err) {
        if (err instanceof CodedError) throw err
        const code = tokenErrorCode((err as { code?: string }).code)
        throw appError(code, TOKEN_MESSAGES[code])
      }
      request.caller = callerFromClaims(claims)
      request.log = request.log.child({ sub: request.caller.sub })
      if (!hasAnyScope(request.caller, scopes)) {
        throw appError('FORBIDDEN_SCOPE', `this route needs the scope ${scopes.join(' or ')}`)
      }
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
    clockTolerance: jwt.clockToleranceSeconds * 1000,
  }
  let secret: Parameters<typeof fastifyJwt>[1]['secret']
  if (jwt.secret !== undefined) {
    secret = jwt.secret
  } else if (jwt.publicKeyFile !== undefined) {
    // Verification only: the service never issues tokens with a public key.
    secret = { public: readFileSync(jwt.publicKeyFile), private: 'unused' }
  } else {
    const jwksUrl = new URL(jwt.jwksUrl!)
    const getJwks = buildGetJwks({ jwksPath: jwksUrl.pathname + jwksUrl.search, providerDiscovery: false, ttl: 600_000 })
    const fetchKey = async (_request: unknown, token: { header: { kid?: string; alg?: string } }) => {
      try {
        return await getJwks.getPublicKey({ kid: token.header.kid, alg: token.header.alg, domain: jwksUrl.origin })
      } catch (err) {
        // An unknown kid is the token's fault; an unreachable or broken key set is ours, not a bad token.
        if ((err as { code?: string }).code === 'JWK_NOT_FOUND') throw err
        throw appError('AUTH_UNAVAILABLE', 'the token signing keys (auth.jwt.jwksUrl) cannot be fetched; try again later')
      }
    }
    secret = fetchKey as never
  }
  // `complete` hands the key lookup the token's header (its kid and alg), not only the payload.
  await app.register(fastifyJwt, { secret, verify: verify as never, decode: { complete: true } })
  app.decorateRequest('caller', null as unknown as Caller)
  app.decorate('authenticate', createAuthenticate())
}

export default fp(authPlugin, { name: 'auth', dependencies: ['config'] })
