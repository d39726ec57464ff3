import { Type, type Static } from '@sinclair/typebox'
import { EDGE_DENY_REASONS } from '../../../edge/token.js'
import { EDGE_DENIED } from '../../../issuing/inspector.js'
import { CHECK_NAMES, DENIAL_REASONS } from '../../../signing/inspect.js'
import { TRUST_REASONS } from '../../../signing/trust.js'

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)))

export const InspectBodySchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 16_384,
      description: 'A signed URL, rtmp://…/cfx/st/<stream> URL or signed stream name; the request URL when cookies carry the grant',
    }),
    cookies: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String({ maxLength: 8192 }), {
        maxProperties: 50,
        description: 'Cookie names and values; the CloudFront-* ones are read when the URL has no signing parameters',
      }),
    ),
    at: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 40 })], { description: 'Request time: epoch seconds or ISO 8601 (default now)' }),
    ),
    ip: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'The viewer\'s address; without it an IP condition is reported, not judged, and an edge token\'s IP ranges are judged with the caller\'s own address',
      }),
    ),
    referer: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Edge distributions: the Referer the viewer would send (default none)' })),
    country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'Edge distributions: the viewer\'s CloudFront-Viewer-Country, ISO 3166-1 alpha-2 (default none)' })),
  },
  { additionalProperties: false, title: 'InspectRequest' },
)
export type InspectBody = Static<typeof InspectBodySchema>

export const InspectionSchema = Type.Object({
  verdict: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  reason: Type.Union([literals([...DENIAL_REASONS, ...TRUST_REASONS, EDGE_DENIED]), Type.Null()], { description: 'The first failing check in CloudFront\'s order, the edge token last; null on allow' }),
  source: Type.Union([Type.Literal('url'), Type.Literal('cookies')]),
  resource: Type.String({ description: 'What CloudFront compares with the policy: the URL without signing parameters, or the stream name' }),
  keyId: Type.Union([Type.String(), Type.Null()]),
  hashAlgorithm: Type.String(),
  policy: Type.Union([
    Type.Object({
      type: Type.Union([Type.Literal('canned'), Type.Literal('custom')]),
      json: Type.String({ description: 'The policy exactly as signed (rebuilt from the request and Expires for a canned one)' }),
      resource: Type.Union([Type.String(), Type.Null()]),
      expires: Type.Integer(),
      notBefore: Type.Union([Type.Integer(), Type.Null()]),
      ipAddress: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  distribution: Type.Optional(
    Type.Object(
      {
        name: Type.String({ description: 'The configured distribution the URL\'s host belongs to' }),
        distributionId: Type.String(),
        behaviour: Type.Union([Type.String({ description: 'The path pattern of the cache behaviour serving the path; * for the default' }), Type.Null()]),
        trusted: Type.Union([Type.Boolean(), Type.Null()], { description: 'Whether that behaviour trusts the Key-Pair-Id; null when it cannot be known' }),
        reason: Type.Union([literals(TRUST_REASONS), Type.Null()]),
        keyGroups: Type.Array(Type.Object({ id: Type.String(), publicKeyIds: Type.Array(Type.String()) }), { description: 'The key groups the behaviour trusts and their public keys' }),
        trustedSigners: Type.Array(Type.String(), { description: 'self or AWS account IDs (legacy key pairs)' }),
        detail: Type.String(),
        error: Type.Union([Type.String(), Type.Null()], { description: 'The error code when CloudFront could not be read' }),
      },
      { title: 'InspectionDistribution', description: 'Only for a configured distribution with a distributionId: its trust as read from CloudFront (cached for a minute)' },
    ),
  ),
  edge: Type.Optional(
    Type.Object(
      {
        verdict: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
        reason: Type.Optional(literals(EDGE_DENY_REASONS)),
        grantId: Type.Optional(Type.String()),
        issuedAt: Type.Optional(Type.Integer({ description: 'Epoch seconds' })),
        expires: Type.Optional(Type.Integer({ description: 'Epoch seconds' })),
        bound: Type.Optional(Type.Boolean({ description: 'Whether the token only works beside the CloudFront signature it was issued with' })),
        rules: Type.Optional(
          Type.Object({
            referrers: Type.Optional(Type.Array(Type.String())),
            allowEmptyReferrer: Type.Optional(Type.Boolean()),
            countries: Type.Optional(Type.Object({ allow: Type.Optional(Type.Array(Type.String())), deny: Type.Optional(Type.Array(Type.String())) })),
            ipRanges: Type.Optional(Type.Array(Type.String())),
          }, { description: 'The viewer rules the token carries' }),
        ),
        revocations: Type.Union([Type.Literal('checked'), Type.Literal('unknown')], { description: 'checked: read from the distribution\'s KeyValueStore; unknown: not read (detail says why)' }),
        detail: Type.String(),
      },
      { title: 'InspectionEdge', description: 'Only for a distribution with edge: true: the edge token judged as its viewer-request function would (x-edge-deny reason)' },
    ),
  ),
  checks: Type.Array(
    Type.Object({
      name: literals([...CHECK_NAMES, 'trust', 'edge']),
      outcome: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('skipped')]),
      reason: Type.Optional(literals([...DENIAL_REASONS, ...TRUST_REASONS, EDGE_DENIED])),
      detail: Type.String(),
    }),
  ),
}, { title: 'Inspection' })
