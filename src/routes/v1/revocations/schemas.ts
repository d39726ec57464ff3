import { Type } from '@sinclair/typebox'
import { ErrorResponseSchema } from '../../../http/error-response.js'

const DistributionName = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'A configured distribution with edge: true (default: every one)' })
const EpochSeconds = Type.Integer({ minimum: 0, description: 'Epoch seconds' })

export const RevocationBodySchema = Type.Object(
  {
    grantId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'The grantId a grant answer carried: that grant only. Give grantId or sub.' })),
    sub: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: "A caller's sub: every grant issued to it until now. Stored and logged as its hash only. Give grantId or sub." }),
    ),
    distribution: Type.Optional(DistributionName),
    reason: Type.Optional(Type.String({ pattern: '^[\\x20-\\x7E]{1,128}$', description: 'Why, for people reading the store (printable ASCII)' })),
  },
  { additionalProperties: false },
)

export const RevocationsQuerySchema = Type.Object({ distribution: Type.Optional(DistributionName) }, { additionalProperties: false })

const Kind = Type.Union([Type.Literal('grant'), Type.Literal('sub')], { description: 'grant: one grant; sub: every grant of a subject issued at or before revokedAt' })

export const RevocationSchema = Type.Object(
  {
    kind: Kind,
    id: Type.String({ description: 'The grant ID, or the hash of the sub (the edge token\'s `s`)' }),
    revokedAt: Type.Integer({ ...EpochSeconds, description: 'Epoch seconds: for a sub, grants issued at or before it are denied (earliest across the distributions)' }),
    removeAfter: Type.Integer({ ...EpochSeconds, description: 'Epoch seconds: every grant it can deny has expired by then, and the sweep deletes it (latest across the distributions)' }),
    reason: Type.Optional(Type.String()),
    distributions: Type.Array(Type.String(), { description: 'The edge distributions whose KeyValueStore holds it' }),
  },
  { title: 'Revocation' },
)

export const CreatedRevocationSchema = Type.Object(
  {
    ...RevocationSchema.properties,
    propagation: Type.String({ description: 'When the edge sees it' }),
  },
  { title: 'CreatedRevocation' },
)

export const RevocationListSchema = Type.Object(
  {
    items: Type.Array(RevocationSchema, { description: 'Active revocations (removeAfter not passed), by kind then ID; at most 10,000' }),
    truncated: Type.Boolean({ description: 'More than 10,000 active revocations: the list stops there' }),
    notDeployed: Type.Array(Type.String(), { description: 'Edge distributions whose KeyValueStore is not deployed yet (nothing to list there)' }),
  },
  { title: 'RevocationList' },
)

/** The usual error, plus where a revocation was written and where not when it went to several distributions. */
