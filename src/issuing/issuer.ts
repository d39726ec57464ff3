import type { Caller } from '../auth/caller.js'
import type { Config } from '../config/schema.js'
import { EDGE_TOKEN_COOKIE, EDGE_TOKEN_PARAMETER } from '../edge/token.js'
import { selectHashAlgorithm, selectKey, type KeySource } from '../keys/select.js'
import type { SignatureKind, Signer } from '../signer/port.js'
import type { HashAlgorithm, Policy } from '../signing/policy.js'
import { buildSignedCookies, buildSignedStream, buildSignedUrl, signingParams, type SignedPolicy } from '../signing/sign.js'
import type { IssueContext } from './context.js'
import { planSignedCookies, setCookieHeaders, type CloudFrontCookies, type CookieRequest } from './cookies.js'
import { resolveDistribution, type Distribution } from './distributions.js'
import { createGrantToken } from './edge-grant.js'
import { planSignedQuery, type QueryRequest } from './query.js'
import { planSignedStream, type StreamRequest } from './stream.js'
import { newGrantId } from './grant-id.js'
import { planSignedUrl, withBoundToken, type UrlPlan, type UrlRequest } from './url.js'

/** Who asks: the verified caller and the address it calls from (trustProxy applied); a Fastify request is one. */
export interface Who {
  readonly caller: Caller
  readonly ip: string
}

/** The key and hash a request may choose; the active key and its default hash (SHA1, SHA256 for a KMS key) otherwise. */
export interface SigningChoice {
  keyId?: string
  hashAlgorithm?: HashAlgorithm
}

/** What every signing answer carries besides the credential itself. */
export interface AnswerFields {
  /** Names this grant in the logs and in a revocation. */
  grantId: string
  expires: number
  expiresAt: string
  policy: Policy['type']
  resource: string
  keyId: string
}

/** An answer, and the distribution it was issued for (the route logs its name). */
export interface Issued<A> {
  answer: A
  distribution: Distribution
}

export type UrlAnswer = { url: string } & AnswerFields
export type CookiesAnswer = { cookies: CloudFrontCookies } & AnswerFields
/** The signing parameters as a query string to append to every URL under the resource, and as an object. */
export type QueryAnswer = { query: string; params: QueryParams } & AnswerFields
/** Always a custom policy (query.ts); Hash-Algorithm with SHA256; cf-edge, the edge token, on an edge distribution. */
export type QueryParams = { Policy: string; Signature: string; 'Key-Pair-Id': string; 'Hash-Algorithm'?: 'SHA256'; 'cf-edge'?: string }
export type StreamAnswer = { streamer: string; stream: string; streamEscaped: string } & AnswerFields

export interface IssuerDependencies {
  config: Config
  keys: KeySource
  signer: Signer
  /** The clock in epoch milliseconds. */
  now: () => number
}

const NO_CHOICE: SigningChoice = {}

/**
 * The signing requests, start to end: each call resolves the distribution, applies the caller's
 * narrowing, plans the policy (url.ts, cookies.ts, stream.ts), has the signer sign it and returns
 * the answer under a new grant ID, with its edge token on a distribution with the edge layer
 * (edge-grant.ts). It knows nothing of HTTP: the routes hand it their validated input and who asks.
 */
