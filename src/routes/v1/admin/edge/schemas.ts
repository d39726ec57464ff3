import { Type } from '@sinclair/typebox'

const BehaviorList = (description: string) =>
  Type.Array(Type.String({ maxLength: 255 }), { maxItems: 26, description: `${description}: a path pattern, or "*" for the default behavior` })

const KeyIds = Type.Array(Type.String({ maxLength: 16 }), { maxItems: 100, description: 'HMAC key IDs in the store (`hmac:<id>`); never their secrets' })

const functionFields = {
  distributionId: Type.String(),
  functionName: Type.String({ description: 'cf-signer-edge-<distributionId>: the function and the key value store share it' }),
}

const distributionFields = {
  etag: Type.String({ description: "The distribution's ETag (also the ETag header): If-Match for its next change" }),
  status: Type.String({ description: "The distribution's status: InProgress until CloudFront has deployed a change" }),
}

export const EdgeDeploymentSchema = Type.Object(
  {
    ...functionFields,
    functionArn: Type.String(),
    functionEtag: Type.String({ description: 'The LIVE stage\'s ETag; the same after a deploy that changed nothing' }),
    functionStage: Type.Literal('LIVE'),
    keyValueStoreArn: Type.String(),
    keyIds: KeyIds,
    behaviors: BehaviorList('Every cache behavior the function guards now (those that require signed requests)'),
    behaviorsChanged: BehaviorList('Behaviors this call associated the function with, or took it off (no longer signed)'),
    changed: Type.Boolean({ description: 'False when everything was in place and nothing was written' }),
    ...distributionFields,
  },
  { title: 'EdgeDeployment', additionalProperties: false },
)

export const EdgeRemovalSchema = Type.Object(
  {
    ...functionFields,
    behaviorsChanged: BehaviorList('Behaviors the function was taken off'),
    functionDeleted: Type.Boolean(),
    keyValueStoreDeleted: Type.Boolean({ description: 'The store goes with its keys and revocations' }),
    changed: Type.Boolean({ description: 'False when nothing was left to remove (a repeated DELETE)' }),
    etag: Type.Optional(distributionFields.etag),
    status: Type.Optional(distributionFields.status),
  },
  { title: 'EdgeRemoval', additionalProperties: false },
)

export const EdgeStateSchema = Type.Object(
  {
    ...functionFields,
    functionArn: Type.Optional(Type.String()),
    functionEtag: Type.Optional(Type.String({ description: 'The LIVE stage\'s ETag; absent when the function was never published' })),
    functionStage: Type.Optional(Type.Literal('LIVE')),
    functionStatus: Type.Optional(Type.String({ description: "CloudFront's: UNPUBLISHED, UNASSOCIATED or DEPLOYED" })),
    keyValueStoreArn: Type.Optional(Type.String()),
    keyIds: KeyIds,
    revocations: Type.Integer({ minimum: 0, description: 'Revocation entries (grants and subjects) in the store' }),
    behaviors: BehaviorList('Cache behaviors the function is associated with'),
    ...distributionFields,
  },
  { title: 'EdgeState', additionalProperties: false },
)
