// CloudFront wire conventions shared by every handler: XML replies, If-Match, Marker/MaxItems paging.
import { ApiError, invalidArgument } from './errors.js'
import { header, type EmulatorRequest, type Reply } from './routing.js'
import { buildCloudFrontXml } from './xml.js'
import type { XmlNode } from './xml-node.js'

export const API_PREFIX = '/2020-05-31'
/** Location headers always name the real endpoint, whatever host the request came to. */
export const PUBLIC_ENDPOINT = `https://cloudfront.amazonaws.com${API_PREFIX}`
const DEFAULT_MAX_ITEMS = 100

export function xmlReply(status: number, root: string, node: XmlNode, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'text/xml', ...headers }, body: buildCloudFrontXml(root, node) }
}

/** Update and Delete: the caller must prove it saw the current version. */
export function checkIfMatch(request: EmulatorRequest, current: { etag: string }): void {
  const ifMatch = header(request, 'if-match')?.trim() ?? ''
  if (ifMatch === '') {
    throw new ApiError('InvalidIfMatchVersion', 400, 'The If-Match version is missing or not valid for the resource.')
  }
  if (ifMatch !== current.etag) {
    throw new ApiError('PreconditionFailed', 412, 'The precondition given in one or more of the request-header fields evaluated to false.')
  }
}

export interface Paging {
  marker: string
  maxItems: number
}

export function readPaging(query: URLSearchParams): Paging {
  const raw = query.get('MaxItems') ?? ''
  if (raw !== '' && !/^[1-9]\d{0,8}$/.test(raw)) throw invalidArgument(`The parameter MaxItems has an invalid value: ${JSON.stringify(raw)}.`)
  return { marker: query.get('Marker') ?? '', maxItems: raw === '' ? DEFAULT_MAX_ITEMS : Number(raw) }
}

/**
 * One page of a list. `items` are those after the marker (undefined when the marker is unknown).
 * The reduced shape (PublicKeyList, KeyGroupList) has no Marker and no IsTruncated.
 */
export function buildPage<T extends { id: string }>(
  items: T[] | undefined,
  paging: Paging,
  summarize: (item: T) => XmlNode,
  reduced = false,
): XmlNode {
  if (items === undefined) throw invalidArgument(`The parameter Marker has an invalid value: ${JSON.stringify(paging.marker)}.`)
  const page = items.slice(0, paging.maxItems)
  const truncated = items.length > page.length
  return {
    ...(!reduced && { Marker: paging.marker }),
    ...(truncated && { NextMarker: page.at(-1)?.id }),
    MaxItems: paging.maxItems,
    ...(!reduced && { IsTruncated: truncated }),
    Quantity: page.length,
    Items: page.map(summarize),
  }
}
