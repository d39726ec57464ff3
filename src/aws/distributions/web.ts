// Web distributions: the service's camelCase shape ↔ CloudFront's DistributionConfig, and their SDK commands.
import {
  CreateDistributionCommand,
  DeleteDistributionCommand,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  UpdateDistributionCommand,
  type ActiveTrustedKeyGroups,
  type Distribution,
  type DistributionConfig,
  type DistributionSummary,
  type Origin,
} from '@aws-sdk/client-cloudfront'
import { isDeepStrictEqual } from 'node:util'
import { appError } from '../../http/errors.js'
import { itemsOf, originAccessIdentityId, originAccessIdentityPath, quantified, trusted, withoutEmptyItems } from '../cloudfront.js'
import {
  activeSignersView,
  identityView,
  type ActiveKeyGroupView,
  type DistributionInput,
  type DistributionKind,
  type DistributionPatch,
  type DistributionView,
  type OriginInput,
  type OriginProtocolPolicy,
  type OriginView,
} from './shapes.js'

/** AWS's managed CachingOptimized cache policy: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html */
export const CACHING_OPTIMIZED_POLICY_ID = '658327ea-f89d-4fab-a63d-7e88639e58f6'

// Origin IDs are labels inside one distribution; the default behavior points at this one.
function originIdFor(domainName: string): string {
  return `origin-${domainName}`.slice(0, 128)
}

function isS3Domain(domainName: string): boolean {
  return /\.s3([.-][a-z0-9-]+)*\.amazonaws\.com$/.test(domainName)
}

/**
 * Applies origin fields to a CloudFront origin. An origin uses one access method: setting an OAI
 * clears the OAC and the other way round (both in one request is left to CloudFront to refuse); a
 * custom origin has neither. An origin with none of them is an S3 origin (public bucket) when the
 * domain is an S3 one, else a custom https-only origin.
 */
export function applyOriginFields(origin: Origin, fields: Partial<OriginInput>): Origin {
  const setsOai = fields.originAccessIdentity !== undefined && fields.originAccessIdentity !== ''
  const setsOac = fields.originAccessControlId !== undefined && fields.originAccessControlId !== ''
  if (fields.customOriginConfig !== undefined && (setsOai || setsOac)) {
    throw appError('VALIDATION_ERROR', 'body.origin: customOriginConfig cannot be combined with an origin access identity or control')
  }
  if (fields.domainName !== undefined) origin.DomainName = fields.domainName
  if (fields.customOriginConfig !== undefined) {
    const { httpPort, httpsPort, originProtocolPolicy } = fields.customOriginConfig
    origin.CustomOriginConfig = { ...origin.CustomOriginConfig, HTTPPort: httpPort, HTTPSPort: httpsPort, OriginProtocolPolicy: originProtocolPolicy }
    delete origin.S3OriginConfig
    origin.OriginAccessControlId = ''
  }
  if (fields.originAccessIdentity !== undefined || setsOac) {
    const oai = setsOac && fields.originAccessIdentity === undefined ? '' : originAccessIdentityPath(fields.originAccessIdentity ?? '')
    origin.S3OriginConfig = { ...origin.S3OriginConfig, OriginAccessIdentity: oai }
    delete origin.CustomOriginConfig
  }
  if (fields.originAccessControlId !== undefined) origin.OriginAccessControlId = fields.originAccessControlId
  else if (setsOai) origin.OriginAccessControlId = ''
  if (origin.S3OriginConfig === undefined && origin.CustomOriginConfig === undefined) {
    if (isS3Domain(origin.DomainName ?? '')) origin.S3OriginConfig = { OriginAccessIdentity: '' }
    else origin.CustomOriginConfig = { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'https-only' }
  }
  return origin
}

/** A complete DistributionConfig from the service's shape: one origin, the default behavior on it. */
export function buildDistributionConfig(input: DistributionInput, callerReference: string): DistributionConfig {
  const originId = originIdFor(input.origin.domainName)
  return withoutEmptyItems({
    CallerReference: callerReference,
    Aliases: quantified(input.aliases ?? []),
    DefaultRootObject: input.defaultRootObject ?? '',
    Origins: { Quantity: 1, Items: [applyOriginFields({ Id: originId, DomainName: input.origin.domainName }, input.origin)] },
    DefaultCacheBehavior: {
      TargetOriginId: originId,
      ViewerProtocolPolicy: 'redirect-to-https',
      CachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
      Compress: true,
      TrustedSigners: trusted(input.trustedSigners ?? []),
      TrustedKeyGroups: trusted(input.trustedKeyGroups ?? []),
    },
    Comment: input.comment ?? '',
    Enabled: input.enabled ?? true,
  })
}

/** The origin the default behavior serves from: the one PATCH `origin` changes. */
function targetOrigin(config: DistributionConfig): Origin {
  const origins = itemsOf(config.Origins)
  const origin = origins.find((o) => o.Id === config.DefaultCacheBehavior?.TargetOriginId) ?? origins[0]
  if (origin === undefined) throw appError('UPSTREAM_ERROR', 'the distribution has no origin')
  return origin
}

