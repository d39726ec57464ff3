import { Type } from '@sinclair/typebox'

const TimeValue = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 40 })], {
  description: 'Epoch seconds, or ISO 8601 with a time zone',
})

/** Expiry and custom-policy fields shared by every signing route. */
export const ConditionFields = {
  expiresIn: Type.Optional(Type.Integer({ minimum: 1, description: 'Lifetime in seconds (default: the distribution\'s defaultTtlSeconds)' })),
  expiresAt: Type.Optional(TimeValue),
  notBefore: Type.Optional(TimeValue),
  ipAddress: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'IPv4 address or CIDR, or "client" for the caller\'s address' }),
  ),
  hashAlgorithm: Type.Optional(Type.Union([Type.Literal('SHA1'), Type.Literal('SHA256')], { description: 'Default SHA1; SHA256 for a key in AWS KMS, which refuses SHA1 (400 KMS_REQUIRES_SHA256)' })),
  keyId: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{6,64}$', description: 'Any loaded key (default: the active key)' })),
}

export const DistributionName = Type.String({ minLength: 1, maxLength: 64, description: 'Configured distribution name' })

/** What every signing answer carries besides the credential itself. */
export const AnswerFields = {
  grantId: Type.String({ description: 'Names this grant: in the service\'s log line, and in an edge revocation (16 base64url characters)' }),
  expires: Type.Integer({ description: 'Epoch seconds' }),
  expiresAt: Type.String({ format: 'date-time' }),
  policy: Type.Union([Type.Literal('canned'), Type.Literal('custom')]),
  resource: Type.String(),
  keyId: Type.String(),
}
