import { Type } from '@sinclair/typebox'

const TimeValue = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 40 })], {
  description: 'Epoch seconds, or ISO 8601 with a time zone',
})

/** Expiry and custom-policy fields shared by every signing route (with ViewerRuleFields on all but streams, which refuse them). */
export const ConditionFields = {
  expiresIn: Type.Optional(Type.Integer({ minimum: 1, description: 'Lifetime in seconds (default: the distribution\'s defaultTtlSeconds)' })),
  expiresAt: Type.Optional(TimeValue),
  notBefore: Type.Optional(TimeValue),
  ipAddress: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'IPv4 address or CIDR, or "client" for the caller\'s address; on a distribution with the edge layer an IPv6 one too, checked by the edge token (a bare address is /128)',
    }),
  ),
  hashAlgorithm: Type.Optional(Type.Union([Type.Literal('SHA1'), Type.Literal('SHA256')], { description: 'Default SHA1; SHA256 for a key in AWS KMS, which refuses SHA1 (400 KMS_REQUIRES_SHA256)' })),
  keyId: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{6,64}$', description: 'Any loaded key (default: the active key)' })),
}

const CountryCodes = Type.Array(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' }), { minItems: 1, maxItems: 50 })

/**
 * Viewer rules the edge token carries (distributions.<name>.edge; 400 EDGE_NOT_ENABLED without it), within the
 * caller's own claims (403 FORBIDDEN_VIEWER_RULES).
 */
export const ViewerRuleFields = {
  referrers: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 255, description: 'A host (example.com) or any subdomain of one (*.example.com)' }), {
      minItems: 1,
      maxItems: 10,
      description: 'The Referer\'s host must match one (edge layer only)',
    }),
  ),
  allowEmptyReferrer: Type.Optional(Type.Boolean({ description: 'With referrers: a request without a Referer passes too (edge layer only)' })),
  countries: Type.Optional(
    Type.Object(
      { allow: Type.Optional(CountryCodes), deny: Type.Optional(CountryCodes) },
      { additionalProperties: false, minProperties: 1, description: 'CloudFront-Viewer-Country must be in allow and not in deny (edge layer only)' },
    ),
  ),
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
