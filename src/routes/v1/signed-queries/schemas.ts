import { Type, type Static } from '@sinclair/typebox'
import { AnswerFields, ConditionFields, DistributionName, ViewerRuleFields } from '../signing-schemas.js'

export const SignedQueryBodySchema = Type.Object(
  {
    distribution: DistributionName,
    resource: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: 'A path pattern (/hls/movie-42/*) signed for the first alias under the cookie domain (else the first alias), or a URL pattern on one of the distribution\'s hosts; * and ? are wildcards',
    }),
    ...ConditionFields,
    ...ViewerRuleFields,
  },
  { additionalProperties: false, title: 'SignedQueryRequest' },
)
export type SignedQueryBody = Static<typeof SignedQueryBodySchema>

// CloudFront's URL-safe base64 and key IDs: nothing in them needs percent-encoding.
const ParamValue = Type.String()

export const SignedQuerySchema = Type.Object(
  {
    query: Type.String({ description: 'Policy=...&Signature=...&Key-Pair-Id=...[&Hash-Algorithm=SHA256][&cf-edge=...], to append to every URL under the resource' }),
    params: Type.Object(
      {
        Policy: ParamValue,
        Signature: ParamValue,
        'Key-Pair-Id': ParamValue,
        'Hash-Algorithm': Type.Optional(Type.Literal('SHA256')),
        'cf-edge': Type.Optional(Type.String({ description: 'The edge token bound to Signature, on a distribution with the edge layer' })),
      },
      { additionalProperties: false, description: 'The same parameters as an object' },
    ),
    ...AnswerFields,
  },
  { title: 'SignedQuery' },
)
export type SignedQuery = Static<typeof SignedQuerySchema>
