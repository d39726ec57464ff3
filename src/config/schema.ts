import { Type, type Static } from '@sinclair/typebox'

const PathPattern = Type.String({ minLength: 1, maxLength: 1024, pattern: '^/' })
const Hostname = Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' })
const Seconds = Type.Integer({ minimum: 1, maximum: 100 * 365 * 24 * 3600 })

export const CookieSettingsSchema = Type.Object(
  {
    domain: Hostname,
    sameSite: Type.Union([Type.Literal('Strict'), Type.Literal('Lax'), Type.Literal('None')], { default: 'Lax' }),
    path: Type.String({ pattern: '^/', maxLength: 1024, default: '/' }),
  },
  { additionalProperties: false },
)

export const DistributionSchema = Type.Object(
  {
    domain: Hostname,
    aliases: Type.Array(Hostname, { default: [], maxItems: 100 }),
    scheme: Type.Union([Type.Literal('https'), Type.Literal('http')], { default: 'https' }),
    allowedPaths: Type.Array(PathPattern, { default: ['/*'], minItems: 1, maxItems: 1000 }),
    defaultTtlSeconds: Type.Integer({ minimum: 1, default: 300 }),
    maxTtlSeconds: Type.Integer({ minimum: 1, default: 86_400 }),
    rtmpDomain: Type.Optional(Hostname),
    cookies: Type.Optional(CookieSettingsSchema),
    expiryGranularitySeconds: Type.Integer({ minimum: 1, maximum: 86_400, default: 1 }),
    /** The CloudFront distribution ID: the inspector then reads which keys its cache behaviours trust. */
    distributionId: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{1,128}$' })),
    /** The aws.accounts entry that owns it (default: aws.defaultAccount). */
    account: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    /** The edge layer (src/edge): every grant carries an edge token its viewer-request function checks; needs distributionId and edge.keysDir. */
    edge: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
)

/** The edge layer's HMAC keys: a mounted secret like keys.dir, one file per key ID holding that key's secret. */
export const EdgeSchema = Type.Object(
  {
    keysDir: Type.Optional(Type.String({ minLength: 1 })),
    /** The key that signs edge tokens; the others in the directory still verify (a rotation). */
    activeKeyId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,16}$' })),
    /** How often each replica removes revocations whose grants have all expired. */
    revocationSweepSeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 300 }),
  },
  { additionalProperties: false },
)

/** One route group's budget per caller: `max` requests per window. */
export const RateLimitGroupSchema = Type.Object(
  { max: Type.Integer({ minimum: 1, maximum: 1_000_000 }), timeWindowSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }) },
  { additionalProperties: false },
)

// A browser origin as sent in the Origin header: lower-case scheme and host, optional port, no path, no wildcard.
const ORIGIN_PATTERN = '^https?://([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\\[[0-9a-f:.]+\\])(:[0-9]{1,5})?$'

/** One AWS account the admin routes act on; credentials come from the standard AWS chain, never from a request. */
export const AwsAccountSchema = Type.Object(
  {
    region: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', maxLength: 32 }),
    /** A named profile from the shared AWS config/credentials files. */
    profile: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** A role to assume (with the profile's, or the default chain's, credentials). */
    roleArn: Type.Optional(Type.String({ pattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$' })),
    /** A CloudFront-compatible endpoint (the local emulator); S3 goes there too, path-style. */
    endpoint: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+/?$', maxLength: 2048 })),
  },
  { additionalProperties: false },
)

export const AwsSchema = Type.Object(
  {
    accounts: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), AwsAccountSchema, { default: {} }),
    /** The account used when a request names none (optional with a single account). */
    defaultAccount: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** SDK attempts per call (the SDK retries throttling, 5xx and network errors). */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
    /** One HTTP call to AWS gives up after this (504 UPSTREAM_TIMEOUT once the attempts are spent). */
    requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 300_000, default: 30_000 }),
    wait: Type.Object(
      {
        defaultTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 7200, default: 900 }),
        maxTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 7200, default: 1800 }),
        /** Polls back off from the first to the last delay, doubling. */
        firstPollDelayMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000 }),
        maxPollDelayMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 20_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
)

/** A signing key that never leaves AWS KMS (RSA_2048 or ECC_NIST_P256, SIGN_VERIFY). */
export const KmsKeySchema = Type.Object(
  {
    /** The CloudFront public key ID registered for this KMS key's public key: the Key-Pair-Id. */
    keyId: Type.String({ pattern: '^[A-Z0-9]{6,64}$' }),
    /** Key ID, key ARN, alias name (`alias/cf-signer`) or alias ARN. */
    kmsKeyId: Type.String({ pattern: '^[A-Za-z0-9:/_+=,.@-]{1,2048}$' }),
    /** The aws.accounts entry that reaches it (default: aws.defaultAccount). */
    account: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
  },
  { additionalProperties: false },
)

// A key set is a few kilobytes: these bound what a broken or hostile JWKS endpoint can make us read and parse.
export const JWKS_MAX_BYTES = 1_048_576
export const JWKS_MAX_KEYS = 100

