import { Type, type Static } from '@sinclair/typebox'
import { AnswerFields, ConditionFields, DistributionName, ViewerRuleFields } from '../signing-schemas.js'

export const SignedCookiesBodySchema = Type.Object(
  {
    distribution: DistributionName,
    resource: Type.String({
      minLength: 1,
      maxLength: 8192,
      description: 'A path pattern (/hls/movie-42/*) signed for the first alias under the cookie domain, or a URL pattern on one of the distribution\'s hosts; * and ? are wildcards',
    }),
    setCookies: Type.Optional(Type.Boolean({ description: 'Also send the cookies as Set-Cookie headers (needs distributions.<name>.cookies)' })),
    ...ConditionFields,
    ...ViewerRuleFields,
  },
  { additionalProperties: false, title: 'SignedCookiesRequest' },
)
export type SignedCookiesBody = Static<typeof SignedCookiesBodySchema>

const CookieValue = Type.String()

export const SignedCookiesSchema = Type.Object({
  cookies: Type.Object(
    {
      'CloudFront-Expires': Type.Optional(CookieValue),
      'CloudFront-Policy': Type.Optional(CookieValue),
      'CloudFront-Signature': CookieValue,
      'CloudFront-Key-Pair-Id': CookieValue,
      'CloudFront-Hash-Algorithm': Type.Optional(CookieValue),
      'CloudFront-Edge': Type.Optional(CookieValue),
    },
    { additionalProperties: false, description: 'CloudFront-Expires for a canned policy, CloudFront-Policy for a custom one; CloudFront-Edge, the edge token bound to CloudFront-Signature, on a distribution with the edge layer' },
  ),
  ...AnswerFields,
}, { title: 'SignedCookies' })
export type SignedCookies = Static<typeof SignedCookiesSchema>
