// Path-style S3, only what bucket access for CloudFront needs: buckets, objects (GetObject with its response-* overrides), bucket policies, object ACLs.
import { createHash, randomBytes } from 'node:crypto'
import { ApiError } from './errors.js'
import { header, type EmulatorRequest, type Reply, type Service } from './routing.js'
import {
  ACCOUNT_ID,
  type Bucket,
  type EmulatorState,
  type AclEntry,
  OWNER_CANONICAL_ID,
  OWNER_DISPLAY_NAME,
  type StoredObject,
  toIso,
} from './state.js'
import { buildXml, isNode, readXml } from './xml.js'

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/'
const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance'
const PERMISSIONS = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP']
const OBJECT_OWNERSHIPS = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']
const GROUP_URIS = [
  'http://acs.amazonaws.com/groups/global/AllUsers',
  'http://acs.amazonaws.com/groups/global/AuthenticatedUsers',
  'http://acs.amazonaws.com/groups/s3/LogDelivery',
]
const OAI_ARN_PREFIX = 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity '
/** Query parameters that select a different operation on the same path. */
const SUBRESOURCES = ['policy', 'acl', 'ownershipControls', 'list-type']

const OWNER_FULL_CONTROL: AclEntry = { grantee: { type: 'CanonicalUser', id: OWNER_CANONICAL_ID }, permission: 'FULL_CONTROL' }
const groupEntry = (uriIndex: number, permission: string): AclEntry => ({
  grantee: { type: 'Group', uri: GROUP_URIS[uriIndex] ?? '' },
  permission,
})
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
const CANNED_ACLS: Record<string, AclEntry[]> = {
  private: [OWNER_FULL_CONTROL],
  'public-read': [OWNER_FULL_CONTROL, groupEntry(0, 'READ')],
  'public-read-write': [OWNER_FULL_CONTROL, groupEntry(0, 'READ'), groupEntry(0, 'WRITE')],
  'authenticated-read': [OWNER_FULL_CONTROL, groupEntry(1, 'READ')],
  'bucket-owner-read': [OWNER_FULL_CONTROL],
  'bucket-owner-full-control': [OWNER_FULL_CONTROL],
}
const ACL_HEADERS: Record<string, string> = {
  'x-amz-grant-full-control': 'FULL_CONTROL',
  'x-amz-grant-read': 'READ',
  'x-amz-grant-read-acp': 'READ_ACP',
  'x-amz-grant-write': 'WRITE',
  'x-amz-grant-write-acp': 'WRITE_ACP',
}

interface S3Route {
  method: string
  scope: 'bucket' | 'object'
  subresource?: string
  operation: string
  handle(request: EmulatorRequest): Reply
}

