import { watch, type FSWatcher } from 'node:fs'
import type { Config } from '../config/schema.js'
import { CodedError } from '../http/errors.js'
import { fingerprintKeyDirectory, loadKeySet, type KeyLoadError, type KeySet, type KmsSigningKey, type SigningKey } from '../signing/keys.js'
import type { Metrics } from '../metrics/registry.js'

/** Watch events come in bursts (a Kubernetes swap is several renames): one reload after the burst. */
export const WATCH_DEBOUNCE_MS = 100

export interface RetiredKey {
  key: SigningKey
  retiredAtMs: number
}

export interface ReloadError {
  code: string
  /** Every failure of that reload, each starting with its file name. */
  message: string
  atMs: number
}

export interface KeySetDiff {
  added: string[]
  removed: string[]
  /** Same ID, different key material. */
  changed: string[]
}

export function diffKeySets(previous: ReadonlyMap<string, SigningKey>, next: ReadonlyMap<string, SigningKey>): KeySetDiff {
  return {
    added: [...next.keys()].filter((id) => !previous.has(id)),
    removed: [...previous.keys()].filter((id) => !next.has(id)),
    changed: [...next.values()].filter((key) => previous.has(key.id) && previous.get(key.id)!.fingerprint !== key.fingerprint).map((key) => key.id),
  }
}

/**
 * The keys kept for verification after they left the directory: the ones `removed` from the set in
 * use join, the ones back in `next` or older than `retentionMs` leave.
 */
export function retireKeys(
  retired: ReadonlyMap<string, RetiredKey>,
  removed: readonly SigningKey[],
  next: ReadonlyMap<string, SigningKey>,
  nowMs: number,
  retentionMs: number,
): Map<string, RetiredKey> {
  const kept = new Map([...retired].filter(([id, entry]) => !next.has(id) && nowMs - entry.retiredAtMs < retentionMs))
  if (retentionMs > 0) for (const key of removed) kept.set(key.id, { key, retiredAtMs: nowMs })
  return kept
}

/** Where reloads are reported: the app's logger, a child named for the keys. */
export interface KeyStoreLog {
  info(details: object, message: string): void
  warn(details: object, message: string): void
  error(details: object, message: string): void
}

export interface KeyStoreOptions {
  now: () => number
  log: KeyStoreLog
  metrics: Pick<Metrics, 'keyReloadFailures' | 'setLoadedKeys'>
  /** The keys.kms keys, described at start (src/keys/kms.ts); every reload of the directory keeps them. */
  kmsKeys?: ReadonlyMap<string, KmsSigningKey>
}

/**
 * The signing keys, reloaded when the directory changes. At start, any key that cannot serve stops
 * the start; on reload, a broken file is skipped and a set without a usable active key is refused
 * (the last good set stays), each failure reported to the log, the metrics and `status()`.
 */
