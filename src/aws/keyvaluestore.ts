// CloudFront KeyValueStore: the store (CloudFront's control plane) and its keys (the data plane, by store ARN,
// every write carrying the store's ETag). The edge layer keeps its HMAC keys and revocations here.
import {
  CreateKeyValueStoreCommand,
  DeleteKeyValueStoreCommand,
  DescribeKeyValueStoreCommand as DescribeStoreCommand,
} from '@aws-sdk/client-cloudfront'
import {
  DescribeKeyValueStoreCommand,
  GetKeyCommand,
  ListKeysCommand,
  UpdateKeysCommand,
} from '@aws-sdk/client-cloudfront-keyvaluestore'
import { appError } from '../http/errors.js'
import type { AwsAccount } from './accounts.js'
import { codeOf } from './errors.js'

/** https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-kvs */
export const KVS_MAX_KEY_BYTES = 512
export const KVS_MAX_VALUE_BYTES = 1024
export const KVS_MAX_STORE_BYTES = 5 * 1024 * 1024
/** UpdateKeys takes at most 50 puts and deletes together. */
export const KVS_MAX_BATCH = 50
/** A store is read a page at a time; this bounds what one listing may read (the store's whole 5 MB at ~1.5 KB an entry). */
const MAX_LIST_PAGES = 200
/** How many times a write re-reads the ETag when another writer changed the store meanwhile. */
const WRITE_ATTEMPTS = 5

export interface KeyValueStore {
  name: string
  id: string
  arn: string
  /** The control plane's ETag (UpdateKeyValueStore/DeleteKeyValueStore). */
  etag: string
  status: string
}

export interface KvsEntry {
  key: string
  value: string
}

/** The store named `name`, or undefined when there is none. */
export async function findKeyValueStore(account: AwsAccount, name: string): Promise<KeyValueStore | undefined> {
  try {
    const out = await account.cloudFront.send(new DescribeStoreCommand({ Name: name }))
    return storeView(out.KeyValueStore, out.ETag)
  } catch (err) {
    if (codeOf(err) === 'EntityNotFound') return undefined
    throw err
  }
}

/** The store named `name`, created when missing; `created` says which. */
export async function ensureKeyValueStore(account: AwsAccount, name: string, comment: string): Promise<{ store: KeyValueStore; created: boolean }> {
  const existing = await findKeyValueStore(account, name)
  if (existing !== undefined) return { store: existing, created: false }
  try {
    const out = await account.cloudFront.send(new CreateKeyValueStoreCommand({ Name: name, Comment: comment }))
    return { store: storeView(out.KeyValueStore, out.ETag), created: true }
  } catch (err) {
    // Another replica created it between the two calls.
    if (codeOf(err) !== 'EntityAlreadyExists') throw err
    const store = await findKeyValueStore(account, name)
    if (store === undefined) throw err
    return { store, created: false }
  }
}

/** Deletes the store; false when there was none. CloudFront refuses while a function is associated with it. */
export async function deleteKeyValueStore(account: AwsAccount, name: string): Promise<boolean> {
  const store = await findKeyValueStore(account, name)
  if (store === undefined) return false
  try {
    await account.cloudFront.send(new DeleteKeyValueStoreCommand({ Name: name, IfMatch: store.etag }))
    return true
  } catch (err) {
    if (codeOf(err) === 'EntityNotFound') return false
    throw err
  }
}

function storeView(store: { Name?: string; Id?: string; ARN?: string; Status?: string } | undefined, etag: string | undefined): KeyValueStore {
  if (store?.ARN === undefined) throw appError('UPSTREAM_ERROR', 'CloudFront answered a key value store without an ARN')
  return { name: store.Name ?? '', id: store.Id ?? '', arn: store.ARN, etag: etag ?? '', status: store.Status ?? 'UNKNOWN' }
}

