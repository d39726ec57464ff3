// The CloudFront 2020-05-31 REST-XML service: one set of CRUD handlers serves every resource family.
import { isDeepStrictEqual } from 'node:util'
import { ApiError, invalidArgument } from './errors.js'
import { createInvalidationRoutes } from './invalidations.js'
import {
  distributionKind,
  RESOURCE_KINDS,
  type ResourceKind,
  streamingDistributionKind,
} from './resources.js'
import { matchRoute, type EmulatorRequest, type Reply, type Route, type Service } from './routing.js'
import { ACCOUNT_ID, newEtag, type EmulatorState, type StoredResource } from './state.js'
import { API_PREFIX, buildPage, checkIfMatch, PUBLIC_ENDPOINT, readPaging, xmlReply } from './wire.js'
import { buildCloudFrontXml, itemsOf, nodeAt, parseCloudFrontBody, textOf, withDefaults } from './xml.js'
import type { XmlNode, XmlValue } from './xml-node.js'

/**
 * `extraRoutes`: operations kept in their own files (CloudFront Functions, KeyValueStores);
 * `checkDistributionConfig`: what those files check of a web distribution's config (its function associations).
 */
export function createCloudFrontService(state: EmulatorState, extraRoutes: readonly Route[] = [], checkDistributionConfig?: (config: XmlNode) => void): Service {
  const routes: Route[] = [
    ...RESOURCE_KINDS.flatMap((kind) => createResourceRoutes(kind, state, kind === distributionKind ? checkDistributionConfig : undefined)),
    ...createInvalidationRoutes(state),
    { method: 'GET', pattern: '/tagging', operation: 'ListTagsForResource', handle: (request) => listTags(request, state) },
    ...extraRoutes,
  ]
  return {
    resolve: (method, path, query) => matchRoute(routes, method, path.slice(API_PREFIX.length), query),
    requestIdHeaders: (requestId) => ({ 'x-amzn-RequestId': requestId }),
    unknownOperation: (method, path) => new ApiError('UnknownOperationException', 404, `No operation matches ${method} ${path}.`),
    renderError: (error, requestId) => ({
      status: error.status,
      headers: { 'Content-Type': 'text/xml' },
      body: buildCloudFrontXml('ErrorResponse', {
        Error: { Type: error.status >= 500 ? 'Receiver' : 'Sender', Code: error.code, Message: error.message },
        RequestId: requestId,
      }),
    }),
  }
}