export const JwtAlgorithmSchema = Type.Union(
  ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'].map((a) => Type.Literal(a)),
)

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
        trustProxy: Type.Union([Type.Boolean(), Type.Integer({ minimum: 0 }), Type.Array(Type.String())], { default: false }),
        bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1_048_576 }),
        /** Time allowed to receive a whole request (headers and body): slow clients get 408 and are cut off. */
        requestTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
        /** Time allowed to receive the request headers (at most requestTimeoutSeconds): 408 and closed. */
        headersTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10 }),
        /** Idle keep-alive connections close after this; keep it above the load balancer's idle timeout. */
        keepAliveTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 72 }),
        /** A connection on which nothing is received or sent for this long is closed, answer or not; 0: never. */
        connectionTimeoutSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 120 }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        jwt: Type.Object(
          {
            secret: Type.Optional(Type.String({ minLength: 32 })),
            secretFile: Type.Optional(Type.String({ minLength: 1 })),
            publicKeyFile: Type.Optional(Type.String({ minLength: 1 })),
            jwksUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
            algorithms: Type.Optional(Type.Array(JwtAlgorithmSchema, { minItems: 1 })),
            issuer: Type.Optional(Type.String({ minLength: 1 })),
            audience: Type.Optional(Type.String({ minLength: 1 })),
            clockToleranceSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 0 }),
            /** A token without `exp` is refused (401 TOKEN_NO_EXPIRY): `sign` tokens travel in URLs. `false` admits it. */
            requireExpiry: Type.Boolean({ default: true }),
            /** When set, a token whose `exp` is further than this from its `iat` (or from now) is refused (401 TOKEN_LIFETIME_TOO_LONG). */
            maxTokenLifetimeSeconds: Type.Optional(Seconds),
            /** A JWKS answer larger than this, or with more keys, is refused and the last good set kept. */
            jwksMaxBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: JWKS_MAX_BYTES }),
            jwksMaxKeys: Type.Integer({ minimum: 1, maximum: 10_000, default: JWKS_MAX_KEYS }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    keys: Type.Object(
      {
        dir: Type.Optional(Type.String({ minLength: 1 })),
        activeKeyId: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{6,64}$' })),
        passphraseFile: Type.Optional(Type.String({ minLength: 1 })),
        /** Keys in AWS KMS, beside (or instead of) the directory's. */
        kms: Type.Array(KmsKeySchema, { default: [], maxItems: 100 }),
        /** How often the directory is checked for a rotation (besides the watcher); fractions allowed. */
        reloadIntervalSeconds: Type.Number({ minimum: 0.05, maximum: 3600, default: 5 }),
        /** How long a key that left the directory still verifies (the inspector), in seconds. */
        retiredKeyRetentionSeconds: Type.Integer({ minimum: 0, maximum: 366 * 24 * 3600, default: 86_400 }),
      },
      { additionalProperties: false, default: {} },
    ),
    signer: Type.Object(
      {
        /** Signing worker threads; by default one per CPU the container's limit allows (src/signer/cpu-limit.ts). */
        workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
      },
      { additionalProperties: false, default: {} },
    ),
    distributions: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), DistributionSchema, { default: {} }),
    edge: Type.Object(EdgeSchema.properties, { additionalProperties: false, default: {} }),
    /** Admin API: absent means no AWS (503 ADMIN_NOT_CONFIGURED; the local emulator in development). */
    aws: Type.Optional(AwsSchema),
    metrics: Type.Object({ enabled: Type.Boolean({ default: true }) }, { additionalProperties: false, default: {} }),
    rateLimit: Type.Object(
      {
        sign: Type.Optional(RateLimitGroupSchema),
        admin: Type.Optional(RateLimitGroupSchema),
        /** A Redis shared by every instance, so they share one budget (in-memory per instance when absent). */
        redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://', maxLength: 2048 })),
        /** The longest a request waits on Redis; a command that takes longer counts as a failure. */
        redisTimeoutMs: Type.Integer({ minimum: 10, maximum: 5000, default: 200 }),
        /** Consecutive Redis failures that open the circuit: requests then skip Redis for the cool-down. */
        redisFailureThreshold: Type.Integer({ minimum: 1, maximum: 1000, default: 3 }),
        /** How long an open circuit skips Redis before one request probes it again. */
        redisCoolDownSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 10 }),
        /** While Redis cannot count a request: `open` lets it pass unlimited, `closed` answers 503 RATE_LIMIT_UNAVAILABLE. */
        onStoreFailure: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open' }),
      },
      { additionalProperties: false, default: {} },
    ),
    cors: Type.Object(
      {
        /** Browser origins allowed to call the API; never `*`. CORS is off when empty. */
        origins: Type.Array(Type.String({ pattern: ORIGIN_PATTERN, maxLength: 300 }), { default: [], maxItems: 100 }),
        credentials: Type.Boolean({ default: false }),
        maxAgeSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    docs: Type.Object({ enabled: Type.Boolean({ default: true }) }, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false },
)

export type ConfigInput = Static<typeof ConfigSchema>
export type DistributionConfig = Static<typeof DistributionSchema>
export type AwsConfig = Static<typeof AwsSchema>
export type AwsAccountConfig = Static<typeof AwsAccountSchema>
export type KmsKeyConfig = Static<typeof KmsKeySchema>

/** The validated, resolved configuration the app runs on. Secrets are read from their files. */
export interface Config extends ConfigInput {
  readonly auth: ConfigInput['auth'] & { jwt: ConfigInput['auth']['jwt'] & { algorithms: string[] } }
  /** `dir` is absent only when every key is in KMS. */
  readonly keys: ConfigInput['keys'] & { dir: string | undefined; passphrase?: string }
  /** The edge HMAC keys read from edge.keysDir (empty without one), and the one edge.activeKeyId names (there whenever keys are). */
  readonly edge: ConfigInput['edge'] & { keys: ReadonlyArray<{ id: string; secret: string }>; activeKey?: { id: string; secret: string } }
  /** True when the development defaults (generated key and JWT secret) are in use. */
  readonly development: boolean
}
