import { Type, type Static } from '@sinclair/typebox'

export const OriginAccessIdentityBodySchema = Type.Object(
  { comment: Type.Optional(Type.String({ maxLength: 128, description: 'Default ""' })) },
  { additionalProperties: false },
)

export const OriginAccessIdentitySchema = Type.Object(
  {
    id: Type.String(),
    s3CanonicalUserId: Type.String({ description: 'The S3 grantee for the legacy ACL way' }),
    comment: Type.String(),
    etag: Type.Optional(Type.String()),
  },
  { title: 'OriginAccessIdentity' },
)

export const OriginAccessControlBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    signingBehavior: Type.Optional(Type.Union([Type.Literal('always'), Type.Literal('never'), Type.Literal('no-override')], { description: 'Default always' })),
    originType: Type.Optional(
      Type.Union([Type.Literal('s3'), Type.Literal('mediastore'), Type.Literal('mediapackagev2'), Type.Literal('lambda')], { description: 'Default s3' }),
    ),
  },
  { additionalProperties: false },
)

export const OriginAccessControlSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    signingProtocol: Type.String(),
    signingBehavior: Type.String(),
    originType: Type.String(),
    etag: Type.Optional(Type.String()),
  },
  { title: 'OriginAccessControl' },
)

// S3 bucket naming rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const Bucket = Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' })
const Prefix = Type.String({ maxLength: 1024, description: 'Key prefix (a leading / is dropped); "" (default) for the whole bucket' })

export const OaiBucketAccessBodySchema = Type.Object(
  {
    bucket: Bucket,
    prefix: Type.Optional(Prefix),
    method: Type.Optional(
      Type.Union([Type.Literal('policy'), Type.Literal('acl')], {
        description: 'policy (default): one statement merged into the bucket policy; acl: READ on each existing object (legacy)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type OaiBucketAccessBody = Static<typeof OaiBucketAccessBodySchema>

export const OacBucketAccessBodySchema = Type.Object(
  {
    bucket: Bucket,
    prefix: Type.Optional(Prefix),
    distributionId: Type.String({ pattern: '^[A-Za-z0-9]{1,128}$', description: 'The distribution allowed to read (AWS:SourceArn)' }),
  },
  { additionalProperties: false },
)

// Bucket access; its OpenAPI title 'Grant' (like the /grants routes) is a shipped contract, kept.
export const BucketAccessSchema = Type.Object(
  {
    bucket: Type.String(),
    prefix: Type.String(),
    method: Type.Union([Type.Literal('policy'), Type.Literal('acl')]),
    principal: Type.String(),
    changed: Type.Boolean({ description: 'False when the access was already granted: nothing was written' }),
    resource: Type.Optional(Type.String()),
    statementId: Type.Optional(Type.String()),
    objects: Type.Optional(Type.Integer({ description: 'acl: objects under the prefix' })),
    objectsChanged: Type.Optional(Type.Integer({ description: 'acl: objects whose ACL gained the grant' })),
  },
  { title: 'Grant' },
)