export function createS3Service(state: EmulatorState): Service {
  const bucketOf = (request: EmulatorRequest): Bucket => {
    const name = request.params.Bucket ?? ''
    const bucket = state.buckets.get(name)
    if (bucket === undefined) throw new ApiError('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: name })
    return bucket
  }
  const objectOf = (request: EmulatorRequest): StoredObject => {
    const key = request.params.Key ?? ''
    const object = bucketOf(request).objects.get(key)
    if (object === undefined) throw new ApiError('NoSuchKey', 404, 'The specified key does not exist.', { Key: key })
    return object
  }
  const isKnownCanonicalUser = (id: string) =>
    id === OWNER_CANONICAL_ID || state.originAccessIdentities.values().some((oai) => oai.s3CanonicalUserId === id)

  function checkAcl(bucket: Bucket, entries: AclEntry[]): void {
    for (const { grantee, permission } of entries) {
      if (!PERMISSIONS.includes(permission)) throw malformedAcl()
      if (grantee.type === 'CanonicalUser' && !isKnownCanonicalUser(grantee.id)) {
        throw new ApiError('InvalidArgument', 400, 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: grantee.id })
      }
      if (grantee.type === 'Group' && !GROUP_URIS.includes(grantee.uri)) {
        throw new ApiError('InvalidArgument', 400, 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: grantee.uri })
      }
    }
    // Buckets default to BucketOwnerEnforced since April 2023: ACLs other than the owner's are refused.
    const ownerOnly = entries.length === 1 && entries[0]?.permission === 'FULL_CONTROL' && isOwner(entries[0])
    if (bucket.objectOwnership === 'BucketOwnerEnforced' && !ownerOnly) {
      throw new ApiError('AccessControlListNotSupported', 400, 'The bucket does not allow ACLs', { BucketName: bucket.name })
    }
  }

  const routes: S3Route[] = [
    {
      method: 'PUT',
      scope: 'bucket',
      operation: 'CreateBucket',
      handle(request) {
        const name = request.params.Bucket ?? ''
        if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
          throw new ApiError('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: name })
        }
        if (state.buckets.has(name)) {
          throw new ApiError('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name })
        }
        const objectOwnership = readObjectOwnership(header(request, 'x-amz-object-ownership') ?? 'BucketOwnerEnforced')
        state.buckets.set(name, { name, createdAt: state.now(), objectOwnership, objects: new Map() })
        return { status: 200, headers: { Location: `/${name}` } }
      },
    },
    {
      method: 'PUT',
      scope: 'bucket',
      subresource: 'ownershipControls',
      operation: 'PutBucketOwnershipControls',
      handle(request) {
        const bucket = bucketOf(request)
        const document = readXml(request.body.toString('utf8'))
        const rule = isNode(document?.value) ? document.value.Rule : undefined
        bucket.objectOwnership = readObjectOwnership(isNode(rule) ? String(rule.ObjectOwnership ?? '') : '')
        return { status: 200 }
      },
    },
    {
      method: 'GET',
      scope: 'bucket',
      subresource: 'ownershipControls',
      operation: 'GetBucketOwnershipControls',
      handle: (request) =>
        s3Xml('OwnershipControls', { Rule: { ObjectOwnership: bucketOf(request).objectOwnership } }),
    },
    {
      method: 'PUT',
      scope: 'bucket',
      subresource: 'policy',
      operation: 'PutBucketPolicy',
      handle(request) {
        const bucket = bucketOf(request)
        bucket.policy = normalizePolicy(request.body.toString('utf8'), bucket.name, state)
        return { status: 204 }
      },
    },
    {
      method: 'GET',
      scope: 'bucket',
      subresource: 'policy',
      operation: 'GetBucketPolicy',
      handle(request) {
        const bucket = bucketOf(request)
        if (bucket.policy === undefined) {
          throw new ApiError('NoSuchBucketPolicy', 404, 'The bucket policy does not exist', { BucketName: bucket.name })
        }
        return { status: 200, headers: { 'Content-Type': 'application/json' }, body: bucket.policy }
      },
    },
    {
      method: 'DELETE',
      scope: 'bucket',
      subresource: 'policy',
      operation: 'DeleteBucketPolicy',
      handle(request) {
        delete bucketOf(request).policy
        return { status: 204 }
      },
    },
    {
      method: 'GET',
      scope: 'bucket',
      subresource: 'list-type',
      operation: 'ListObjectsV2',
      handle: (request) => listObjects(bucketOf(request), request.query),
    },
    {
      method: 'PUT',
      scope: 'object',
      operation: 'PutObject',
      handle(request) {
        const bucket = bucketOf(request)
        const acl = readAclHeaders(request) ?? [OWNER_FULL_CONTROL]
        checkAcl(bucket, acl)
        const body = isAwsChunked(request) ? decodeAwsChunked(request.body) : request.body
        const etag = `"${createHash('md5').update(body).digest('hex')}"`
        const contentType = header(request, 'content-type') ?? 'binary/octet-stream'
        bucket.objects.set(request.params.Key ?? '', { body, etag, contentType, lastModified: state.now(), acl })
        return { status: 200, headers: { ETag: etag } }
      },
    },
    {
      method: 'GET',
      scope: 'object',
      operation: 'GetObject',
      handle(request) {
        const object = objectOf(request)
        const stored = { 'Content-Type': object.contentType, ETag: object.etag, 'Last-Modified': new Date(object.lastModified).toUTCString() }
        return { status: 200, headers: { ...stored, ...responseOverrides(request.query) }, body: object.body }
      },
    },
    {
      method: 'GET',
      scope: 'object',
      subresource: 'acl',
      operation: 'GetObjectAcl',
      handle: (request) =>
        s3Xml('AccessControlPolicy', {
          Owner: { ID: OWNER_CANONICAL_ID, DisplayName: OWNER_DISPLAY_NAME },
          AccessControlList: { Grant: objectOf(request).acl.map(renderAclEntry) },
        }),
    },
    {
      method: 'PUT',
      scope: 'object',
      subresource: 'acl',
      operation: 'PutObjectAcl',
      handle(request) {
        const object = objectOf(request)
        const fromHeaders = readAclHeaders(request)
        if (fromHeaders !== undefined && request.body.length > 0) {
          throw new ApiError('UnexpectedContent', 400, 'This request does not support content')
        }
        const entries = fromHeaders ?? readAclBody(request.body)
        checkAcl(bucketOf(request), entries)
        object.acl = entries
        return { status: 200 }
      },
    },
  ]

  return {
    resolve(method, path, query) {
      const [bucketSegment = '', ...keySegments] = path.slice(1).split('/')
      const key = keySegments.map(decodeURIComponent).join('/')
      if (bucketSegment === '') {
        const params: Record<string, string> = {}
        return method === 'GET' ? { name: 'ListBuckets', handle: (request) => listBuckets(state, request.query), params } : undefined
      }
      const scope = key === '' ? 'bucket' : 'object'
      const route = routes.find((candidate) =>
        candidate.method === method &&
        candidate.scope === scope &&
        (candidate.subresource === undefined
          ? SUBRESOURCES.every((name) => !query.has(name))
          : query.has(candidate.subresource)))
      if (route === undefined) return undefined
      return { name: route.operation, handle: route.handle, params: { Bucket: decodeURIComponent(bucketSegment), Key: key } }
    },
    unknownOperation: (method, path) => new ApiError('NotImplemented', 501, `The emulator does not implement ${method} ${path}.`),
    renderError: (error, requestId) => ({
      status: error.status,
      headers: { 'Content-Type': 'application/xml' },
      body: buildXml('Error', { Code: error.code, Message: error.message, ...error.details, RequestId: requestId }),
    }),
    requestIdHeaders: (requestId) => ({
      'x-amz-request-id': requestId,
      'x-amz-id-2': randomBytes(24).toString('base64'),
      'x-amzn-RequestId': requestId,
    }),
  }
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html: every bucket by name, on one page.
function listBuckets(state: EmulatorState, query: URLSearchParams): Reply {
  const prefix = query.get('prefix') ?? ''
  const buckets = [...state.buckets.values()].filter((bucket) => bucket.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name))
  return s3Xml('ListAllMyBucketsResult', {
    Owner: { ID: OWNER_CANONICAL_ID, DisplayName: OWNER_DISPLAY_NAME },
    Buckets: { Bucket: buckets.map((bucket) => ({ Name: bucket.name, CreationDate: toIso(bucket.createdAt) })) },
    ...(prefix !== '' && { Prefix: prefix }),
  })
}

