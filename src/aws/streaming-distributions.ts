// Streaming (RTMP) distributions: AWS stopped serving RTMP at the end of 2020, but the API still
// models them; these calls proxy it faithfully and report whatever CloudFront answers.
import {
  CreateStreamingDistributionCommand,
  DeleteStreamingDistributionCommand,
  GetStreamingDistributionCommand,
  GetStreamingDistributionConfigCommand,
  ListStreamingDistributionsCommand,
  UpdateStreamingDistributionCommand,
  type StreamingDistribution,
  type StreamingDistributionConfig,
  type StreamingDistributionSummary,
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
import { activeSignersView, type DistributionInput, type DistributionPatch, type DistributionView } from './distributions.js'

/** Streaming distributions serve from an S3 bucket, optionally through an OAI; nothing else applies. */
function checkStreamingFields(fields: DistributionPatch): void {
  const refuse = (field: string, why: string) => appError('VALIDATION_ERROR', `body.${field}: ${why}`)
  if (fields.origin?.customOriginConfig !== undefined) throw refuse('origin.customOriginConfig', 'streaming distributions take S3 origins only')
  if (fields.origin?.originAccessControlId) throw refuse('origin.originAccessControlId', 'streaming distributions take an origin access identity, not a control')
  if (fields.trustedKeyGroups?.length) throw refuse('trustedKeyGroups', 'streaming distributions trust signers (key pairs), not key groups')
  if (fields.defaultRootObject) throw refuse('defaultRootObject', 'streaming distributions have no default root object')
}

export function buildStreamingConfig(input: DistributionInput, callerReference: string): StreamingDistributionConfig {
  checkStreamingFields(input)
  return withoutEmptyItems({
    CallerReference: callerReference,
    S3Origin: { DomainName: input.origin.domainName, OriginAccessIdentity: originAccessIdentityPath(input.origin.originAccessIdentity ?? '') },
    Aliases: quantified(input.aliases ?? []),
    Comment: input.comment ?? '',
    TrustedSigners: trusted(input.trustedSigners ?? []),
    Enabled: input.enabled ?? true,
  })
}

export function applyStreamingPatch(config: StreamingDistributionConfig, patch: DistributionPatch): StreamingDistributionConfig {
  checkStreamingFields(patch)
  if (patch.aliases !== undefined) config.Aliases = quantified(patch.aliases)
  if (patch.comment !== undefined) config.Comment = patch.comment
  if (patch.enabled !== undefined) config.Enabled = patch.enabled
  if (patch.trustedSigners !== undefined) config.TrustedSigners = trusted(patch.trustedSigners)
  const origin = patch.origin
  if (origin?.domainName !== undefined) config.S3Origin = { ...config.S3Origin!, DomainName: origin.domainName }
  if (origin?.originAccessIdentity !== undefined) config.S3Origin = { ...config.S3Origin!, OriginAccessIdentity: originAccessIdentityPath(origin.originAccessIdentity) }
  return config
}

function configFields(config: StreamingDistributionConfig | StreamingDistributionSummary) {
  return {
    enabled: config.Enabled ?? false,
    comment: config.Comment ?? '',
    aliases: itemsOf(config.Aliases),
    origins: [{ domainName: config.S3Origin?.DomainName ?? '', originAccessIdentity: originAccessIdentityId(config.S3Origin?.OriginAccessIdentity) }],
    trustedSigners: itemsOf(config.TrustedSigners),
    trustedKeyGroups: [],
  }
}

function sameFields(a: StreamingDistributionConfig, b: StreamingDistributionConfig): boolean {
  const sorted = (config: StreamingDistributionConfig) => ({ ...configFields(config), aliases: itemsOf(config.Aliases).sort() })
  return isDeepStrictEqual(sorted(a), sorted(b))
}

function streamingView(distribution: StreamingDistribution, etag: string | undefined): DistributionView {
  return {
    id: distribution.Id ?? '',
    arn: distribution.ARN,
    status: distribution.Status ?? '',
    etag,
    domainName: distribution.DomainName ?? '',
    lastModifiedTime: isoOf(distribution.LastModifiedTime),
    ...configFields(distribution.StreamingDistributionConfig ?? ({} as StreamingDistributionConfig)),
    activeTrustedSigners: activeSignersView(distribution.ActiveTrustedSigners),
  }
}

function summaryView(summary: StreamingDistributionSummary): DistributionView {
  return {
    id: summary.Id ?? '',
    arn: summary.ARN,
    status: summary.Status ?? '',
    domainName: summary.DomainName ?? '',
    lastModifiedTime: isoOf(summary.LastModifiedTime),
    ...configFields(summary),
  }
}

async function fetchStreaming(account: AwsAccount, id: string) {
  const output = await account.cloudFront.send(new GetStreamingDistributionCommand({ Id: id }))
  return { distribution: output.StreamingDistribution!, etag: output.ETag }
}

export async function getStreamingDistribution(account: AwsAccount, id: string): Promise<DistributionView> {
  const { distribution, etag } = await fetchStreaming(account, id)
  return streamingView(distribution, etag)
}

export async function listStreamingDistributions(account: AwsAccount, page: PageRequest): Promise<Page<DistributionView>> {
  const output = await account.cloudFront.send(new ListStreamingDistributionsCommand({ Marker: page.marker, MaxItems: page.maxItems }))
  return pageOf(output.StreamingDistributionList, summaryView)
}

export async function createStreamingDistribution(account: AwsAccount, input: DistributionInput, callerReference: string): Promise<Created<DistributionView>> {
  const config = buildStreamingConfig(input, callerReference)
  try {
    const output = await account.cloudFront.send(new CreateStreamingDistributionCommand({ StreamingDistributionConfig: config }))
    return { resource: streamingView(output.StreamingDistribution!, output.ETag), created: true }
  } catch (err) {
    const replay = await replayExisting(
      err,
      'StreamingDistributionAlreadyExists',
      (id) => fetchStreaming(account, id),
      ({ distribution }) => sameFields(distribution.StreamingDistributionConfig ?? ({} as StreamingDistributionConfig), config),
    )
    return { resource: streamingView(replay.resource.distribution, replay.resource.etag), created: false }
  }
}

export async function updateStreamingDistribution(account: AwsAccount, id: string, patch: DistributionPatch, ifMatch?: string): Promise<DistributionView> {
  return updateMerging(
    {
      getConfig: async () => {
        const output = await account.cloudFront.send(new GetStreamingDistributionConfigCommand({ Id: id }))
        return { config: output.StreamingDistributionConfig!, etag: output.ETag ?? '' }
      },
      put: async (config, etag) => {
        const output = await account.cloudFront.send(new UpdateStreamingDistributionCommand({ Id: id, IfMatch: etag, StreamingDistributionConfig: config }))
        return streamingView(output.StreamingDistribution!, output.ETag)
      },
      get: () => getStreamingDistribution(account, id),
    },
    (config) => applyStreamingPatch(config, patch),
    ifMatch,
  )
}

export async function deleteStreamingDistribution(account: AwsAccount, id: string, ifMatch?: string): Promise<void> {
  const etag = ifMatch ?? (await fetchStreaming(account, id)).etag
  await account.cloudFront.send(new DeleteStreamingDistributionCommand({ Id: id, IfMatch: etag }))
}

export function waitForStreamingDistribution(account: AwsAccount, id: string, options: WaitOptions): Promise<DistributionView> {
  return waitUntilDeployed(() => getStreamingDistribution(account, id), options)
}
