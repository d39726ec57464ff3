// Web distributions: the service's camelCase shape ↔ CloudFront's DistributionConfig, and the calls.
import {
  CreateDistributionCommand,
  DeleteDistributionCommand,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  UpdateDistributionCommand,
  type ActiveTrustedKeyGroups,
  type ActiveTrustedSigners,
  type Distribution,
  type DistributionConfig,
  type DistributionSummary,
  type Origin,
} from '@aws-sdk/client-cloudfront'
import { isDeepStrictEqual } from 'node:util'
import { appError } from '../http/errors.js'
import type { AwsAccount } from './accounts.js'
import {
  isoOf,
  itemsOf,
  originAccessIdentityId,
  originAccessIdentityPath,
  pageOf,
  quantified,
  replayExisting,
  trusted,
  updateMerging,
  waitUntilDeployed,
  withoutEmptyItems,
  type Created,
  type Page,
  type PageRequest,
  type WaitOptions,
} from './cloudfront.js'

/** AWS's managed CachingOptimized cache policy: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html */
export const CACHING_OPTIMIZED_POLICY_ID = '658327ea-f89d-4fab-a63d-7e88639e58f6'

export type OriginProtocolPolicy = 'http-only' | 'match-viewer' | 'https-only'

export interface CustomOrigin {
  httpPort: number
  httpsPort: number
  originProtocolPolicy: OriginProtocolPolicy
}

export interface OriginInput {
  domainName: string
  /** An OAI ID (`E74FTE3AJFJ256A`); `''` for none. */
  originAccessIdentity?: string
  /** An OAC ID; `''` for none. */
  originAccessControlId?: string
  customOriginConfig?: CustomOrigin
}

export interface DistributionInput {
  origin: OriginInput
  aliases?: string[]
  comment?: string
  enabled?: boolean
  defaultRootObject?: string
  /** `self` or 12-digit AWS account IDs (legacy key pairs). */
  trustedSigners?: string[]
  /** Key group IDs. */
  trustedKeyGroups?: string[]
}

export type DistributionPatch = Partial<Omit<DistributionInput, 'origin'>> & { origin?: Partial<OriginInput> }

export interface OriginView {
  id?: string
  domainName: string
  originAccessIdentity?: string
  originAccessControlId?: string
  customOriginConfig?: CustomOrigin
}

export interface ActiveSignerView {
  awsAccountNumber: string
  keyPairIds: string[]
}

export interface ActiveKeyGroupView {
  keyGroupId: string
  keyPairIds: string[]
}

export interface DistributionView {
  id: string
  arn?: string
  status: string
  etag?: string
  domainName: string
  lastModifiedTime?: string
  enabled: boolean
  comment: string
  aliases: string[]
  origins: OriginView[]
  defaultRootObject?: string
  trustedSigners: string[]
  trustedKeyGroups: string[]
  activeTrustedSigners?: ActiveSignerView[]
  activeTrustedKeyGroups?: ActiveKeyGroupView[]
  inProgressInvalidationBatches?: number
}

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

export function activeSignersView(active: ActiveTrustedSigners | undefined): ActiveSignerView[] {
  return itemsOf(active).map((signer) => ({ awsAccountNumber: signer.AwsAccountNumber ?? '', keyPairIds: itemsOf(signer.KeyPairIds) }))
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

export function distributionView(distribution: Distribution, etag: string | undefined): DistributionView {
  return {
    id: distribution.Id ?? '',
    arn: distribution.ARN,
    status: distribution.Status ?? '',
    etag,
    domainName: distribution.DomainName ?? '',
    lastModifiedTime: isoOf(distribution.LastModifiedTime),
    ...configFields(distribution.DistributionConfig ?? ({} as DistributionConfig)),
    activeTrustedSigners: activeSignersView(distribution.ActiveTrustedSigners),
    activeTrustedKeyGroups: activeKeyGroupsView(distribution.ActiveTrustedKeyGroups),
    inProgressInvalidationBatches: distribution.InProgressInvalidationBatches,
  }
}

function summaryView(summary: DistributionSummary): DistributionView {
  const behavior = summary.DefaultCacheBehavior
  return {
    id: summary.Id ?? '',
    arn: summary.ARN,
    status: summary.Status ?? '',
    etag: summary.ETag,
    domainName: summary.DomainName ?? '',
    lastModifiedTime: isoOf(summary.LastModifiedTime),
    enabled: summary.Enabled ?? false,
    comment: summary.Comment ?? '',
    aliases: itemsOf(summary.Aliases),
    origins: itemsOf(summary.Origins).map(originView),
    trustedSigners: itemsOf(behavior?.TrustedSigners),
    trustedKeyGroups: itemsOf(behavior?.TrustedKeyGroups),
  }
}

async function fetchDistribution(account: AwsAccount, id: string) {
  const output = await account.cloudFront.send(new GetDistributionCommand({ Id: id }))
  return { distribution: output.Distribution!, etag: output.ETag }
}

export async function getDistribution(account: AwsAccount, id: string): Promise<DistributionView> {
  const { distribution, etag } = await fetchDistribution(account, id)
  return distributionView(distribution, etag)
}

export async function listDistributions(account: AwsAccount, page: PageRequest): Promise<Page<DistributionView>> {
  const output = await account.cloudFront.send(new ListDistributionsCommand({ Marker: page.marker, MaxItems: page.maxItems }))
  return pageOf(output.DistributionList, summaryView)
}

/** Creates a distribution; a replay of the same CallerReference with the same fields answers the existing one. */
export async function createDistribution(account: AwsAccount, input: DistributionInput, callerReference: string): Promise<Created<DistributionView>> {
  const config = buildDistributionConfig(input, callerReference)
  try {
    const output = await account.cloudFront.send(new CreateDistributionCommand({ DistributionConfig: config }))
    return { resource: distributionView(output.Distribution!, output.ETag), created: true }
  } catch (err) {
    const replay = await replayExisting(
      err,
      'DistributionAlreadyExists',
      (id) => fetchDistribution(account, id),
      ({ distribution }) => distribution.DistributionConfig !== undefined && sameFields(distribution.DistributionConfig, config),
    )
    return { resource: distributionView(replay.resource.distribution, replay.resource.etag), created: false }
  }
}

export async function updateDistribution(account: AwsAccount, id: string, patch: DistributionPatch, ifMatch?: string): Promise<DistributionView> {
  return updateMerging(
    {
      getConfig: async () => {
        const output = await account.cloudFront.send(new GetDistributionConfigCommand({ Id: id }))
        return { config: output.DistributionConfig!, etag: output.ETag ?? '' }
      },
      put: async (config, etag) => {
        const output = await account.cloudFront.send(new UpdateDistributionCommand({ Id: id, IfMatch: etag, DistributionConfig: config }))
        return distributionView(output.Distribution!, output.ETag)
      },
      get: () => getDistribution(account, id),
    },
    (config) => applyDistributionPatch(config, patch),
    ifMatch,
  )
}

/** Deletes with the caller's If-Match, or the current ETag; CloudFront refuses an enabled one (409 DistributionNotDisabled). */
export async function deleteDistribution(account: AwsAccount, id: string, ifMatch?: string): Promise<void> {
  const etag = ifMatch ?? (await fetchDistribution(account, id)).etag
  await account.cloudFront.send(new DeleteDistributionCommand({ Id: id, IfMatch: etag }))
}

export function waitForDistribution(account: AwsAccount, id: string, options: WaitOptions): Promise<DistributionView> {
  return waitUntilDeployed(() => getDistribution(account, id), options)
}