// GetObject's response-* parameters replace the stored headers (signed URLs carry them for downloads).
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
  'response-content-language': 'Content-Language',
  'response-content-type': 'Content-Type',
  'response-expires': 'Expires',
}

function responseOverrides(query: URLSearchParams): Record<string, string> {
  return Object.fromEntries(Object.entries(RESPONSE_OVERRIDES).flatMap(([param, name]) => (query.has(param) ? [[name, query.get(param)!]] : [])))
}

function s3Xml(root: string, value: Record<string, unknown>): Reply {
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: buildXml(root, value, S3_NAMESPACE) }
}

function malformedAcl(): ApiError {
  return new ApiError('MalformedACLError', 400, 'The XML you provided was not well-formed or did not validate against our published schema')
}

function isOwner(entry: AclEntry): boolean {
  return entry.grantee.type === 'CanonicalUser' && entry.grantee.id === OWNER_CANONICAL_ID
}

function readObjectOwnership(value: string): string {
  if (!OBJECT_OWNERSHIPS.includes(value)) throw new ApiError('InvalidArgument', 400, `Invalid ObjectOwnership: ${value}`)
  return value
}

function renderAclEntry({ grantee, permission }: AclEntry): Record<string, unknown> {
  const identity = grantee.type === 'CanonicalUser'
    ? { ID: grantee.id, ...(grantee.id === OWNER_CANONICAL_ID && { DisplayName: OWNER_DISPLAY_NAME }) }
    : { URI: grantee.uri }
  return { Grantee: { '@xmlns:xsi': XSI_NAMESPACE, '@xsi:type': grantee.type, ...identity }, Permission: permission }
}

