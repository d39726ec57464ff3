import { Type, type Static } from '@sinclair/typebox'
import { STREAM_PREFIXES } from '../../../grants/stream.js'
import { ConditionFields, GrantFields } from '../signing/schemas.js'

const DistributionName = Type.String({ minLength: 1, maxLength: 64, description: 'Configured distribution name' })

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
  },
  { additionalProperties: false },
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
    },
    { additionalProperties: false, description: 'CloudFront-Expires for a canned policy, CloudFront-Policy for a custom one' },
  ),
  ...GrantFields,
})
export type SignedCookies = Static<typeof SignedCookiesSchema>

export const SignedStreamBodySchema = Type.Object(
  {
    distribution: DistributionName,
    stream: Type.String({ minLength: 1, maxLength: 2048, description: 'The stream name exactly as the player requests it: videos/clip.mp4, videos/clip or mp4:videos/clip' }),
    resource: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Custom-policy stream-name pattern with * and ? wildcards (videos/*); it must cover the stream name' })),
    stripExtension: Type.Optional(Type.Boolean({ description: 'Drop the file extension of the last segment before signing (videos/clip.mp4 → videos/clip)' })),
    prefix: Type.Optional(Type.Union(STREAM_PREFIXES.map((p) => Type.Literal(p)), { description: 'Add a type prefix before signing (videos/clip → mp4:videos/clip)' })),
    ...ConditionFields,
  },
  { additionalProperties: false },
)
export type SignedStreamBody = Static<typeof SignedStreamBodySchema>

export const SignedStreamSchema = Type.Object({
  streamer: Type.String({ description: 'rtmp://<rtmpDomain>/cfx/st' }),
  stream: Type.String({ description: 'The signed stream name: <name>?Expires=…&Signature=…&Key-Pair-Id=… (or Policy=)' }),
  streamEscaped: Type.String({ description: 'The same with ?, = and & written %3F, %3D, %26 for Flash players' }),
  ...GrantFields,
})
export type SignedStream = Static<typeof SignedStreamSchema>

export const PlaybackQuerySchema = Type.Object(
  {
    distribution: DistributionName,
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'Raw path; each segment is percent-encoded' }),
    access_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'The bearer token, for players that cannot send headers (this route only; never logged)' })),
  },
  { additionalProperties: false },
)
export type PlaybackQuery = Static<typeof PlaybackQuerySchema>

export const PlaybackRedirectSchema = Type.Null({ description: 'Redirect to a freshly signed URL (Location header)' })
