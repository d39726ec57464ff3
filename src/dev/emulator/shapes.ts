// Declarative facts about the CloudFront 2020-05-31 XML shapes, keyed by element name.
// The element names are unique enough across the API that one table per fact is enough.
import type { XmlNode } from './xml-node.js'

/** List container → member element name (`<Aliases><Quantity/><Items><CNAME/>…`). */
export const LIST_MEMBERS: Record<string, string> = {
  Aliases: 'CNAME',
  Origins: 'Origin',
  CustomHeaders: 'OriginCustomHeader',
  OriginSslProtocols: 'SslProtocol',
  OriginGroups: 'OriginGroup',
  Members: 'OriginGroupMember',
  StatusCodes: 'StatusCode',
  TrustedSigners: 'AwsAccountNumber',
  TrustedKeyGroups: 'KeyGroup',
  AllowedMethods: 'Method',
  CachedMethods: 'Method',
  LambdaFunctionAssociations: 'LambdaFunctionAssociation',
  FunctionAssociations: 'FunctionAssociation',
  Headers: 'Name',
  WhitelistedNames: 'Name',
  QueryStringCacheKeys: 'Name',
  CacheBehaviors: 'CacheBehavior',
  CustomErrorResponses: 'CustomErrorResponse',
  GeoRestriction: 'Location',
  Paths: 'Path',
  Tags: 'Tag',
  KeyGroupConfig: 'PublicKey',
  ActiveTrustedSigners: 'Signer',
  ActiveTrustedKeyGroups: 'KeyGroup',
  KeyPairIds: 'KeyPairId',
  AliasICPRecordals: 'AliasICPRecordal',
  DistributionList: 'DistributionSummary',
  StreamingDistributionList: 'StreamingDistributionSummary',
  CloudFrontOriginAccessIdentityList: 'CloudFrontOriginAccessIdentitySummary',
  OriginAccessControlList: 'OriginAccessControlSummary',
  PublicKeyList: 'PublicKeySummary',
  KeyGroupList: 'KeyGroupSummary',
  InvalidationList: 'InvalidationSummary',
}

/** Containers whose `Items` has no `Quantity` next to it. */
export const QUANTITYLESS = new Set(['KeyGroupConfig', 'Tags'])

export const BOOLEAN_FIELDS = new Set([
  'Enabled', 'IsIPV6Enabled', 'SmoothStreaming', 'Compress', 'QueryString', 'IncludeBody', 'IncludeCookies',
  'CloudFrontDefaultCertificate', 'Staging', 'IsTruncated',
])

export const INTEGER_FIELDS = new Set([
  'Quantity', 'MaxItems', 'HTTPPort', 'HTTPSPort', 'OriginReadTimeout', 'OriginKeepaliveTimeout', 'ConnectionAttempts',
  'ConnectionTimeout', 'MinTTL', 'MaxTTL', 'DefaultTTL', 'ErrorCode', 'ErrorCachingMinTTL', 'StatusCode',
  'InProgressInvalidationBatches',
])

export const ENUMS: Record<string, readonly string[]> = {
  ViewerProtocolPolicy: ['allow-all', 'https-only', 'redirect-to-https'],
  OriginProtocolPolicy: ['http-only', 'match-viewer', 'https-only'],
  PriceClass: ['PriceClass_100', 'PriceClass_200', 'PriceClass_All', 'None'],
  HttpVersion: ['http1.1', 'http2', 'http3', 'http2and3'],
  Method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'OPTIONS', 'DELETE'],
  SslProtocol: ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2'],
  Forward: ['none', 'whitelist', 'all'],
  RestrictionType: ['blacklist', 'whitelist', 'none'],
  SSLSupportMethod: ['sni-only', 'vip', 'static-ip'],
  EventType: ['viewer-request', 'viewer-response', 'origin-request', 'origin-response'],
  SigningProtocol: ['sigv4'],
  SigningBehavior: ['never', 'always', 'no-override'],
  OriginAccessControlOriginType: ['s3', 'mediastore', 'mediapackagev2', 'lambda'],
}

export const MAX_LENGTHS: Record<string, number> = { Comment: 128 }

