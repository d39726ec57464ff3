// Invalidations live under a distribution and have no ETag; otherwise they follow the common wire rules.
import { isDeepStrictEqual } from 'node:util'
import { ApiError, invalidArgument } from './errors.js'
import { distributionKind, invalidationStatus } from './resources.js'
import type { EmulatorRequest, Reply, Route } from './routing.js'
import { newId, toIso, type EmulatorState, type StoredInvalidation, type StoredResource } from './state.js'
import { buildPage, PUBLIC_ENDPOINT, readPaging, xmlReply } from './wire.js'
import { itemsOf, parseCloudFrontBody, textOf } from './xml.js'
import type { XmlNode } from './xml-node.js'

// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-invalidations
const MAX_PATHS_IN_PROGRESS = 3000
const MAX_WILDCARDS_IN_PROGRESS = 15

const pathsOf = (invalidation: StoredInvalidation) => itemsOf(invalidation.batch.Paths).map(textOf)

export function createInvalidationRoutes(state: EmulatorState): Route[] {
  const base = '/distribution/:DistributionId/invalidation'

  const findDistribution = (request: EmulatorRequest): StoredResource => {
    const distribution = state.distributions.get(request.params.DistributionId ?? '')
    if (distribution === undefined) throw distributionKind.notFound()
    return distribution
  }
  const invalidationsOf = (distribution: StoredResource) =>
    state.invalidations.values().filter((invalidation) => invalidation.distributionId === distribution.id)
  const present = (invalidation: StoredInvalidation, fresh: boolean): XmlNode => ({
    Id: invalidation.id,
    Status: fresh ? 'InProgress' : invalidationStatus(invalidation, state),
    CreateTime: toIso(invalidation.createdAt),
    InvalidationBatch: invalidation.batch,
  })
  const created = (invalidation: StoredInvalidation, fresh: boolean): Reply =>
    xmlReply(201, 'Invalidation', present(invalidation, fresh), {
      Location: `${PUBLIC_ENDPOINT}/distribution/${invalidation.distributionId}/invalidation/${invalidation.id}`,
    })

  function create(request: EmulatorRequest): Reply {
    const distribution = findDistribution(request)
    const batch = parseCloudFrontBody(request.body, 'InvalidationBatch')
    const paths = itemsOf(batch.Paths).map(textOf)
    if (paths.length === 0) throw invalidArgument('The parameter Paths must contain at least one path.')
    if (paths.some((path) => !path.startsWith('/') || path.slice(0, -1).includes('*'))) {
      throw invalidArgument('Your request contains one or more invalid invalidation paths.')
    }
    if (paths.length > MAX_PATHS_IN_PROGRESS) throw new ApiError('BatchTooLarge', 413, 'Invalidation batch specified is too large.')
    const existing = invalidationsOf(distribution).find((invalidation) => invalidation.batch.CallerReference === batch.CallerReference)
    if (existing !== undefined) {
      if (isDeepStrictEqual(pathsOf(existing).sort(), [...paths].sort())) return created(existing, false)
      throw new ApiError('InvalidationBatchAlreadyExists', 409, 'Invalidation batch already exists with a different set of paths.')
    }
    const inProgress = [
      ...invalidationsOf(distribution).filter((invalidation) => invalidationStatus(invalidation, state) === 'InProgress').flatMap(pathsOf),
      ...paths,
    ]
    if (inProgress.length > MAX_PATHS_IN_PROGRESS || inProgress.filter((path) => path.endsWith('*')).length > MAX_WILDCARDS_IN_PROGRESS) {
      throw new ApiError('TooManyInvalidationsInProgress', 400, 'You have exceeded the maximum number of allowable InProgress invalidation batch requests, or invalidation objects.')
    }
    const invalidation: StoredInvalidation = { id: newId('I'), distributionId: distribution.id, batch, createdAt: state.now() }
    state.invalidations.add(invalidation)
    return created(invalidation, true)
  }

  function get(request: EmulatorRequest): Reply {
    const distribution = findDistribution(request)
    const invalidation = state.invalidations.get(request.params.Id ?? '')
    if (invalidation === undefined || invalidation.distributionId !== distribution.id) {
      throw new ApiError('NoSuchInvalidation', 404, 'The specified invalidation does not exist.')
    }
    return xmlReply(200, 'Invalidation', present(invalidation, false))
  }

  function list(request: EmulatorRequest): Reply {
    const distribution = findDistribution(request)
    const paging = readPaging(request.query)
    const items = state.invalidations.after(paging.marker)?.filter((invalidation) => invalidation.distributionId === distribution.id)
    const summarize = (invalidation: StoredInvalidation) => ({
      Id: invalidation.id,
      CreateTime: toIso(invalidation.createdAt),
      Status: invalidationStatus(invalidation, state),
    })
    return xmlReply(200, 'InvalidationList', buildPage(items, paging, summarize))
  }

  return [
    { method: 'POST', pattern: base, operation: 'CreateInvalidation', handle: create },
    { method: 'GET', pattern: base, operation: 'ListInvalidations', handle: list },
    { method: 'GET', pattern: `${base}/:Id`, operation: 'GetInvalidation', handle: get },
  ]
}
