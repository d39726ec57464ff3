// In-memory state shared by the CloudFront and S3 halves, plus the emulator's own clock.
import { randomBytes, randomInt } from 'node:crypto'
import { createKmsStore, type KmsSnapshot } from './kms.js'
import type { XmlNode, XmlValue } from './xml-node.js'

export const ACCOUNT_ID = '123456789012'
/** Canonical user id of the account that owns every bucket and object. */
export const OWNER_CANONICAL_ID = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'
export const OWNER_DISPLAY_NAME = 'emulator'

export interface StoredResource {
  id: string
  etag: string
  config: XmlNode
  createdAt: number
  modifiedAt: number
  tags?: XmlValue[]
  domainName?: string
  s3CanonicalUserId?: string
}

export interface StoredInvalidation {
  id: string
  distributionId: string
  batch: XmlNode
  createdAt: number
}

export interface AclEntry {
  grantee: { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string }
  permission: string
}

export interface StoredObject {
  body: Buffer
  etag: string
  contentType: string
  lastModified: number
  acl: AclEntry[]
}

export interface Bucket {
  name: string
  createdAt: number
  objectOwnership: string
  policy?: string
  objects: Map<string, StoredObject>
}

export interface CollectionSnapshot<T> {
  items: T[]
  /** Every Id ever issued, deleted ones included, so page markers stay valid. */
  issued: string[]
}

/** Items in creation order; remembers every Id it issued so a page marker survives a delete. */
export class Collection<T extends { id: string }> {
  private readonly items = new Map<string, T>()
  private readonly issued: string[] = []

  get(id: string): T | undefined {
    return this.items.get(id)
  }

  add(item: T): void {
    this.items.set(item.id, item)
    this.issued.push(item.id)
  }

  delete(id: string): void {
    this.items.delete(id)
  }

  values(): T[] {
    return [...this.items.values()]
  }

  /** Everything the collection holds, plain enough for JSON. */
  snapshot(): CollectionSnapshot<T> {
    return { items: this.values(), issued: [...this.issued] }
  }

  static restore<T extends { id: string }>(snapshot: CollectionSnapshot<T>): Collection<T> {
    const collection = new Collection<T>()
    for (const item of snapshot.items) collection.items.set(item.id, item)
    collection.issued.push(...snapshot.issued)
    return collection
  }

  /** Items created after `marker`; undefined when the marker was never issued. */
  after(marker: string): T[] | undefined {
    if (marker === '') return this.values()
    const index = this.issued.indexOf(marker)
    if (index < 0) return undefined
    return this.issued.slice(index + 1).flatMap((id) => this.items.get(id) ?? [])
  }
}

function createStores() {
  return {
    distributions: new Collection<StoredResource>(),
    streamingDistributions: new Collection<StoredResource>(),
    originAccessIdentities: new Collection<StoredResource>(),
    originAccessControls: new Collection<StoredResource>(),
    publicKeys: new Collection<StoredResource>(),
    keyGroups: new Collection<StoredResource>(),
    invalidations: new Collection<StoredInvalidation>(),
    buckets: new Map<string, Bucket>(),
    kms: createKmsStore(),
  }
}

export interface StateOptions {
  deploySeconds: number
  invalidationSeconds: number
  rtmpMode: 'full' | 'post-2020'
  now: () => number
}

type Stores = ReturnType<typeof createStores>
type CollectionName = { [K in keyof Stores]: Stores[K] extends Collection<infer _T> ? K : never }[keyof Stores]
/** The collections a snapshot carries, by their name in the state. */
export const COLLECTION_NAMES = [
  'distributions',
  'streamingDistributions',
  'originAccessIdentities',
  'originAccessControls',
  'publicKeys',
  'keyGroups',
  'invalidations',
] as const satisfies readonly CollectionName[]

interface StoredObjectSnapshot extends Omit<StoredObject, 'body'> {
  key: string
  /** The object's bytes, base64. */
  body: string
}

/** The emulator's whole world as JSON: what a state file holds (faults and options are not part of it). */
export type StateSnapshot = {
  clockOffsetMs: number
  buckets: Array<Omit<Bucket, 'objects'> & { objects: StoredObjectSnapshot[] }>
  /** Absent in files written before the emulator had KMS. */
  kms?: KmsSnapshot
} & { [K in (typeof COLLECTION_NAMES)[number]]: ReturnType<Stores[K]['snapshot']> }

export type EmulatorState = Stores & {
  readonly options: StateOptions
  /** Milliseconds since the epoch on the emulator's clock. */
  now(): number
  advanceClock(seconds: number): void
  reset(): void
  snapshot(): StateSnapshot
  /** Replaces the whole world with a snapshot's (which it trusts: check its shape first). */
  restore(snapshot: StateSnapshot): void
}

export function createState(options: StateOptions): EmulatorState {
  let offsetMs = 0
  const state: EmulatorState = {
    ...createStores(),
    options,
    now: () => options.now() + offsetMs,
    advanceClock(seconds) {
      offsetMs += seconds * 1000
    },
    reset() {
      Object.assign(state, createStores())
      offsetMs = 0
    },
    snapshot() {
      const collections = Object.fromEntries(COLLECTION_NAMES.map((name) => [name, state[name].snapshot()]))
      const buckets = [...state.buckets.values()].map((bucket) => ({
        ...bucket,
        objects: [...bucket.objects].map(([key, object]) => ({ ...object, key, body: object.body.toString('base64') })),
      }))
      return { clockOffsetMs: offsetMs, buckets, kms: state.kms.snapshot(), ...collections } as StateSnapshot
    },
    restore(snapshot) {
      const collections = Object.fromEntries(COLLECTION_NAMES.map((name) => [name, Collection.restore(snapshot[name] as CollectionSnapshot<never>)]))
      const buckets = new Map(snapshot.buckets.map((bucket): [string, Bucket] => [bucket.name, {
        ...bucket,
        objects: new Map(bucket.objects.map(({ key, body, ...object }) => [key, { ...object, body: Buffer.from(body, 'base64') }])),
      }]))
      Object.assign(state, { ...collections, buckets, kms: createKmsStore(snapshot.kms) })
      offsetMs = snapshot.clockOffsetMs
    },
  }
  return state
}

const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789'

function randomToken(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('')
}

/** Ids look like AWS's: `EDFDVBD632BHDS5`, `IDFDVBD632BHDS5`, `K36X4X2EO997HM`. */
export function newId(prefix: 'E' | 'I' | 'K'): string {
  return prefix + randomToken(UPPER_ALPHANUMERIC, 13)
}

export function newEtag(): string {
  return 'E' + randomToken(UPPER_ALPHANUMERIC, 13)
}

export function newDomainName(prefix: 'd' | 's'): string {
  return `${prefix}${randomToken(LOWER_ALPHANUMERIC, 13)}.cloudfront.net`
}

export function newCanonicalUserId(): string {
  return randomBytes(32).toString('hex')
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString()
}
