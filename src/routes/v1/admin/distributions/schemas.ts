import { Type, type Static } from '@sinclair/typebox'
import { ResourceId } from '../common.js'

const Hostname = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$' })
const OaiId = Type.String({
  pattern: '^(|[A-Z0-9]{1,64}|origin-access-identity/cloudfront/[A-Z0-9]{1,64})$',
  description: 'An origin access identity ID (or its origin-access-identity/cloudfront/ path); "" for none',
})
const OacId = Type.String({ pattern: '^[A-Za-z0-9]{0,64}$', description: 'An origin access control ID; "" for none' })

export const CustomOriginSchema = Type.Object(
  {
    httpPort: Type.Integer({ minimum: 1, maximum: 65535 }),
    httpsPort: Type.Integer({ minimum: 1, maximum: 65535 }),
    originProtocolPolicy: Type.Union([Type.Literal('http-only'), Type.Literal('match-viewer'), Type.Literal('https-only')]),
  },
  { additionalProperties: false },
)

const originFields = {
  domainName: Hostname,
  originAccessIdentity: Type.Optional(OaiId),
  originAccessControlId: Type.Optional(OacId),
  customOriginConfig: Type.Optional(CustomOriginSchema),
}

const configFields = {
  aliases: Type.Optional(Type.Array(Hostname, { maxItems: 100, description: 'CNAMEs (each needs a certificate on AWS)' })),
  comment: Type.Optional(Type.String({ maxLength: 128 })),
  enabled: Type.Optional(Type.Boolean({ description: 'Default true' })),
  defaultRootObject: Type.Optional(Type.String({ maxLength: 255, pattern: '^[^/]*$', description: 'Web distributions only' })),
  trustedSigners: Type.Optional(
    Type.Array(Type.String({ pattern: '^(self|[0-9]{12})$' }), { maxItems: 10, description: '"self" or AWS account IDs whose CloudFront key pairs may sign (legacy)' }),
  ),
  trustedKeyGroups: Type.Optional(Type.Array(ResourceId, { maxItems: 10, description: 'Key group IDs whose public keys may sign (web distributions only)' })),
}

export const DistributionBodySchema = Type.Object(
  { origin: Type.Object(originFields, { additionalProperties: false }), ...configFields },
  { additionalProperties: false },
)
export type DistributionBody = Static<typeof DistributionBodySchema>

export const DistributionPatchSchema = Type.Object(
  {
    origin: Type.Optional(
      Type.Object({ ...originFields, domainName: Type.Optional(Hostname) }, { additionalProperties: false, description: 'Changes the origin the default behavior serves from' }),
    ),
    ...configFields,
  },
  { additionalProperties: false },
)
export type DistributionPatch = Static<typeof DistributionPatchSchema>

export const WaitBodySchema = Type.Object(
  { timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7200, description: 'Default aws.wait.defaultTimeoutSeconds, at most aws.wait.maxTimeoutSeconds' })) },
  { additionalProperties: false },
)

const KeyPairIds = Type.Array(Type.String())

export const DistributionSchema = Type.Object(
  {
    id: Type.String(),
    arn: Type.Optional(Type.String()),
    status: Type.String({ description: 'InProgress or Deployed' }),
    etag: Type.Optional(Type.String({ description: 'Send it as If-Match to change or delete this version' })),
    domainName: Type.String(),
    lastModifiedTime: Type.Optional(Type.String({ format: 'date-time' })),
    enabled: Type.Boolean(),
    comment: Type.String(),
    aliases: Type.Array(Type.String()),
    origins: Type.Array(
      Type.Object({
        id: Type.Optional(Type.String()),
        domainName: Type.String(),
        originAccessIdentity: Type.Optional(Type.String()),
        originAccessControlId: Type.Optional(Type.String()),
        customOriginConfig: Type.Optional(CustomOriginSchema),
      }),
    ),
    defaultRootObject: Type.Optional(Type.String()),
    trustedSigners: Type.Array(Type.String()),
    trustedKeyGroups: Type.Array(Type.String()),
    activeTrustedSigners: Type.Optional(Type.Array(Type.Object({ awsAccountNumber: Type.String(), keyPairIds: KeyPairIds }))),
    activeTrustedKeyGroups: Type.Optional(Type.Array(Type.Object({ keyGroupId: Type.String(), keyPairIds: KeyPairIds }))),
    inProgressInvalidationBatches: Type.Optional(Type.Integer()),
  },
  { title: 'Distribution' },
)

export const InvalidationBodySchema = Type.Object(
  {
    paths: Type.Array(Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' }), {
      minItems: 1,
      maxItems: 3000,
      description: 'Paths to invalidate; a `*` only at the end',
    }),
  },
  { additionalProperties: false },
)

export const InvalidationParamsSchema = Type.Object({ id: ResourceId, invId: ResourceId }, { additionalProperties: false })

export const InvalidationSchema = Type.Object(
  {
    id: Type.String(),
    status: Type.String({ description: 'InProgress or Completed' }),
    createTime: Type.Optional(Type.String({ format: 'date-time' })),
    paths: Type.Optional(Type.Array(Type.String())),
    callerReference: Type.Optional(Type.String()),
  },
  { title: 'Invalidation' },
)