/** `x-amz-acl` or `x-amz-grant-*` headers; undefined when the request has neither. */
function readAclHeaders(request: EmulatorRequest): AclEntry[] | undefined {
  const canned = header(request, 'x-amz-acl')
  const entries = Object.entries(ACL_HEADERS).flatMap(([name, permission]) =>
    readGranteeList(header(request, name)).map((grantee) => ({ grantee, permission })))
  if (canned !== undefined && entries.length > 0) {
    throw new ApiError('InvalidRequest', 400, 'Specifying both Canned ACLs and Header Grants is not allowed')
  }
  if (canned === undefined) return entries.length > 0 ? entries : undefined
  const acl = CANNED_ACLS[canned]
  if (acl === undefined) throw new ApiError('InvalidArgument', 400, `Invalid canned ACL: ${canned}`)
  return acl
}

// `id="…", uri="…"`: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html
function readGranteeList(value: string | undefined): AclEntry['grantee'][] {
  if (value === undefined || value.trim() === '') return []
  return value.split(',').map((part) => {
    const match = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/.exec(part)
    if (match === null) throw new ApiError('InvalidArgument', 400, `Invalid grantee: ${part.trim()}`)
    const [, type, id = ''] = match
    if (type === 'emailAddress') throw new ApiError('UnresolvableGrantByEmailAddress', 400, 'The email address you provided does not match any account on record.')
    return type === 'id' ? { type: 'CanonicalUser', id } : { type: 'Group', uri: id }
  })
}

function readAclBody(body: Buffer): AclEntry[] {
  const document = readXml(body.toString('utf8'), ['AccessControlList'])
  if (document === undefined || document.root !== 'AccessControlPolicy' || !isNode(document.value)) throw malformedAcl()
  const list = document.value.AccessControlList
  const entries = isNode(list) && Array.isArray(list.Grant) ? list.Grant : []
  return entries.map((entry): AclEntry => {
    if (!isNode(entry) || !isNode(entry.Grantee)) throw malformedAcl()
    const { Grantee: grantee, Permission: permission } = entry
    const type = grantee['@type']
    const identity: AclEntry['grantee'] = type === 'CanonicalUser'
      ? { type, id: String(grantee.ID ?? '') }
      : type === 'Group' ? { type, uri: String(grantee.URI ?? '') } : unresolvable(String(type))
    return { grantee: identity, permission: String(permission ?? '') }
  })
}

function unresolvable(type: string): never {
  if (type === 'AmazonCustomerByEmail') {
    throw new ApiError('UnresolvableGrantByEmailAddress', 400, 'The email address you provided does not match any account on record.')
  }
  throw malformedAcl()
}

function listObjects(bucket: Bucket, query: URLSearchParams): Reply {
  const prefix = query.get('prefix') ?? ''
  const delimiter = query.get('delimiter') ?? ''
  const startAfter = query.get('start-after') ?? ''
  const token = query.get('continuation-token') ?? undefined
  const maxKeysText = query.get('max-keys') ?? '1000'
  if (!/^\d+$/.test(maxKeysText)) throw new ApiError('InvalidArgument', 400, 'Provided max-keys not an integer or within integer range')
  const maxKeys = Math.min(Number(maxKeysText), 1000)
  const after = token === undefined ? startAfter : Buffer.from(token, 'base64url').toString('utf8')
  // Keys under a common prefix that ended the previous page were already reported with it.
  const skipped = (key: string) => key <= after || (delimiter !== '' && after.endsWith(delimiter) && key.startsWith(after))
  const entries: Array<{ key: string; object?: StoredObject }> = []
  for (const key of [...bucket.objects.keys()].sort()) {
    if (!key.startsWith(prefix) || skipped(key)) continue
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length)
    const common = cut < 0 ? undefined : key.slice(0, cut + delimiter.length)
    if (common === undefined) entries.push({ key, object: bucket.objects.get(key) })
    else if (entries.at(-1)?.key !== common) entries.push({ key: common })
  }
  const page = entries.slice(0, maxKeys)
  const truncated = entries.length > page.length
  const encode = query.get('encoding-type') === 'url' ? (text: string) => encodeURIComponent(text).replace(/%2F/g, '/') : (text: string) => text
  return s3Xml('ListBucketResult', {
    Name: bucket.name,
    Prefix: encode(prefix),
    ...(delimiter !== '' && { Delimiter: encode(delimiter) }),
    MaxKeys: maxKeys,
    KeyCount: page.length,
    IsTruncated: truncated,
    ...(token !== undefined && { ContinuationToken: token }),
    ...(truncated && { NextContinuationToken: Buffer.from(page.at(-1)?.key ?? '').toString('base64url') }),
    ...(startAfter !== '' && { StartAfter: encode(startAfter) }),
    ...(query.has('encoding-type') && { EncodingType: query.get('encoding-type') }),
    Contents: page.flatMap(({ key, object }) => object === undefined ? [] : [{
      Key: encode(key),
      LastModified: toIso(object.lastModified),
      ETag: object.etag,
      Size: object.body.length,
      StorageClass: 'STANDARD',
    }]),
    CommonPrefixes: page.flatMap(({ key, object }) => object === undefined ? [{ Prefix: encode(key) }] : []),
  })
}

