// The service's distribution shapes (web and streaming answer the same), and what a kind of
// distribution is made of: its SDK commands, member names and config shape, as data.
import type { ActiveTrustedSigners } from '@aws-sdk/client-cloudfront'
import { isoOf, itemsOf } from '../cloudfront.js'

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

/** What a distribution of either kind, and each list summary, says of itself besides its config. */
export function identityView(resource: { Id?: string; ARN?: string; Status?: string; DomainName?: string; LastModifiedTime?: Date }) {
  return { id: resource.Id ?? '', arn: resource.ARN, status: resource.Status ?? '', domainName: resource.DomainName ?? '', lastModifiedTime: isoOf(resource.LastModifiedTime) }
}

export function activeSignersView(active: ActiveTrustedSigners | undefined): ActiveSignerView[] {
  return itemsOf(active).map((signer) => ({ awsAccountNumber: signer.AwsAccountNumber ?? '', keyPairIds: itemsOf(signer.KeyPairIds) }))
}

/** An SDK command class; the kind's members say where its input and output carry the resource. */
// Each command's input type is its own; `any` here is what lets one table hold both kinds' commands.
export type CommandClass = new (input: any) => object

/**
 * A kind of distribution (web, streaming): everything that differs between them. CloudFront names
 * the same calls and members per kind (`GetDistribution` / `GetStreamingDistribution`,
 * `DistributionConfig` / `StreamingDistributionConfig`); the calls themselves are shared.
 */
export interface DistributionKind<Config, Resource, Summary> {
  commands: Record<'get' | 'getConfig' | 'list' | 'create' | 'update' | 'delete', CommandClass>
  /** Output and input member names: the resource, its config, the list. */
  members: { resource: string; config: string; list: string }
  /** CloudFront's code for a reused CallerReference. */
  alreadyExistsCode: string
  buildConfig(input: DistributionInput, callerReference: string): Config
  /** Merges a PATCH into the full config read back; what the service does not model is kept. */
  applyPatch(config: Config, patch: DistributionPatch): Config
  /** Whether an existing resource was made from this config: an idempotent replay answers it. */
  createdFrom(existing: Resource, config: Config): boolean
  view(resource: Resource, etag: string | undefined): DistributionView
  summaryView(summary: Summary): DistributionView
}