/** Merges a PATCH into a full config; everything the service does not model is kept as it is. */
export function applyDistributionPatch(config: DistributionConfig, patch: DistributionPatch): DistributionConfig {
  if (patch.aliases !== undefined) config.Aliases = quantified(patch.aliases)
  if (patch.comment !== undefined) config.Comment = patch.comment
  if (patch.enabled !== undefined) config.Enabled = patch.enabled
  if (patch.defaultRootObject !== undefined) config.DefaultRootObject = patch.defaultRootObject
  const behavior = config.DefaultCacheBehavior!
  if (patch.trustedSigners !== undefined) behavior.TrustedSigners = trusted(patch.trustedSigners)
  if (patch.trustedKeyGroups !== undefined) behavior.TrustedKeyGroups = trusted(patch.trustedKeyGroups)
  if (patch.origin !== undefined) applyOriginFields(targetOrigin(config), patch.origin)
  return config
}

function originView(origin: Origin): OriginView {
  const custom = origin.CustomOriginConfig
  return {
    id: origin.Id,
    domainName: origin.DomainName ?? '',
    ...(origin.S3OriginConfig !== undefined && { originAccessIdentity: originAccessIdentityId(origin.S3OriginConfig.OriginAccessIdentity) }),
    ...(origin.OriginAccessControlId ? { originAccessControlId: origin.OriginAccessControlId } : {}),
    ...(custom !== undefined && {
      customOriginConfig: { httpPort: custom.HTTPPort ?? 80, httpsPort: custom.HTTPSPort ?? 443, originProtocolPolicy: custom.OriginProtocolPolicy as OriginProtocolPolicy },
    }),
  }
}

function activeKeyGroupsView(active: ActiveTrustedKeyGroups | undefined): ActiveKeyGroupView[] {
  return itemsOf(active).map((group) => ({ keyGroupId: group.KeyGroupId ?? '', keyPairIds: itemsOf(group.KeyPairIds) }))
}

/** The fields a create sets, as they read back: what an idempotent replay compares. */
function configFields(config: DistributionConfig) {
  const behavior = config.DefaultCacheBehavior
  return {
    enabled: config.Enabled ?? false,
    comment: config.Comment ?? '',
    aliases: itemsOf(config.Aliases),
    origins: itemsOf(config.Origins).map(originView),
    defaultRootObject: config.DefaultRootObject ?? '',
    trustedSigners: itemsOf(behavior?.TrustedSigners),
    trustedKeyGroups: itemsOf(behavior?.TrustedKeyGroups),
  }
}

function sameFields(a: DistributionConfig, b: DistributionConfig): boolean {
  const sorted = (config: DistributionConfig) => {
    const fields = configFields(config)
    return { ...fields, aliases: [...fields.aliases].sort(), origins: fields.origins.map(({ id: _id, ...rest }) => rest) }
  }
  return isDeepStrictEqual(sorted(a), sorted(b))
}

function distributionView(distribution: Distribution, etag: string | undefined): DistributionView {
  return {
    ...identityView(distribution),
    etag,
    ...configFields(distribution.DistributionConfig ?? ({} as DistributionConfig)),
    activeTrustedSigners: activeSignersView(distribution.ActiveTrustedSigners),
    activeTrustedKeyGroups: activeKeyGroupsView(distribution.ActiveTrustedKeyGroups),
    inProgressInvalidationBatches: distribution.InProgressInvalidationBatches,
  }
}

function summaryView(summary: DistributionSummary): DistributionView {
  const behavior = summary.DefaultCacheBehavior
  return {
    ...identityView(summary),
    etag: summary.ETag,
    enabled: summary.Enabled ?? false,
    comment: summary.Comment ?? '',
    aliases: itemsOf(summary.Aliases),
    origins: itemsOf(summary.Origins).map(originView),
    trustedSigners: itemsOf(behavior?.TrustedSigners),
    trustedKeyGroups: itemsOf(behavior?.TrustedKeyGroups),
  }
}

/** Web distributions as a kind: their SDK commands, member names and config shape. */
export const WEB_DISTRIBUTION: DistributionKind<DistributionConfig, Distribution, DistributionSummary> = {
  commands: {
    get: GetDistributionCommand,
    getConfig: GetDistributionConfigCommand,
    list: ListDistributionsCommand,
    create: CreateDistributionCommand,
    update: UpdateDistributionCommand,
    delete: DeleteDistributionCommand,
  },
  members: { resource: 'Distribution', config: 'DistributionConfig', list: 'DistributionList' },
  alreadyExistsCode: 'DistributionAlreadyExists',
  buildConfig: buildDistributionConfig,
  applyPatch: applyDistributionPatch,
  createdFrom: (existing, config) => existing.DistributionConfig !== undefined && sameFields(existing.DistributionConfig, config),
  view: distributionView,
  summaryView,
}
