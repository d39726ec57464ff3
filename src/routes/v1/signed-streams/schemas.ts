import { Type, type Static } from '@sinclair/typebox'
import { STREAM_PREFIXES } from '../../../issuing/stream.js'
import { AnswerFields, ConditionFields, DistributionName, ViewerRuleFields } from '../signing-schemas.js'

export const SignedStreamBodySchema = Type.Object(
  {
    distribution: DistributionName,
    stream: Type.String({ minLength: 1, maxLength: 2048, description: 'The stream name exactly as the player requests it: videos/clip.mp4, videos/clip or mp4:videos/clip' }),
    resource: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Custom-policy stream-name pattern with * and ? wildcards (videos/*); it must cover the stream name' })),
    stripExtension: Type.Optional(Type.Boolean({ description: 'Drop the file extension of the last segment before signing (videos/clip.mp4 → videos/clip)' })),
    prefix: Type.Optional(Type.Union(STREAM_PREFIXES.map((p) => Type.Literal(p)), { description: 'Add a type prefix before signing (videos/clip → mp4:videos/clip)' })),
    ...ConditionFields,
    // Named, to be refused by name: a client sending one set of grant options to every route learns why.
    ...ViewerRuleFields,
  },
  {
    additionalProperties: false,
    title: 'SignedStreamRequest',
    description: 'referrers, allowEmptyReferrer and countries are refused (400 EDGE_NOT_APPLICABLE): CloudFront Functions never run on RTMP; ipAddress is IPv4 only',
  },
)
export type SignedStreamBody = Static<typeof SignedStreamBodySchema>

export const SignedStreamSchema = Type.Object({
  streamer: Type.String({ description: 'rtmp://<rtmpDomain>/cfx/st' }),
  stream: Type.String({ description: 'The signed stream name: <name>?Expires=…&Signature=…&Key-Pair-Id=… (or Policy=)' }),
  streamEscaped: Type.String({ description: 'The same with ?, = and & written %3F, %3D, %26 for Flash players' }),
  ...AnswerFields,
}, { title: 'SignedStream' })
export type SignedStream = Static<typeof SignedStreamSchema>
