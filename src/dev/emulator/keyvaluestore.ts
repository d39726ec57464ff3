// CloudFront KeyValueStore: the control plane (CreateKeyValueStore... in CloudFront's 2020-05-31 REST-XML) and the
// data plane (the `cloudfront-keyvaluestore` service, 2022-07-26 REST-JSON: keys by store ARN, writes with If-Match).
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions.html
// Stores live in memory only: the state file does not keep them.
import { randomUUID } from 'node:crypto'
import { ApiError, invalidArgument } from './errors.js'
import { header, matchRoute, type EmulatorRequest, type Reply, type Route, type Service } from './routing.js'
import { ACCOUNT_ID, newEtag, toIso } from './state.js'
import { checkIfMatch, PUBLIC_ENDPOINT } from './wire.js'
import { buildXml, isNode, readXml } from './xml.js'

export const CLOUDFRONT_NAMESPACE = 'http://cloudfront.amazonaws.com/doc/2020-05-31/'
const NAME_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/
const MAX_COMMENT_LENGTH = 128
const MAX_STORES = 50
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-kvs
const MAX_KEY_BYTES = 512
const MAX_VALUE_BYTES = 1024
const MAX_STORE_BYTES = 5 * 1024 * 1024
const MAX_LIST_RESULTS = 50
const DATA_PLANE_PATH = /^\/key-value-stores\/arn(:|%3A)/i
const JSON_CONTENT_TYPE = 'application/json'

export interface StoredKeyValueStore {
  id: string
  name: string
  arn: string
  comment: string
  /** The control plane's version (Update/DeleteKeyValueStore). */
  etag: string
  /** The data's version (PutKey, DeleteKey, UpdateKeys). */
  dataEtag: string
  createdAt: number
  modifiedAt: number
  items: Map<string, string>
}

export type KeyValueStores = ReturnType<typeof createKeyValueStores>

/** Whether a request is for the data plane: `/key-value-stores/<store ARN>...` (an S3 bucket name has no `:`). */
export function isKeyValueStoreDataRequest(path: string): boolean {
  return DATA_PLANE_PATH.test(path)
}

export function cloudFrontXml(status: number, root: string, value: Record<string, unknown>, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'text/xml', ...headers }, body: buildXml(root, value, CLOUDFRONT_NAMESPACE) }
}

/** A CloudFront request body as plain text values; `Items` children always come back as arrays. */
export function readCloudFrontRequest(body: Buffer, root: string): Record<string, unknown> {
  const text = body.toString('utf8')
  if (text.trim() === '') throw new ApiError('MissingBody', 400, 'This request is missing a required body.')
  const document = readXml(text)
  if (document === undefined) throw new ApiError('MalformedInput', 400, 'Unexpected or malformed XML in the request body.')
  if (document.root !== root) throw new ApiError('MalformedInput', 400, `Unexpected root element ${document.root}; expected ${root}.`)
  return isNode(document.value) ? (document.value as Record<string, unknown>) : {}
}