/**
 * Validates a bucket policy the way S3 does for what bucket access uses: JSON, Effect, resources inside the
 * bucket, and principals that exist. CanonicalUser principals come back in their ARN form.
 */
function normalizePolicy(text: string, bucketName: string, state: EmulatorState): string {
  const malformed = (message: string) => new ApiError('MalformedPolicy', 400, message)
  let policy: unknown
  try {
    policy = JSON.parse(text)
  } catch {
    throw malformed('Policies must be valid JSON and the first byte must be \'{\'')
  }
  if (!isRecord(policy) || policy.Statement === undefined) throw malformed('Missing required field Statement')
  const statements = [policy.Statement].flat()
  for (const statement of statements) {
    if (!isRecord(statement)) throw malformed('Statement must be an object')
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw malformed(`Invalid effect: ${String(statement.Effect)}`)
    const resources = [statement.Resource].flat()
    if (resources.some((resource) => typeof resource !== 'string' || !resource.startsWith(`arn:aws:s3:::${bucketName}`))) {
      throw malformed('Policy has invalid resource')
    }
    statement.Principal = normalizePrincipal(statement.Principal, state, () => malformed('Invalid principal in policy'))
  }
  return JSON.stringify(policy)
}

function normalizePrincipal(principal: unknown, state: EmulatorState, invalid: () => ApiError): unknown {
  if (principal === '*' || !isRecord(principal)) return principal
  const oais = state.originAccessIdentities.values()
  const canonicalToArn = (id: unknown) => {
    if (id === OWNER_CANONICAL_ID) return `arn:aws:iam::${ACCOUNT_ID}:root`
    const oai = oais.find((candidate) => candidate.s3CanonicalUserId === id)
    if (oai === undefined) throw invalid()
    return OAI_ARN_PREFIX + oai.id
  }
  const { CanonicalUser: canonical, ...rest } = principal
  const aws = [...[rest.AWS ?? []].flat(), ...[canonical ?? []].flat().map(canonicalToArn)]
  for (const arn of aws) {
    const isOaiArn = typeof arn === 'string' && arn.startsWith(OAI_ARN_PREFIX)
    if (isOaiArn && !oais.some((oai) => arn === OAI_ARN_PREFIX + oai.id)) throw invalid()
  }
  if (aws.length === 0) return rest
  return { ...rest, AWS: aws.length === 1 ? aws[0] : aws }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isAwsChunked(request: EmulatorRequest): boolean {
  return (header(request, 'content-encoding') ?? '').includes('aws-chunked') ||
    (header(request, 'x-amz-content-sha256') ?? '').startsWith('STREAMING-')
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html: `<hex size>[;ext]\r\n<data>\r\n`, then trailers.
function decodeAwsChunked(body: Buffer): Buffer {
  const chunks: Buffer[] = []
  let offset = 0
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset)
    if (lineEnd < 0) break
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16)
    if (!(size > 0)) break
    chunks.push(body.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
  return Buffer.concat(chunks)
}