function createResourceRoutes(kind: ResourceKind, state: EmulatorState, checkConfig?: (config: XmlNode) => void): Route[] {
  const collection = () => kind.collection(state)
  const item = `${kind.path}/:Id`

  const find = (request: EmulatorRequest): StoredResource => {
    const resource = kind.isRetired?.(state) ? undefined : collection().get(request.params.Id ?? '')
    if (resource === undefined) throw kind.notFound()
    return resource
  }
  const findByIdentity = (config: XmlNode) => {
    const { member } = kind.identity
    return collection().values().find((resource) => textOf(resource.config[member]) === textOf(config[member]))
  }
  const presentWrite = (status: number, resource: StoredResource, headers: Record<string, string> = {}): Reply =>
    xmlReply(status, kind.name, kind.present(resource, state, true), { ETag: resource.etag, ...headers })

  function create(request: EmulatorRequest, withTags: boolean): Reply {
    if (kind.isRetired?.(state)) throw new ApiError('AccessDenied', 403, `${kind.name} resources can no longer be created.`)
    const body = parseCloudFrontBody(request.body, withTags ? `${kind.configRoot}WithTags` : kind.configRoot)
    const config = withDefaults(kind.configRoot, withTags ? nodeAt(body[kind.configRoot]) : body)
    const location = (resource: StoredResource) => ({ Location: `${PUBLIC_ENDPOINT}${kind.path}/${resource.id}` })
    const existing = findByIdentity(config)
    if (existing !== undefined) {
      if (kind.identity.replayIdentical && isDeepStrictEqual(existing.config, config)) return presentWrite(201, existing, location(existing))
      throw kind.identity.conflict(existing)
    }
    if (collection().values().length >= kind.quota.max) {
      throw new ApiError(kind.quota.code, 400, `Your request exceeds the maximum number of ${kind.plural} allowed.`)
    }
    kind.validate(config, state)
    checkConfig?.(config)
    const now = state.now()
    const resource: StoredResource = {
      ...kind.create(),
      etag: newEtag(),
      config,
      createdAt: now,
      modifiedAt: now,
      ...(withTags && { tags: readTags(body.Tags) }),
    }
    collection().add(resource)
    return presentWrite(201, resource, location(resource))
  }

  function update(request: EmulatorRequest): Reply {
    const resource = find(request)
    checkIfMatch(request, resource)
    const config = withDefaults(kind.configRoot, parseCloudFrontBody(request.body, kind.configRoot))
    for (const [member, code] of Object.entries(kind.immutable)) {
      if (!isDeepStrictEqual(config[member], resource.config[member])) {
        throw new ApiError(code, 400, `The ${member} of a ${kind.name} cannot be changed.`)
      }
    }
    const clash = findByIdentity(config)
    if (clash !== undefined && clash !== resource) throw kind.identity.conflict(clash)
    kind.validate(config, state, resource)
    checkConfig?.(config)
    Object.assign(resource, { config, etag: newEtag(), modifiedAt: state.now() })
    return presentWrite(200, resource)
  }

  function remove(request: EmulatorRequest): Reply {
    const resource = find(request)
    checkIfMatch(request, resource)
    kind.checkDelete(resource, state)
    collection().delete(resource.id)
    // A distribution's invalidations go with it (Ids are unique across families, so this is a no-op for others).
    for (const invalidation of state.invalidations.values()) {
      if (invalidation.distributionId === resource.id) state.invalidations.delete(invalidation.id)
    }
    return { status: 204 }
  }

  function list(request: EmulatorRequest): Reply {
    const paging = readPaging(request.query)
    const items = kind.isRetired?.(state) ? [] : collection().after(paging.marker)
    return xmlReply(200, kind.listRoot, buildPage(items, paging, (resource) => kind.summarize(resource, state), kind.reducedList))
  }

  return [
    {
      method: 'POST',
      pattern: kind.path,
      operation: `Create${kind.name}WithTags`,
      when: (query) => kind.withTags === true && query.has('WithTags'),
      handle: (request) => create(request, true),
    },
    { method: 'POST', pattern: kind.path, operation: `Create${kind.name}`, handle: (request) => create(request, false) },
    { method: 'GET', pattern: kind.path, operation: `List${kind.plural}`, handle: list },
    {
      method: 'GET',
      pattern: item,
      operation: `Get${kind.name}`,
      handle: (request) => {
        const resource = find(request)
        return xmlReply(200, kind.name, kind.present(resource, state, false), { ETag: resource.etag })
      },
    },
    {
      method: 'GET',
      pattern: `${item}/config`,
      operation: `Get${kind.name}Config`,
      handle: (request) => {
        const resource = find(request)
        return xmlReply(200, kind.configRoot, resource.config, { ETag: resource.etag })
      },
    },
    { method: 'PUT', pattern: `${item}${kind.updateSuffix}`, operation: `Update${kind.name}`, handle: update },
    { method: 'DELETE', pattern: item, operation: `Delete${kind.name}`, handle: remove },
  ]
}

// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/tagging.html#tagging-restrictions
const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u

function readTags(tags: XmlValue | undefined): XmlValue[] {
  const items = itemsOf(tags)
  for (const tag of items.map(nodeAt)) {
    const key = textOf(tag.Key)
    const value = textOf(tag.Value)
    if (key.length < 1 || key.length > 128 || value.length > 256 || !TAG_PATTERN.test(key) || !TAG_PATTERN.test(value)) {
      throw new ApiError('InvalidTagging', 400, `The tag ${JSON.stringify(key)} is not valid.`)
    }
  }
  return items
}

function listTags(request: EmulatorRequest, state: EmulatorState): Reply {
  const arn = request.query.get('Resource') ?? ''
  const match = /^arn:aws:cloudfront::(\d{12}):(distribution|streaming-distribution)\/([A-Z0-9]+)$/.exec(arn)
  if (match === null) throw invalidArgument(`The parameter Resource has an invalid value: ${JSON.stringify(arn)}.`)
  const [, account, type, id = ''] = match
  const kind = type === 'distribution' ? distributionKind : streamingDistributionKind
  const resource = account === ACCOUNT_ID ? kind.collection(state).get(id) : undefined
  if (resource === undefined) {
    throw new ApiError('NoSuchResource', 404, 'The specified resource does not exist.')
  }
  return xmlReply(200, 'Tags', { Items: resource.tags ?? [] })
}