export function createIssuer({ config, keys, signer, now }: IssuerDependencies) {
  const contextFor = (who: Who): IssueContext => ({ config, caller: who.caller, now: Math.floor(now() / 1000), clientIp: who.ip })

  function sign(kind: SignatureKind, policy: Policy, distribution: Distribution, choice: SigningChoice): Promise<SignedPolicy> {
    const key = selectKey(keys, choice.keyId)
    return signer.sign({ kind, policy, key, hashAlgorithm: selectHashAlgorithm(key, choice.hashAlgorithm), distribution: distribution.name })
  }

  /** The signed URL for a plan: on an edge distribution, the grant's token bound to its signature goes in before the signing parameters. */
  function signedUrl(plan: UrlPlan, signed: SignedPolicy, ctx: IssueContext, grantId: string): string {
    const { boundRules } = plan
    return buildSignedUrl(boundRules === undefined ? plan.url : withBoundToken(plan, boundRules, signed.signature, ctx, grantId), signed)
  }

  async function issueUrlIn(request: UrlRequest & SigningChoice, ctx: IssueContext): Promise<Issued<UrlAnswer>> {
    const plan = planSignedUrl(request, ctx)
    const grantId = newGrantId()
    const signed = await sign('url', plan.policy, plan.distribution, request)
    const { expires } = signed.policy.conditions
    return {
      answer: { url: signedUrl(plan, signed, ctx, grantId), grantId, expires, expiresAt: isoFromEpoch(expires), policy: signed.policy.type, resource: signed.policy.resource, keyId: signed.keyId },
      distribution: plan.distribution,
    }
  }

  return {
    /** One signed URL. */
    issueUrl(request: UrlRequest & SigningChoice, who: Who): Promise<Issued<UrlAnswer>> {
      return issueUrlIn(request, contextFor(who))
    },

    /** Signed URLs that succeed or fail one by one; `parse` turns an item into a request or throws its error. */
    issueUrls(
      items: readonly unknown[],
      who: Who,
      parse: (item: unknown, index: number) => UrlRequest & SigningChoice,
    ): Promise<Array<Issued<UrlAnswer> | { failure: unknown }>> {
      const ctx = contextFor(who)
      return Promise.all(
        items.map(async (item, index) => {
          try {
            return await issueUrlIn(parse(item, index), ctx)
          } catch (failure) {
            return { failure }
          }
        }),
      )
    },

    /** Signed cookies, and their Set-Cookie headers when the request asks the service to set them. */
    async issueCookies(request: CookieRequest & SigningChoice, who: Who): Promise<Issued<CookiesAnswer> & { setCookie?: string[] }> {
      const ctx = contextFor(who)
      const plan = planSignedCookies(request, ctx)
      const signed = await sign('cookie', plan.policy, plan.distribution, request)
      const cookies = buildSignedCookies(signed) as CloudFrontCookies
      const { expires } = signed.policy.conditions
      const grantId = newGrantId()
      if (plan.viewerRules !== undefined) {
        cookies[EDGE_TOKEN_COOKIE] = createGrantToken(ctx, { grantId, expires, rules: plan.viewerRules, binding: signed.signature })
      }
      return {
        answer: { cookies, grantId, expires, expiresAt: isoFromEpoch(expires), policy: signed.policy.type, resource: signed.policy.resource, keyId: signed.keyId },
        distribution: plan.distribution,
        setCookie: request.setCookies ? setCookieHeaders(cookies, plan.distribution.cookies!, expires - ctx.now) : undefined,
      }
    },

    /** Signing parameters for a folder, for players that append them to each request instead of sending cookies. */
    async issueQuery(request: QueryRequest & SigningChoice, who: Who): Promise<Issued<QueryAnswer>> {
      const ctx = contextFor(who)
      const plan = planSignedQuery(request, ctx)
      const signed = await sign('query', plan.policy, plan.distribution, request)
      const params = signingParams(signed)
      const { expires } = signed.policy.conditions
      const grantId = newGrantId()
      if (plan.viewerRules !== undefined) {
        params.push([EDGE_TOKEN_PARAMETER, createGrantToken(ctx, { grantId, expires, rules: plan.viewerRules, binding: signed.signature })])
      }
      return {
        answer: {
          query: params.map(([name, value]) => `${name}=${value}`).join('&'),
          params: Object.fromEntries(params) as QueryParams,
          grantId,
          expires,
          expiresAt: isoFromEpoch(expires),
          policy: signed.policy.type,
          resource: signed.policy.resource,
          keyId: signed.keyId,
        },
        distribution: plan.distribution,
      }
    },

    /** An RTMP stream name with its signing parameters, and the streamer the player connects to. */
    async issueStream(request: StreamRequest & SigningChoice, who: Who): Promise<Issued<StreamAnswer>> {
      const plan = planSignedStream(request, contextFor(who))
      const signed = await sign('stream', plan.policy, plan.distribution, request)
      const { stream, streamEscaped } = buildSignedStream(plan.name, signed)
      const { expires } = signed.policy.conditions
      return {
        answer: { streamer: plan.streamer, stream, streamEscaped, grantId: newGrantId(), expires, expiresAt: isoFromEpoch(expires), policy: signed.policy.type, resource: signed.policy.resource, keyId: signed.keyId },
        distribution: plan.distribution,
      }
    },

    /**
     * The signed URL a player is redirected to: the distribution's default lifetime, shortened to the
     * token's maxTtlSeconds (a player cannot choose one), the active key and its default hash.
     */
    async issuePlayback(query: { distribution: string; path: string }, who: Who): Promise<{ url: string; grantId: string; signed: SignedPolicy; distribution: Distribution }> {
      const ctx = contextFor(who)
      const distribution = resolveDistribution(ctx, query.distribution)
      const expiresIn = Math.min(distribution.defaultTtlSeconds, who.caller.maxTtlSeconds ?? Infinity)
      const grantId = newGrantId()
      const plan = planSignedUrl({ distribution: query.distribution, path: query.path, expiresIn }, ctx, distribution)
      const signed = await sign('url', plan.policy, distribution, NO_CHOICE)
      return { url: signedUrl(plan, signed, ctx, grantId), grantId, signed, distribution }
    },
  }
}

export type Issuer = ReturnType<typeof createIssuer>

// Expiries repeat (a granularity rounds them, and requests of the same second share one): keep the last.
let lastIso = { seconds: NaN, iso: '' }

/** The ISO 8601 form of an expiry in epoch seconds. */
export function isoFromEpoch(seconds: number): string {
  if (seconds !== lastIso.seconds) lastIso = { seconds, iso: new Date(seconds * 1000).toISOString() }
  return lastIso.iso
}
