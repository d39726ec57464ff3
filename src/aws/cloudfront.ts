// What every CloudFront resource shares: counted lists, ETag-versioned updates, CallerReference
// replays, paging and waiting for `Deployed`.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'
import { appError } from '../http/errors.js'
import { codeOf, isTransient } from './errors.js'

/** How many times an update re-reads the config when someone else changed it meanwhile. */
export const UPDATE_ATTEMPTS = 4

/** A CloudFront counted list; `Items` is left out when empty (CloudFront has refused `<Items/>`). */
export function quantified<T>(items: readonly T[]): { Quantity: number; Items?: T[] } {
  return items.length === 0 ? { Quantity: 0 } : { Quantity: items.length, Items: [...items] }
}

/** Trusted signers or key groups: enabled exactly when the list has members. */
export function trusted(items: readonly string[]): { Enabled: boolean; Quantity: number; Items?: string[] } {
  return { Enabled: items.length > 0, ...quantified(items) }
}

export function itemsOf<T>(list: { Items?: T[] } | undefined): T[] {
  return list?.Items ?? []
}

/** Drops every `Items: []` next to `Quantity: 0`, so a config read back can be sent again. */
export function withoutEmptyItems<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutEmptyItems) as T
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  const copy: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (key === 'Items' && Array.isArray(child) && child.length === 0) continue
    if (child !== undefined) copy[key] = withoutEmptyItems(child)
  }
  return copy as T
}

export function isoOf(date: Date | undefined): string | undefined {
  return date === undefined ? undefined : date.toISOString()
}

/** The CallerReference for a create: the caller's Idempotency-Key as is, or a fresh random one. */
export function callerReferenceFor(idempotencyKey: string | undefined): string {
  return idempotencyKey ?? randomUUID()
}

const OAI_PREFIX = 'origin-access-identity/cloudfront/'

/** The OAI form CloudFront stores in origins; accepts an ID or the full path. */
export function originAccessIdentityPath(idOrPath: string): string {
  if (idOrPath === '' || idOrPath.startsWith(OAI_PREFIX)) return idOrPath
  return `${OAI_PREFIX}${idOrPath}`
}

export function originAccessIdentityId(path: string | undefined): string {
  return (path ?? '').replace(OAI_PREFIX, '')
}

/** A create's answer: the resource, and whether this call created it (false: an idempotent replay). */
export interface Created<R> {
  resource: R
  created: boolean
}

/**
 * CloudFront refuses a reused CallerReference, even for the same config, naming the resource it
 * already made (`… Already exists: E2QWRUHAPOMQZL`). The replay answers that resource when its
 * config is the one asked for; anything else keeps CloudFront's 409.
 */
export async function replayExisting<R>(err: unknown, alreadyExistsCode: string, fetch: (id: string) => Promise<R>, same: (existing: R) => boolean): Promise<Created<R>> {
  const id = codeOf(err) === alreadyExistsCode ? /already exists:?\s*([A-Za-z0-9]+)\W*$/i.exec((err as Error).message)?.[1] : undefined
  if (id === undefined) throw err
  const existing = await fetch(id)
  if (!same(existing)) throw err
  return { resource: existing, created: false }
}

/** A resource updated by CloudFront's GetConfig → edit → Update(If-Match) cycle. */
export interface Versioned<C, R> {
  getConfig(): Promise<{ config: C; etag: string }>
  put(config: C, ifMatch: string): Promise<R>
  get(): Promise<R>
}

/**
 * Applies a change to the current config and sends it with the ETag it was read with. When someone
 * else changed the resource meanwhile (PreconditionFailed), reads again and retries a bounded number
 * of times; a caller-given If-Match is a precondition of its own, tried once. A change that changes
 * nothing is not sent (it would put the distribution back to InProgress).
 */
export async function updateMerging<C, R>(resource: Versioned<C, R>, apply: (config: C) => C, ifMatch?: string): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const { config, etag } = await resource.getConfig()
    const next = withoutEmptyItems(apply(structuredClone(config)))
    if (isDeepStrictEqual(next, withoutEmptyItems(config)) && (ifMatch === undefined || ifMatch === etag)) return resource.get()
    try {
      return await resource.put(next, ifMatch ?? etag)
    } catch (err) {
      if (ifMatch !== undefined || codeOf(err) !== 'PreconditionFailed' || attempt >= UPDATE_ATTEMPTS) throw err
    }
  }
}

export interface WaitOptions {
  timeoutMs: number
  firstDelayMs: number
  maxDelayMs: number
  /** Called after every poll (progress for long waits). */
  onPoll?: (status: string, elapsedMs: number) => void
  signal?: AbortSignal
}

/**
 * Polls until `status` is `Deployed`, backing off from the first delay to the last (doubling), never
 * past the deadline. Throttling and upstream hiccups are polled through; other errors end the wait.
 * Time here is the process's monotonic clock: a wait is real time, whatever clock the app signs with.
 */
export async function waitUntilDeployed<R extends { status: string }>(get: () => Promise<R>, options: WaitOptions): Promise<R> {
  const started = performance.now()
  const deadline = started + options.timeoutMs
  let delayMs = options.firstDelayMs
  let lastStatus = 'unknown'
  for (;;) {
    try {
      const resource = await get()
      lastStatus = resource.status
      options.onPoll?.(lastStatus, performance.now() - started)
      if (resource.status === 'Deployed') return resource
    } catch (err) {
      if (!isTransient(err)) throw err
    }
    const left = deadline - performance.now()
    if (left <= 0 || options.signal?.aborted) {
      throw appError('WAIT_TIMEOUT', `still ${lastStatus} after ${Math.round(options.timeoutMs / 1000)} s`, { lastStatus })
    }
    await sleep(Math.min(delayMs, left), undefined, { signal: options.signal }).catch(() => undefined)
    delayMs = Math.min(delayMs * 2, options.maxDelayMs)
  }
}

/** A page of a CloudFront list, the marker for the next page only when there is one. */
export interface Page<T> {
  items: T[]
  nextMarker?: string
}

export interface PageRequest {
  marker?: string
  maxItems?: number
}

export function pageOf<S, T>(list: { Items?: S[]; NextMarker?: string; IsTruncated?: boolean } | undefined, view: (item: S) => T): Page<T> {
  const nextMarker = list?.NextMarker
  return { items: itemsOf(list).map(view), ...(nextMarker !== undefined && nextMarker !== '' && list?.IsTruncated !== false && { nextMarker }) }
}

/** Looks a resource up by its unique name, page by page. */
export async function findByName<T extends { name: string }>(list: (page: PageRequest) => Promise<Page<T>>, name: string): Promise<T | undefined> {
  let marker: string | undefined
  do {
    const page = await list({ marker })
    const found = page.items.find((item) => item.name === name)
    if (found !== undefined) return found
    marker = page.nextMarker
  } while (marker !== undefined)
  return undefined
}
