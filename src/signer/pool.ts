import { Worker } from 'node:worker_threads'
import type { HashAlgorithm } from '../signing/policy.js'
import type { FileSigningKey } from '../signing/keys.js'
import type { SignJob, SignResult } from './worker.js'

// Compiled, the worker is a .js file beside this one. Under tsx (development, tests) it is TypeScript,
// and a worker does not share its parent's module hooks: the worker registers tsx, then loads it.
const RUNNING_TYPESCRIPT = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(RUNNING_TYPESCRIPT ? './worker.ts' : './worker.js', import.meta.url)

function startWorker(): Worker {
  if (!RUNNING_TYPESCRIPT) return new Worker(WORKER_URL)
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(bootstrap, { eval: true })
}

interface Pending {
  resolve: (signature: string) => void
  reject: (err: Error) => void
}

interface PoolWorker {
  worker: Worker
  pending: Map<number, Pending>
  /** Jobs posted together after the I/O at hand (setImmediate): one message per loop turn or batch, not per job. */
  outbox: SignJob[]
}

/**
 * A pool of signing workers, started on the first signature. Each job carries its KeyObject (posting one
 * clones a handle, not the key), so workers never hold a key between jobs.
 */
export function createWorkerPool(size: number) {
  let nextId = 0
  let closed = false
  const workers: PoolWorker[] = []

  function spawn(): PoolWorker {
    const entry: PoolWorker = { worker: startWorker(), pending: new Map(), outbox: [] }
    entry.worker.on('message', (results: SignResult[]) => {
      for (const result of results) {
        const job = entry.pending.get(result.id)
        if (job === undefined) continue
        entry.pending.delete(result.id)
        if ('signature' in result) job.resolve(result.signature)
        else job.reject(new Error(`signing failed in a worker: ${result.error}`))
      }
      // An idle worker must not keep the process alive; a busy one must (its caller awaits it).
      if (entry.pending.size === 0) entry.worker.unref()
    })
    // A crashed worker fails its own jobs and is replaced once ('error' is followed by 'exit').
    const fail = (err: Error) => {
      for (const job of entry.pending.values()) job.reject(err)
      entry.pending.clear()
      const index = workers.indexOf(entry)
      if (!closed && index !== -1) workers[index] = spawn()
    }
    entry.worker.on('error', fail)
    entry.worker.on('exit', (code) => fail(new Error(`signing worker exited with code ${code}`)))
    entry.worker.unref()
    return entry
  }

  function flush(entry: PoolWorker) {
    const jobs = entry.outbox
    entry.outbox = []
    entry.worker.postMessage(jobs)
  }

  return {
    sign(policyJson: string, key: FileSigningKey, hashAlgorithm: HashAlgorithm): Promise<string> {
      if (closed) return Promise.reject(new Error('the signing pool is closed'))
      // Started on first use: an app that never signs (most tests, admin-only use) never pays for them.
      while (workers.length < size) workers.push(spawn())
      let entry = workers[0]
      for (const candidate of workers) if (candidate.pending.size < entry.pending.size) entry = candidate
      const id = nextId++
      return new Promise<string>((resolve, reject) => {
        if (entry.pending.size === 0) entry.worker.ref()
        entry.pending.set(id, { resolve, reject })
        entry.outbox.push({ id, policyJson, hashAlgorithm, keyId: key.id, privateKey: key.privateKey })
        if (entry.outbox.length === 1) setImmediate(() => flush(entry))
      })
    },
    async close(): Promise<void> {
      closed = true
      await Promise.all(workers.map((entry) => entry.worker.terminate()))
    },
  }
}