export function createKeyStore(config: Config, { now, log, metrics, kmsKeys }: KeyStoreOptions) {
  const { dir, passphrase, activeKeyId: configuredActiveId, reloadIntervalSeconds, retiredKeyRetentionSeconds } = config.keys
  const retentionMs = retiredKeyRetentionSeconds * 1000
  const loadOptions = { passphrase, configuredActiveId, kmsKeys }

  // Without a directory (every key in KMS) there is nothing to watch: the fingerprint never moves.
  const fingerprintNow = () => (dir === undefined ? '' : fingerprintKeyDirectory(dir))
  let fingerprint = fingerprintNow()
  const initial = loadKeySet(dir, loadOptions)
  if (initial.set === undefined || initial.errors.length > 0) {
    throw new CodedError(initial.errors[0].code, `${dir === undefined ? 'keys' : 'keys.dir'}: ${initial.errors.map((e) => e.message).join('; ')}`)
  }
  // Replaced in one assignment, so a request sees either the old set or the new one, never a mix.
  let current: KeySet & { loadedAtMs: number } = { ...initial.set, loadedAtMs: now() }
  let retired = new Map<string, RetiredKey>()
  let lastReloadError: ReloadError | null = null
  metrics.setLoadedKeys([...current.keys.values()], current.active.id)

  function report(errors: KeyLoadError[], keptPrevious: boolean): void {
    for (const error of errors) {
      metrics.keyReloadFailures.inc({ reason: error.code })
      log.warn({ code: error.code, file: error.file, keptPreviousSet: keptPrevious }, `key reload: ${error.message}`)
    }
    const prefix = keptPrevious ? `kept the previous key set (active ${current.active.id}): ` : 'skipped: '
    lastReloadError = { code: errors[errors.length - 1].code, message: prefix + errors.map((e) => e.message).join('; '), atMs: now() }
  }

  /** Loads the whole directory and swaps it in, or keeps the set in use when it cannot serve. */
  function reload(): void {
    let result
    try {
      result = loadKeySet(dir, loadOptions)
    } catch (err) {
      metrics.keyReloadFailures.inc({ reason: 'KEY_RELOAD_FAILED' })
      log.error({ err }, 'key reload failed; the previous key set stays in use')
      lastReloadError = { code: 'KEY_RELOAD_FAILED', message: 'kept the previous key set: unexpected error (see the log)', atMs: now() }
      return
    }
    const { set, errors } = result
    if (set === undefined) return report(errors, true)

    const diff = diffKeySets(current.keys, set.keys)
    const nowMs = now()
    retired = retireKeys(retired, diff.removed.map((id) => current.keys.get(id)!), set.keys, nowMs, retentionMs)
    current = { ...set, loadedAtMs: nowMs }
    metrics.setLoadedKeys([...set.keys.values()], set.active.id)
    log.info({ activeKeyId: set.active.id, ...diff, retired: [...retired.keys()] }, 'keys reloaded')
    if (errors.length > 0) report(errors, false)
    else lastReloadError = null
  }

  /** Reloads when the directory's fingerprint moved since the last look. */
  function check(): void {
    const next = fingerprintNow()
    if (next === fingerprint) return
    // Taken before loading: a change during the load moves it again and is picked up next time.
    fingerprint = next
    reload()
  }

  let watcher: FSWatcher | undefined
  let debounce: NodeJS.Timeout | undefined
  let poll: NodeJS.Timeout | undefined

  return {
    /** The key that signs when the caller names none. */
    active: (): SigningKey => current.active,
    /** A key of the set in use, for signing; undefined when none. */
    get: (id: string): SigningKey | undefined => current.keys.get(id),
    /** A key whose public half can check signatures (the inspector): the set in use, then keys retired within the retention. */
    verificationKey(id: string): SigningKey | undefined {
      const entry = retired.get(id)
      return current.keys.get(id) ?? (entry !== undefined && now() - entry.retiredAtMs < retentionMs ? entry.key : undefined)
    },
    list: (): SigningKey[] => [...current.keys.values()],
    status: () => ({
      activeKeyId: current.active.id,
      loaded: current.keys.size,
      retired: [...retired.values()].filter((entry) => now() - entry.retiredAtMs < retentionMs).length,
      loadedAtMs: current.loadedAtMs,
      lastReloadError,
    }),
    check,
    /**
     * Starts noticing rotations: a directory watcher (events name `..data`, a timestamped folder or
     * nothing useful, so any event means "look again") and a periodic check in case events are lost.
     */
    watch(): void {
      if (dir === undefined) return
      const schedule = () => {
        clearTimeout(debounce)
        debounce = setTimeout(check, WATCH_DEBOUNCE_MS).unref()
      }
      try {
        watcher = watch(dir, { persistent: false }, schedule)
        watcher.on('error', (err) => {
          log.warn({ err }, 'keys directory watcher stopped; the periodic check continues')
          watcher?.close()
        })
      } catch (err) {
        log.warn({ err }, 'cannot watch the keys directory; relying on the periodic check')
      }
      poll = setInterval(check, reloadIntervalSeconds * 1000).unref()
    },
    close(): void {
      watcher?.close()
      clearTimeout(debounce)
      clearInterval(poll)
    },
  }
}

export type KeyStore = ReturnType<typeof createKeyStore>
