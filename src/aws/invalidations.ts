// Invalidations of a web distribution's cached objects.
import {
  CreateInvalidationCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
  type Invalidation,
  type InvalidationSummary,
} from '@aws-sdk/client-cloudfront'
import type { AwsAccount } from './accounts.js'
import { isoOf, itemsOf, pageOf, quantified, type Created, type Page, type PageRequest } from './cloudfront.js'

export interface InvalidationView {
  id: string
  status: string
  createTime?: string
  paths?: string[]
  callerReference?: string
}

function invalidationView(invalidation: Invalidation | InvalidationSummary): InvalidationView {
  const batch = 'InvalidationBatch' in invalidation ? invalidation.InvalidationBatch : undefined
  return {
    id: invalidation.Id ?? '',
    status: invalidation.Status ?? '',
    createTime: isoOf(invalidation.CreateTime),
    ...(batch !== undefined && { paths: itemsOf(batch.Paths), callerReference: batch.CallerReference }),
  }
}

/** CloudFront answers a reused CallerReference with the same paths by the original invalidation (200). */
export async function createInvalidation(account: AwsAccount, distributionId: string, paths: string[], callerReference: string): Promise<Created<InvalidationView>> {
  const output = await account.cloudFront.send(
    new CreateInvalidationCommand({ DistributionId: distributionId, InvalidationBatch: { Paths: quantified(paths), CallerReference: callerReference } }),
  )
  return { resource: invalidationView(output.Invalidation!), created: output.$metadata.httpStatusCode !== 200 }
}

export async function getInvalidation(account: AwsAccount, distributionId: string, id: string): Promise<InvalidationView> {
  const output = await account.cloudFront.send(new GetInvalidationCommand({ DistributionId: distributionId, Id: id }))
  return invalidationView(output.Invalidation!)
}

export async function listInvalidations(account: AwsAccount, distributionId: string, page: PageRequest): Promise<Page<InvalidationView>> {
  const output = await account.cloudFront.send(new ListInvalidationsCommand({ DistributionId: distributionId, Marker: page.marker, MaxItems: page.maxItems }))
  return pageOf(output.InvalidationList, invalidationView)
}
