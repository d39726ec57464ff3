// Public keys and key groups: how a distribution trusts the service's signing keys.
import {
  CreateKeyGroupCommand,
  CreatePublicKeyCommand,
  GetKeyGroupCommand,
  ListKeyGroupsCommand,
  ListPublicKeysCommand,
  type KeyGroup,
  type PublicKey,
  type PublicKeySummary,
} from '@aws-sdk/client-cloudfront'
import { isDeepStrictEqual } from 'node:util'
import type { AwsAccount } from './accounts.js'
import { findByName, isoOf, pageOf, type Created, type Page, type PageRequest } from './cloudfront.js'
import { codeOf } from './errors.js'

export interface PublicKeyInput {
  name: string
  comment: string
  /** SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`). */
  encodedKey: string
}

export interface PublicKeyView {
  id: string
  name: string
  comment: string
  encodedKey: string
  createdTime?: string
  etag?: string
}

export interface KeyGroupInput {
  name: string
  publicKeyIds: string[]
  comment?: string
}

export interface KeyGroupView {
  id: string
  name: string
  comment: string
  publicKeyIds: string[]
  lastModifiedTime?: string
  etag?: string
}

function publicKeyView(key: PublicKey | PublicKeySummary, etag?: string): PublicKeyView {
  const config: Partial<PublicKeySummary> = 'PublicKeyConfig' in key ? (key.PublicKeyConfig ?? {}) : key
  return { id: key.Id ?? '', name: config.Name ?? '', comment: config.Comment ?? '', encodedKey: config.EncodedKey ?? '', createdTime: isoOf(key.CreatedTime), etag }
}

const samePem = (a: string, b: string) => a.replace(/\s+/g, '') === b.replace(/\s+/g, '')

export async function listPublicKeys(account: AwsAccount, page: PageRequest): Promise<Page<PublicKeyView>> {
  const output = await account.cloudFront.send(new ListPublicKeysCommand({ Marker: page.marker, MaxItems: page.maxItems }))
  return pageOf(output.PublicKeyList, (summary) => publicKeyView(summary))
}

/**
 * Registers a public key. A reused CallerReference (the caller's Idempotency-Key) is CloudFront's
 * 409 PublicKeyAlreadyExists; when the key of that name is this very key, the replay answers it.
 */
export async function createPublicKey(account: AwsAccount, input: PublicKeyInput, callerReference: string): Promise<Created<PublicKeyView>> {
  try {
    const output = await account.cloudFront.send(
      new CreatePublicKeyCommand({ PublicKeyConfig: { CallerReference: callerReference, Name: input.name, Comment: input.comment, EncodedKey: input.encodedKey } }),
    )
    return { resource: publicKeyView(output.PublicKey!, output.ETag), created: true }
  } catch (err) {
    if (codeOf(err) !== 'PublicKeyAlreadyExists') throw err
    const existing = await findByName((page) => listPublicKeys(account, page), input.name)
    if (existing === undefined || !samePem(existing.encodedKey, input.encodedKey) || existing.comment !== input.comment) throw err
    return { resource: existing, created: false }
  }
}

function keyGroupView(group: KeyGroup, etag?: string): KeyGroupView {
  const config = group.KeyGroupConfig
  return {
    id: group.Id ?? '',
    name: config?.Name ?? '',
    comment: config?.Comment ?? '',
    publicKeyIds: config?.Items ?? [],
    lastModifiedTime: isoOf(group.LastModifiedTime),
    etag,
  }
}

export async function getKeyGroup(account: AwsAccount, id: string): Promise<KeyGroupView> {
  const output = await account.cloudFront.send(new GetKeyGroupCommand({ Id: id }))
  return keyGroupView(output.KeyGroup!, output.ETag)
}

export async function listKeyGroups(account: AwsAccount, page: PageRequest): Promise<Page<KeyGroupView>> {
  const output = await account.cloudFront.send(new ListKeyGroupsCommand({ Marker: page.marker, MaxItems: page.maxItems }))
  return pageOf(output.KeyGroupList, (summary) => keyGroupView(summary.KeyGroup!))
}

/**
 * Creates a key group. Key groups have no CallerReference: their unique name identifies them, so a
 * `replay` (the caller sent an Idempotency-Key) that finds the same name with the same keys answers it.
 */
export async function createKeyGroup(account: AwsAccount, input: KeyGroupInput, replay: boolean): Promise<Created<KeyGroupView>> {
  const comment = input.comment ?? ''
  try {
    const output = await account.cloudFront.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: input.name, Items: input.publicKeyIds, Comment: comment } }))
    return { resource: keyGroupView(output.KeyGroup!, output.ETag), created: true }
  } catch (err) {
    if (!replay || codeOf(err) !== 'KeyGroupAlreadyExists') throw err
    const existing = await findByName((page) => listKeyGroups(account, page), input.name)
    const same = existing !== undefined && existing.comment === comment && isDeepStrictEqual([...existing.publicKeyIds].sort(), [...input.publicKeyIds].sort())
    if (!same) throw err
    return { resource: await getKeyGroup(account, existing.id), created: false }
  }
}
