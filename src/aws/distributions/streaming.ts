// Streaming (RTMP) distributions: AWS stopped serving RTMP at the end of 2020, but the API still
// models them; the shared calls proxy it faithfully and report whatever CloudFront answers.
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
import { appError } from '../../http/errors.js'
import { itemsOf, originAccessIdentityId, originAccessIdentityPath, quantified, trusted, withoutEmptyItems } from '../cloudfront.js'
import { activeSignersView, identityView, type DistributionInput, type DistributionKind, type DistributionPatch, type DistributionView } from './shapes.js'

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
    ...identityView(distribution),
    etag,
    ...configFields(distribution.StreamingDistributionConfig ?? ({} as StreamingDistributionConfig)),
    activeTrustedSigners: activeSignersView(distribution.ActiveTrustedSigners),
  }
}

function summaryView(summary: StreamingDistributionSummary): DistributionView {
  return {
    ...identityView(summary),
    ...configFields(summary),
  }
}

/** Streaming distributions as a kind: their SDK commands, member names and config shape. */
export const STREAMING_DISTRIBUTION: DistributionKind<StreamingDistributionConfig, StreamingDistribution, StreamingDistributionSummary> = {
  commands: {
    get: GetStreamingDistributionCommand,
    getConfig: GetStreamingDistributionConfigCommand,
    list: ListStreamingDistributionsCommand,
    create: CreateStreamingDistributionCommand,
    update: UpdateStreamingDistributionCommand,
    delete: DeleteStreamingDistributionCommand,
  },
  members: { resource: 'StreamingDistribution', config: 'StreamingDistributionConfig', list: 'StreamingDistributionList' },
  alreadyExistsCode: 'StreamingDistributionAlreadyExists',
  buildConfig: buildStreamingConfig,
  applyPatch: applyStreamingPatch,
  createdFrom: (existing, config) => sameFields(existing.StreamingDistributionConfig ?? ({} as StreamingDistributionConfig), config),
  view: streamingView,
  summaryView,
}
