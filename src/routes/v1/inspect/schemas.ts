import { Type, type Static } from '@sinclair/typebox'
import { CHECK_NAMES, DENIAL_REASONS } from '../../../signing/inspect.js'

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
    ip: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The viewer\'s address; without it an IP condition is reported, not judged' })),
  },
  { additionalProperties: false, title: 'InspectRequest' },
)
export type InspectBody = Static<typeof InspectBodySchema>

export const InspectionSchema = Type.Object({
  verdict: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  reason: Type.Union([literals(DENIAL_REASONS), Type.Null()], { description: 'The first failing check in CloudFront\'s order; null on allow' }),
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
  checks: Type.Array(
    Type.Object({
      name: literals(CHECK_NAMES),
      outcome: Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('skipped')]),
      reason: Type.Optional(literals(DENIAL_REASONS)),
      detail: Type.String(),
    }),
  ),
}, { title: 'Inspection' })
