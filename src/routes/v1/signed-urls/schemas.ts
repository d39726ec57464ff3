import { Type, type Static } from '@sinclair/typebox'
import { AnswerFields, ConditionFields, ViewerRuleFields } from '../signing-schemas.js'

// A media type with optional parameters, nothing a header could split on.
const TOKEN = '[A-Za-z0-9!#$&^_.+-]+'
const MEDIA_TYPE = `^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\u0000-\\u001f\\u007f]*"))*$`

export const DownloadSchema = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 1024, description: 'The name the browser saves the file under, any Unicode (at most 255 bytes in UTF-8; no control characters, / or \\)' }),
    disposition: Type.Union([Type.Literal('attachment'), Type.Literal('inline')], { description: 'attachment: save; inline: show in the browser' }),
    contentType: Type.Optional(Type.String({ minLength: 3, maxLength: 256, pattern: MEDIA_TYPE, description: 'Replaces the stored Content-Type (response-content-type)' })),
  },
  { additionalProperties: false, title: 'SignedUrlDownload', description: 'Adds S3\'s response-content-disposition (RFC 6266 with an RFC 5987 filename*) and response-content-type to the URL before signing; the cache policy must forward them to the S3 origin' },
)
export type Download = Static<typeof DownloadSchema>

export const SignedUrlBodySchema = Type.Object(
  {
    distribution: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Configured distribution name' })),
    path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Raw path; each segment is percent-encoded' })),
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'Absolute URL on a configured domain or alias' })),
    query: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String({ maxLength: 2048 }), { maxProperties: 50 }),
    ),
    resource: Type.Optional(
      Type.String({ minLength: 1, maxLength: 8192, description: 'Custom-policy resource: a path or URL pattern with * and ? wildcards that covers the URL' }),
    ),
    download: Type.Optional(DownloadSchema),
    ...ConditionFields,
    ...ViewerRuleFields,
  },
  { additionalProperties: false },
)
export type SignedUrlBody = Static<typeof SignedUrlBodySchema>

const { distribution, path, url, ...sharedFields } = SignedUrlBodySchema.properties

/**
 * The body as documented and generated clients type it: one of two forms, never a mix. The server
 * validates the flat schema above and the issuer refuses a mix with VALIDATION_ERROR, because Ajv's
 * error for a union names the other form's missing field instead of the field that is wrong.
 */
export const SignedUrlRequestSchema = Type.Unsafe<SignedUrlBody>({
  title: 'SignedUrlRequest',
  oneOf: [
    Type.Object(
      { distribution: Type.Optional(distribution, false), path: Type.Optional(path, false), url: Type.Optional(Type.Never()), ...sharedFields },
      { additionalProperties: false, title: 'SignedUrlByPath' },
    ),
    Type.Object(
      { url: Type.Optional(url, false), distribution: Type.Optional(Type.Never()), path: Type.Optional(Type.Never()), ...sharedFields },
      { additionalProperties: false, title: 'SignedUrlByUrl' },
    ),
  ],
})

export const SignedUrlSchema = Type.Object({ url: Type.String(), ...AnswerFields }, { title: 'SignedUrl' })
export type SignedUrl = Static<typeof SignedUrlSchema>

export const BATCH_MAX_ITEMS = 1000

export const SignedUrlBatchBodySchema = Type.Object(
  {
    items: Type.Array(Type.Unknown({ description: 'A SignedUrlRequest; each item is validated on its own' }), {
      minItems: 1,
      maxItems: BATCH_MAX_ITEMS,
    }),
  },
  { additionalProperties: false },
)
export type SignedUrlBatchBody = Static<typeof SignedUrlBatchBodySchema>

/** The batch as documented: typed items, though each is validated on its own so one bad item fails alone. */
export const SignedUrlBatchRequestSchema = Type.Object(
  { items: Type.Array(SignedUrlRequestSchema, { minItems: 1, maxItems: BATCH_MAX_ITEMS }) },
  { additionalProperties: false, title: 'SignedUrlBatchRequest' },
)

export const ItemErrorSchema = Type.Object(
  { error: Type.Object({ statusCode: Type.Integer(), code: Type.String(), message: Type.String() }) },
  { title: 'SignedUrlBatchItemError' },
)

// Without the date-time format: fast-json-stringify validates each item to pick its branch (README, Performance).
const BatchSignedUrlSchema = Type.Object(
  { ...SignedUrlSchema.properties, expiresAt: Type.String({ description: 'ISO 8601 date-time' }) },
  { title: 'SignedUrlBatchItem' },
)

export const SignedUrlBatchSchema = Type.Object({ items: Type.Array(Type.Union([BatchSignedUrlSchema, ItemErrorSchema])) }, { title: 'SignedUrlBatch' })