/** Members that must be present (they may be empty) in an element of that name. */
export const REQUIRED: Record<string, readonly string[]> = {
  DistributionConfig: ['CallerReference', 'Origins', 'DefaultCacheBehavior', 'Comment', 'Enabled'],
  DistributionConfigWithTags: ['DistributionConfig', 'Tags'],
  StreamingDistributionConfig: ['CallerReference', 'S3Origin', 'Comment', 'TrustedSigners', 'Enabled'],
  StreamingDistributionConfigWithTags: ['StreamingDistributionConfig', 'Tags'],
  Origin: ['Id', 'DomainName'],
  S3Origin: ['DomainName', 'OriginAccessIdentity'],
  S3OriginConfig: ['OriginAccessIdentity'],
  CustomOriginConfig: ['HTTPPort', 'HTTPSPort', 'OriginProtocolPolicy'],
  OriginCustomHeader: ['HeaderName', 'HeaderValue'],
  DefaultCacheBehavior: ['TargetOriginId', 'ViewerProtocolPolicy'],
  CacheBehavior: ['PathPattern', 'TargetOriginId', 'ViewerProtocolPolicy'],
  ForwardedValues: ['QueryString', 'Cookies'],
  Cookies: ['Forward'],
  CustomErrorResponse: ['ErrorCode'],
  Restrictions: ['GeoRestriction'],
  GeoRestriction: ['RestrictionType'],
  TrustedSigners: ['Enabled'],
  TrustedKeyGroups: ['Enabled'],
  CloudFrontOriginAccessIdentityConfig: ['CallerReference', 'Comment'],
  OriginAccessControlConfig: ['Name', 'SigningProtocol', 'SigningBehavior', 'OriginAccessControlOriginType'],
  PublicKeyConfig: ['CallerReference', 'Name', 'EncodedKey'],
  KeyGroupConfig: ['Name', 'Items'],
  InvalidationBatch: ['Paths', 'CallerReference'],
  Tag: ['Key'],
}

const DEFAULT_BEHAVIOR: XmlNode = {
  TrustedSigners: { Enabled: false, Quantity: 0 },
  TrustedKeyGroups: { Enabled: false, Quantity: 0 },
  AllowedMethods: { Quantity: 2, Items: ['HEAD', 'GET'], CachedMethods: { Quantity: 2, Items: ['HEAD', 'GET'] } },
  SmoothStreaming: false,
  Compress: false,
  LambdaFunctionAssociations: { Quantity: 0 },
  FunctionAssociations: { Quantity: 0 },
  FieldLevelEncryptionId: '',
}

/** What CloudFront fills into a stored config when a member is absent (only whole members, never merged). */
export const DEFAULTS: Record<string, XmlNode> = {
  DistributionConfig: {
    Aliases: { Quantity: 0 },
    DefaultRootObject: '',
    OriginGroups: { Quantity: 0 },
    CacheBehaviors: { Quantity: 0 },
    CustomErrorResponses: { Quantity: 0 },
    Logging: { Enabled: false, IncludeCookies: false, Bucket: '', Prefix: '' },
    PriceClass: 'PriceClass_All',
    ViewerCertificate: {
      CloudFrontDefaultCertificate: true,
      SSLSupportMethod: 'vip',
      MinimumProtocolVersion: 'TLSv1',
      CertificateSource: 'cloudfront',
    },
    Restrictions: { GeoRestriction: { RestrictionType: 'none', Quantity: 0 } },
    WebACLId: '',
    HttpVersion: 'http2',
    IsIPV6Enabled: true,
    Staging: false,
  },
  Origin: { OriginPath: '', CustomHeaders: { Quantity: 0 }, ConnectionAttempts: 3, ConnectionTimeout: 10, OriginAccessControlId: '' },
  CustomOriginConfig: {
    OriginSslProtocols: { Quantity: 3, Items: ['TLSv1', 'TLSv1.1', 'TLSv1.2'] },
    OriginReadTimeout: 30,
    OriginKeepaliveTimeout: 5,
  },
  DefaultCacheBehavior: DEFAULT_BEHAVIOR,
  CacheBehavior: DEFAULT_BEHAVIOR,
  StreamingDistributionConfig: {
    Aliases: { Quantity: 0 },
    Logging: { Enabled: false, Bucket: '', Prefix: '' },
    PriceClass: 'PriceClass_All',
  },
  OriginAccessControlConfig: { Description: '' },
  PublicKeyConfig: { Comment: '' },
  KeyGroupConfig: { Comment: '' },
}
