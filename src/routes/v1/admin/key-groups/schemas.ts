import { Type } from '@sinclair/typebox'
import { ResourceId } from '../common.js'

const Name = Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' })

export const PublicKeyBodySchema = Type.Object(
  {
    keyId: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{6,64}$', description: 'A loaded signing key (see GET /v1/keys); or give kmsKeyId' })),
    kmsKeyId: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9:/_+=,.@-]{1,2048}$', description: 'A KMS key (key ID, ARN or alias) whose public key GetPublicKey answers; or give keyId' }),
    ),
    account: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: "With kmsKeyId: the aws.accounts entry that reaches the KMS key (default: the request's account)" })),
    name: Type.Optional(Type.String({ ...Name, description: 'Default: the key ID' })),
    comment: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
)

export const PublicKeySchema = Type.Object(
  {
    id: Type.String({ description: "CloudFront's public key ID: the Key-Pair-Id signed URLs must carry" }),
    name: Type.String(),
    comment: Type.String(),
    encodedKey: Type.String(),
    createdTime: Type.Optional(Type.String({ format: 'date-time' })),
    etag: Type.Optional(Type.String()),
  },
  { title: 'PublicKey' },
)

export const KeyGroupBodySchema = Type.Object(
  {
    name: Name,
    publicKeyIds: Type.Array(ResourceId, { minItems: 1, maxItems: 10, description: 'CloudFront public key IDs (at most 5 per group on AWS)' }),
    comment: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
)

export const KeyGroupSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    comment: Type.String(),
    publicKeyIds: Type.Array(Type.String()),
    lastModifiedTime: Type.Optional(Type.String({ format: 'date-time' })),
    etag: Type.Optional(Type.String()),
  },
  { title: 'KeyGroup' },
)