/** Every key of the store (under `prefix` when given), page by page, at most MAX_LIST_PAGES pages. */
export async function listKvsKeys(account: AwsAccount, arn: string, prefix = ''): Promise<KvsEntry[]> {
  const entries: KvsEntry[] = []
  let nextToken: string | undefined
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const out = await account.keyValueStore.send(new ListKeysCommand({ KvsARN: arn, NextToken: nextToken, MaxResults: 50 }))
    for (const item of out.Items ?? []) {
      if (item.Key !== undefined && item.Key.startsWith(prefix)) entries.push({ key: item.Key, value: item.Value ?? '' })
    }
    nextToken = out.NextToken
    if (nextToken === undefined || nextToken === '') return entries
  }
  throw appError('UPSTREAM_ERROR', `the key value store has more than ${MAX_LIST_PAGES} pages of keys`)
}

/** One key's value, or undefined when the store has no such key. */
export async function getKvsKey(account: AwsAccount, arn: string, key: string): Promise<string | undefined> {
  try {
    const out = await account.keyValueStore.send(new GetKeyCommand({ KvsARN: arn, Key: key }))
    return out.Value
  } catch (err) {
    if (codeOf(err) === 'ResourceNotFoundException') return undefined
    throw err
  }
}

/**
 * Writes puts and deletes in batches of KVS_MAX_BATCH, each with the store's current ETag; when another
 * writer changed the store meanwhile (409), re-reads the ETag and tries again, a bounded number of times.
 * Callers delete keys they have just listed; when one is gone by the time of the write (another replica
 * swept it), the batch's deletes are narrowed to the keys still there and it is sent again. Every put and
 * delete is idempotent, so a write that fails half-way is finished by sending it again.
 */
export async function updateKvsKeys(account: AwsAccount, arn: string, change: { puts?: readonly KvsEntry[]; deletes?: readonly string[] }): Promise<void> {
  const puts = [...(change.puts ?? [])]
  const deletes = [...(change.deletes ?? [])]
  for (const entry of puts) checkEntry(entry)
  while (puts.length > 0 || deletes.length > 0) {
    const batchPuts = puts.splice(0, KVS_MAX_BATCH)
    let batchDeletes = deletes.splice(0, KVS_MAX_BATCH - batchPuts.length)
    for (let attempt = 1; ; attempt++) {
      const { ETag } = await account.keyValueStore.send(new DescribeKeyValueStoreCommand({ KvsARN: arn }))
      try {
        await account.keyValueStore.send(
          new UpdateKeysCommand({
            KvsARN: arn,
            IfMatch: ETag,
            ...(batchPuts.length > 0 && { Puts: batchPuts.map((entry) => ({ Key: entry.key, Value: entry.value })) }),
            ...(batchDeletes.length > 0 && { Deletes: batchDeletes.map((key) => ({ Key: key })) }),
          }),
        )
        break
      } catch (err) {
        const code = codeOf(err)
        if (attempt >= WRITE_ATTEMPTS || (code !== 'ConflictException' && !(code === 'ResourceNotFoundException' && batchDeletes.length > 0))) throw err
        if (code === 'ResourceNotFoundException') {
          // The store itself is gone when this listing fails too: that error is the answer.
          const present = new Set((await listKvsKeys(account, arn)).map((entry) => entry.key))
          batchDeletes = batchDeletes.filter((key) => present.has(key))
          if (batchPuts.length === 0 && batchDeletes.length === 0) break
        }
      }
    }
  }
}

function checkEntry(entry: KvsEntry): void {
  if (Buffer.byteLength(entry.key) > KVS_MAX_KEY_BYTES || Buffer.byteLength(entry.value) > KVS_MAX_VALUE_BYTES) {
    throw appError('VALIDATION_ERROR', `a key value store entry is at most ${KVS_MAX_KEY_BYTES} bytes of key and ${KVS_MAX_VALUE_BYTES} of value`)
  }
}