export function createKeyValueStores(now: () => number) {
  const stores = new Map<string, StoredKeyValueStore>()
  /** Stores a function's association keeps from deletion. */
  let inUse: (arn: string) => boolean = () => false

  const byName = (name: string): StoredKeyValueStore => {
    const store = stores.get(name)
    if (store === undefined) throw new ApiError('EntityNotFound', 404, `The key value store ${name} does not exist.`)
    return store
  }
  const byArn = (arn: string): StoredKeyValueStore | undefined => [...stores.values()].find((store) => store.arn === arn)
  const sizeOf = (store: StoredKeyValueStore) =>
    [...store.items].reduce((total, [key, value]) => total + Buffer.byteLength(key) + Buffer.byteLength(value), 0)
  const present = (store: StoredKeyValueStore) => ({
    Name: store.name,
    Id: store.id,
    Comment: store.comment,
    ARN: store.arn,
    Status: 'READY',
    LastModifiedTime: toIso(store.modifiedAt),
  })

  function readComment(value: unknown): string {
    const comment = typeof value === 'string' ? value : ''
    if (comment.length > MAX_COMMENT_LENGTH) throw invalidArgument(`The parameter Comment is longer than ${MAX_COMMENT_LENGTH} characters.`)
    return comment
  }

  function create(request: EmulatorRequest): Reply {
    const body = readCloudFrontRequest(request.body, 'CreateKeyValueStoreRequest')
    const name = typeof body.Name === 'string' ? body.Name : ''
    if (!NAME_PATTERN.test(name)) throw invalidArgument(`The parameter Name has an invalid value: ${JSON.stringify(name)}.`)
    if (body.ImportSource !== undefined) throw invalidArgument('ImportSource (an S3 import) is not supported by the emulator.')
    if (stores.has(name)) throw new ApiError('EntityAlreadyExists', 409, `The key value store ${name} already exists.`)
    if (stores.size >= MAX_STORES) throw new ApiError('EntityLimitExceeded', 400, 'You have reached the maximum number of key value stores.')
    const id = randomUUID()
    const at = now()
    const store: StoredKeyValueStore = {
      id,
      name,
      arn: `arn:aws:cloudfront::${ACCOUNT_ID}:key-value-store/${id}`,
      comment: readComment(body.Comment),
      etag: newEtag(),
      dataEtag: newEtag(),
      createdAt: at,
      modifiedAt: at,
      items: new Map(),
    }
    stores.set(name, store)
    return cloudFrontXml(201, 'KeyValueStore', present(store), { ETag: store.etag, Location: `${PUBLIC_ENDPOINT}/key-value-store/${name}` })
  }

  function update(request: EmulatorRequest): Reply {
    const store = byName(request.params.Name ?? '')
    checkIfMatch(request, store)
    const body = readCloudFrontRequest(request.body, 'UpdateKeyValueStoreRequest')
    Object.assign(store, { comment: readComment(body.Comment), etag: newEtag(), modifiedAt: now() })
    return cloudFrontXml(200, 'KeyValueStore', present(store), { ETag: store.etag })
  }

  function remove(request: EmulatorRequest): Reply {
    const store = byName(request.params.Name ?? '')
    checkIfMatch(request, store)
    if (inUse(store.arn)) throw new ApiError('CannotDeleteEntityWhileInUse', 409, `The key value store ${store.name} is associated with a function.`)
    stores.delete(store.name)
    return { status: 204 }
  }

  function list(request: EmulatorRequest): Reply {
    const marker = request.query.get('Marker') ?? ''
    const rawMax = request.query.get('MaxItems') ?? '100'
    if (!/^[1-9]\d{0,3}$/.test(rawMax)) throw invalidArgument(`The parameter MaxItems has an invalid value: ${JSON.stringify(rawMax)}.`)
    const sorted = [...stores.values()].sort((a, b) => a.name.localeCompare(b.name)).filter((store) => store.name > marker)
    const page = sorted.slice(0, Number(rawMax))
    return cloudFrontXml(200, 'KeyValueStoreList', {
      ...(sorted.length > page.length && { NextMarker: page.at(-1)?.name }),
      MaxItems: Number(rawMax),
      Quantity: page.length,
      ...(page.length > 0 && { Items: { KeyValueStore: page.map(present) } }),
    })
  }

  const controlRoutes: Route[] = [
    { method: 'POST', pattern: '/key-value-store', operation: 'CreateKeyValueStore', handle: create },
    { method: 'GET', pattern: '/key-value-store', operation: 'ListKeyValueStores', handle: list },
    {
      method: 'GET',
      pattern: '/key-value-store/:Name',
      operation: 'DescribeKeyValueStore',
      handle: (request) => {
        const store = byName(request.params.Name ?? '')
        return cloudFrontXml(200, 'KeyValueStore', present(store), { ETag: store.etag })
      },
    },
    { method: 'PUT', pattern: '/key-value-store/:Name', operation: 'UpdateKeyValueStore', handle: update },
    { method: 'DELETE', pattern: '/key-value-store/:Name', operation: 'DeleteKeyValueStore', handle: remove },
  ]

  // The data plane.
  const json = (value: unknown, headers: Record<string, string> = {}): Reply => ({
    status: 200,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers },
    body: JSON.stringify(value),
  })
  const validation = (message: string) => new ApiError('ValidationException', 400, message)
  const findData = (request: EmulatorRequest): StoredKeyValueStore => {
    const store = byArn(request.params.KvsARN ?? '')
    if (store === undefined) throw new ApiError('ResourceNotFoundException', 404, 'The Key Value Store does not exist.')
    return store
  }
  const checkDataIfMatch = (request: EmulatorRequest, store: StoredKeyValueStore) => {
    const ifMatch = header(request, 'if-match') ?? ''
    if (ifMatch === '') throw validation('If-Match is required.')
    if (ifMatch !== store.dataEtag) throw new ApiError('ConflictException', 409, 'Pre-condition failed.')
  }
  const checkKey = (key: string) => {
    if (key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) throw validation(`A key is 1 to ${MAX_KEY_BYTES} bytes.`)
  }
  const checkValue = (value: unknown): string => {
    if (typeof value !== 'string' || Buffer.byteLength(value) > MAX_VALUE_BYTES) throw validation(`A value is a string of up to ${MAX_VALUE_BYTES} bytes.`)
    return value
  }
  const readJson = (request: EmulatorRequest): Record<string, unknown> => {
    try {
      const value: unknown = JSON.parse(request.body.toString('utf8') || '{}')
      if (isNode(value)) return value as Record<string, unknown>
    } catch {
      // answered below
    }
    throw new ApiError('SerializationException', 400, 'The request body is not a JSON object.')
  }
  /** Applies a write to a copy and commits it only within the size quota, with a new data ETag. */
  const write = (store: StoredKeyValueStore, change: (items: Map<string, string>) => void): Reply => {
    const items = new Map(store.items)
    change(items)
    const candidate = { ...store, items }
    if (sizeOf(candidate) > MAX_STORE_BYTES) throw new ApiError('ServiceQuotaExceededException', 402, 'The Key Value Store is over its size quota.')
    Object.assign(store, { items, dataEtag: newEtag(), modifiedAt: now() })
    return json({ ItemCount: items.size, TotalSizeInBytes: sizeOf(store) }, { ETag: store.dataEtag })
  }

  const dataRoutes: Route[] = [
    {
      method: 'GET',
      pattern: '/key-value-stores/:KvsARN',
      operation: 'DescribeKeyValueStore',
      handle: (request) => {
        const store = findData(request)
        return json(
          {
            ItemCount: store.items.size,
            TotalSizeInBytes: sizeOf(store),
            KvsARN: store.arn,
            Created: store.createdAt / 1000,
            LastModified: store.modifiedAt / 1000,
            Status: 'READY',
          },
          { ETag: store.dataEtag },
        )
      },
    },
    {
      method: 'GET',
      pattern: '/key-value-stores/:KvsARN/keys/:Key',
      operation: 'GetKey',
      handle: (request) => {
        const store = findData(request)
        const key = request.params.Key ?? ''
        const value = store.items.get(key)
        if (value === undefined) throw new ApiError('ResourceNotFoundException', 404, `The key ${key} does not exist.`)
        return json({ Key: key, Value: value, ItemCount: store.items.size, TotalSizeInBytes: sizeOf(store) })
      },
    },
    {
      method: 'GET',
      pattern: '/key-value-stores/:KvsARN/keys',
      operation: 'ListKeys',
      handle: (request) => {
        const store = findData(request)
        const rawMax = request.query.get('MaxResults') ?? String(MAX_LIST_RESULTS)
        if (!/^\d{1,2}$/.test(rawMax) || Number(rawMax) < 1 || Number(rawMax) > MAX_LIST_RESULTS) {
          throw validation(`MaxResults is 1 to ${MAX_LIST_RESULTS}.`)
        }
        const after = Buffer.from(request.query.get('NextToken') ?? '', 'base64url').toString('utf8')
        const keys = [...store.items.keys()].sort().filter((key) => key > after)
        const page = keys.slice(0, Number(rawMax))
        return json({
          Items: page.map((key) => ({ Key: key, Value: store.items.get(key) })),
          ...(keys.length > page.length && { NextToken: Buffer.from(page.at(-1) ?? '').toString('base64url') }),
        })
      },
    },
    {
      method: 'PUT',
      pattern: '/key-value-stores/:KvsARN/keys/:Key',
      operation: 'PutKey',
      handle: (request) => {
        const store = findData(request)
        checkDataIfMatch(request, store)
        const key = request.params.Key ?? ''
        checkKey(key)
        const value = checkValue(readJson(request).Value)
        return write(store, (items) => items.set(key, value))
      },
    },
    {
      method: 'DELETE',
      pattern: '/key-value-stores/:KvsARN/keys/:Key',
      operation: 'DeleteKey',
      handle: (request) => {
        const store = findData(request)
        checkDataIfMatch(request, store)
        const key = request.params.Key ?? ''
        if (!store.items.has(key)) throw new ApiError('ResourceNotFoundException', 404, `The key ${key} does not exist.`)
        return write(store, (items) => items.delete(key))
      },
    },
    {
      method: 'POST',
      pattern: '/key-value-stores/:KvsARN/keys',
      operation: 'UpdateKeys',
      handle: (request) => {
        const store = findData(request)
        checkDataIfMatch(request, store)
        const body = readJson(request)
        const puts = Array.isArray(body.Puts) ? body.Puts : []
        const deletes = Array.isArray(body.Deletes) ? body.Deletes : []
        const entries = puts.map((put: unknown) => {
          const item = isNode(put) ? (put as Record<string, unknown>) : {}
          const key = typeof item.Key === 'string' ? item.Key : ''
          checkKey(key)
          return [key, checkValue(item.Value)] as const
        })
        const removed = deletes.map((entry: unknown) => {
          const key = isNode(entry) && typeof (entry as Record<string, unknown>).Key === 'string' ? String((entry as Record<string, unknown>).Key) : ''
          checkKey(key)
          return key
        })
        return write(store, (items) => {
          for (const key of removed) items.delete(key)
          for (const [key, value] of entries) items.set(key, value)
        })
      },
    },
  ]

  const dataPlane: Service = {
    resolve: (method, path, query) => matchRoute(dataRoutes, method, path, query),
    requestIdHeaders: (requestId) => ({ 'x-amzn-RequestId': requestId }),
    unknownOperation: (method, path) => new ApiError('UnknownOperationException', 404, `No operation matches ${method} ${path}.`),
    renderError: (error) => ({
      status: error.status,
      headers: { 'Content-Type': JSON_CONTENT_TYPE, 'x-amzn-ErrorType': error.code },
      body: JSON.stringify({ __type: error.code, Message: error.message, message: error.message }),
    }),
  }

  return {
    controlRoutes,
    dataPlane,
    byArn,
    meta: (arn: string) => {
      const store = byArn(arn)
      return store === undefined ? {} : { creationDateTime: toIso(store.createdAt), lastUpdatedDateTime: toIso(store.modifiedAt), keyCount: store.items.size }
    },
    onInUse(check: (arn: string) => boolean): void {
      inUse = check
    },
    reset(): void {
      stores.clear()
    },
  }
}
