// Origin access identities (legacy) and origin access controls: how CloudFront reads a private bucket.
import {
  CreateCloudFrontOriginAccessIdentityCommand,
  CreateOriginAccessControlCommand,
  DeleteCloudFrontOriginAccessIdentityCommand,
  GetCloudFrontOriginAccessIdentityCommand,
  GetOriginAccessControlCommand,
  ListCloudFrontOriginAccessIdentitiesCommand,
  ListOriginAccessControlsCommand,
  type CloudFrontOriginAccessIdentity,
  type CloudFrontOriginAccessIdentitySummary,
  type OriginAccessControl,
  type OriginAccessControlSummary,
} from '@aws-sdk/client-cloudfront'
import type { AwsAccount } from './accounts.js'
import { findByName, pageOf, type Created, type Page, type PageRequest } from './cloudfront.js'
import { codeOf } from './errors.js'

export interface OriginAccessIdentityView {
  id: string
  s3CanonicalUserId: string
  comment: string
  etag?: string
}

export type OacSigningBehavior = 'always' | 'never' | 'no-override'
export type OacOriginType = 's3' | 'mediastore' | 'mediapackagev2' | 'lambda'

export interface OriginAccessControlInput {
  name: string
  description?: string
  signingBehavior?: OacSigningBehavior
  originType?: OacOriginType
}

export interface OriginAccessControlView {
  id: string
  name: string
  description: string
  signingProtocol: string
  signingBehavior: string
  originType: string
  etag?: string
}

function identityView(identity: CloudFrontOriginAccessIdentity | CloudFrontOriginAccessIdentitySummary, etag?: string): OriginAccessIdentityView {
  const comment = 'Comment' in identity ? identity.Comment : identity.CloudFrontOriginAccessIdentityConfig?.Comment
  return { id: identity.Id ?? '', s3CanonicalUserId: identity.S3CanonicalUserId ?? '', comment: comment ?? '', etag }
}

/**
 * Creates an OAI. CloudFront itself answers a reused CallerReference with the same comment by the
 * original identity (200 instead of 201), and a different comment by a 409.
 */
export async function createOriginAccessIdentity(account: AwsAccount, comment: string, callerReference: string): Promise<Created<OriginAccessIdentityView>> {
  const output = await account.cloudFront.send(
    new CreateCloudFrontOriginAccessIdentityCommand({ CloudFrontOriginAccessIdentityConfig: { CallerReference: callerReference, Comment: comment } }),
  )
  return { resource: identityView(output.CloudFrontOriginAccessIdentity!, output.ETag), created: output.$metadata.httpStatusCode !== 200 }
}

export async function getOriginAccessIdentity(account: AwsAccount, id: string): Promise<OriginAccessIdentityView> {
  const output = await account.cloudFront.send(new GetCloudFrontOriginAccessIdentityCommand({ Id: id }))
  return identityView(output.CloudFrontOriginAccessIdentity!, output.ETag)
}

export async function listOriginAccessIdentities(account: AwsAccount, page: PageRequest): Promise<Page<OriginAccessIdentityView>> {
  const output = await account.cloudFront.send(new ListCloudFrontOriginAccessIdentitiesCommand({ Marker: page.marker, MaxItems: page.maxItems }))
  return pageOf(output.CloudFrontOriginAccessIdentityList, (summary) => identityView(summary))
}

/** Deletes with the caller's If-Match or the current ETag; an OAI in use is CloudFront's 409. */
export async function deleteOriginAccessIdentity(account: AwsAccount, id: string, ifMatch?: string): Promise<void> {
  const etag = ifMatch ?? (await getOriginAccessIdentity(account, id)).etag
  await account.cloudFront.send(new DeleteCloudFrontOriginAccessIdentityCommand({ Id: id, IfMatch: etag }))
}

function controlView(control: OriginAccessControl | OriginAccessControlSummary, etag?: string): OriginAccessControlView {
  const config: Partial<OriginAccessControlSummary> = 'OriginAccessControlConfig' in control ? (control.OriginAccessControlConfig ?? {}) : control
  return {
    id: control.Id ?? '',
    name: config.Name ?? '',
    description: config.Description ?? '',
    signingProtocol: config.SigningProtocol ?? '',
    signingBehavior: config.SigningBehavior ?? '',
    originType: config.OriginAccessControlOriginType ?? '',
    etag,
  }
}

export async function getOriginAccessControl(account: AwsAccount, id: string): Promise<OriginAccessControlView> {
  const output = await account.cloudFront.send(new GetOriginAccessControlCommand({ Id: id }))
  return controlView(output.OriginAccessControl!, output.ETag)
}

export async function listOriginAccessControls(account: AwsAccount, page: PageRequest): Promise<Page<OriginAccessControlView>> {
  const output = await account.cloudFront.send(new ListOriginAccessControlsCommand({ Marker: page.marker, MaxItems: page.maxItems }))
  return pageOf(output.OriginAccessControlList, (summary) => controlView(summary))
}

/**
 * Creates an OAC. OACs have no CallerReference: their unique name identifies them, so a `replay`
 * (the caller sent an Idempotency-Key) that finds the same name with the same settings answers it.
 */
export async function createOriginAccessControl(account: AwsAccount, input: OriginAccessControlInput, replay: boolean): Promise<Created<OriginAccessControlView>> {
  const config = {
    Name: input.name,
    Description: input.description ?? '',
    SigningProtocol: 'sigv4' as const,
    SigningBehavior: input.signingBehavior ?? 'always',
    OriginAccessControlOriginType: input.originType ?? 's3',
  }
  try {
    const output = await account.cloudFront.send(new CreateOriginAccessControlCommand({ OriginAccessControlConfig: config }))
    return { resource: controlView(output.OriginAccessControl!, output.ETag), created: true }
  } catch (err) {
    if (!replay || codeOf(err) !== 'OriginAccessControlAlreadyExists') throw err
    const existing = await findByName((page) => listOriginAccessControls(account, page), input.name)
    const same =
      existing !== undefined &&
      existing.description === config.Description &&
      existing.signingBehavior === config.SigningBehavior &&
      existing.originType === config.OriginAccessControlOriginType
    if (!same) throw err
    return { resource: await getOriginAccessControl(account, existing.id), created: false }
  }
}
