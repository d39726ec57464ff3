// Runs CloudFront Function code the way TestFunction does: a fresh vm context with no require, process, fetch or
// timers, the `cloudfront` (KeyValueStore) and `crypto` modules the runtime offers, and a time budget that includes
// the handler's promises. A development tool, not a sandbox against hostile code: the code is the developer's own.
// The vm runs in a worker thread the caller waits on synchronously: stopping a run over its budget inside a promise
// job aborts a process that has async hooks on (node --test does), and a worker's thread has none.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'

/** Milliseconds a run may take before it fails as CloudFront fails a function over its compute budget. */
export const FUNCTION_TIME_BUDGET_MS = 100
/** How long the caller waits beyond the budget for the worker (its first start included) before giving up on it. */
const WORKER_GRACE_MS = 10_000

export interface FunctionRun {
  /** The handler's answer (request or response), JSON-ready; undefined when it failed. */
  output?: unknown
  error?: string
  logs: string[]
  elapsedMs: number
}

export interface FunctionRunOptions {
  timeoutMs?: number
  /** What `kvs.meta()` answers. */
  meta?: unknown
}

// Built inside the context so its promises and errors belong to the function's realm and settle within the budget.
const BOOTSTRAP = String.raw`
var __modules = (function (host) {
  var logs = [];
  globalThis.console = { log: function () { logs.push(Array.prototype.map.call(arguments, String).join(' ')); } };
  function missing(key) { var e = new Error('The key ' + key + ' is not in the KeyValueStore'); e.name = 'KeyNotFound'; return e; }
  function store() {
    return {
      get: function (key, options) {
        var value = host.lookup(String(key));
        if (value === undefined) return Promise.reject(missing(key));
        if (options && options.format === 'json') { try { return Promise.resolve(JSON.parse(value)); } catch (e) { return Promise.reject(e); } }
        return Promise.resolve(value);
      },
      exists: function (key) { return Promise.resolve(host.lookup(String(key)) !== undefined); },
      meta: function () { return Promise.resolve(JSON.parse(host.meta)); }
    };
  }
  function mac(kind, algorithm, key) {
    var data = '';
    var self = {
      update: function (chunk) { data += String(chunk); return self; },
      digest: function (encoding) { return host.digest(kind, algorithm, key, data, encoding); }
    };
    return self;
  }
  return {
    logs: logs,
    cloudfront: { kvs: function () { return store(); } },
    crypto: {
      createHash: function (algorithm) { return mac('hash', String(algorithm), ''); },
      createHmac: function (algorithm, key) { return mac('hmac', String(algorithm), String(key)); }
    }
  };
})(globalThis.__host);
delete globalThis.__host;
`

const RUN = `
var __out = {};
Promise.resolve()
  .then(function () { if (typeof handler !== 'function') throw new Error('The function code defines no handler'); return handler(JSON.parse(__eventJson)); })
  .then(function (value) { __out.json = JSON.stringify(value === undefined ? null : value); },
        function (error) { __out.error = error instanceof Error ? error.name + ': ' + error.message : String(error); });
`

// The worker: plain JavaScript, so it needs no TypeScript loader. One job at a time, answered on the job's port.
const WORKER_SOURCE = String.raw`
const { workerData } = require('node:worker_threads')
const { createContext, Script } = require('node:vm')
const { createHash, createHmac } = require('node:crypto')
const { port, bootstrap, run } = workerData
const MODULES = new Set(['cloudfront', 'crypto'])
const ENCODINGS = new Set(['hex', 'base64', 'base64url'])
const IMPORT_LINE = /^\s*import\s+([A-Za-z_$][\w$]*)\s+from\s+['"]([^'"]+)['"]\s*;?\s*$/gm

function digest(kind, algorithm, key, data, encoding) {
  if (!ENCODINGS.has(encoding)) throw new Error('this emulator needs digest("hex" | "base64" | "base64url")')
  const hasher = kind === 'hmac' ? createHmac(algorithm, Buffer.from(key, 'utf8')) : createHash(algorithm)
  return hasher.update(data, 'utf8').digest(encoding)
}

function link(code) {
  return code.replace(IMPORT_LINE, (line, name, module) => {
    if (!MODULES.has(module)) throw new Error('SyntaxError: the module ' + JSON.stringify(module) + ' is not available')
    return 'var ' + name + ' = __modules[' + JSON.stringify(module) + '];'
  })
}

function execute({ code, eventJson, entries, meta, timeout }) {
  const items = new Map(entries)
  const context = createContext(
    { __host: { lookup: (key) => items.get(key), digest, meta }, __eventJson: eventJson },
    { codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' },
  )
  new Script(bootstrap, { filename: 'runtime.js' }).runInContext(context)
  const logs = context.__modules.logs
  const started = performance.now()
  const finish = (result) => Object.assign(result, { logs: logs.slice(), elapsedMs: performance.now() - started })
  try {
    new Script(link(code) + '\n' + run, { filename: 'function.js' }).runInContext(context, { timeout })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return finish({ error: /timed out/i.test(message) ? 'The function exceeded its time budget' : message })
  }
  const out = context.__out
  if (out.error !== undefined) return finish({ error: out.error })
  if (out.json === undefined) return finish({ error: 'The function did not complete' })
  return finish({ outputJson: out.json })
}

port.on('message', (job) => {
  let result
  try {
    result = execute(job)
  } catch (error) {
    result = { error: String(error && error.message || error), logs: [], elapsedMs: 0 }
  }
  port.postMessage(result)
  Atomics.store(job.signal, 0, 1)
  Atomics.notify(job.signal, 0)
})
`

interface RuntimeWorker {
  worker: Worker
  port: MessagePort
}

let current: RuntimeWorker | undefined

function runtimeWorker(): RuntimeWorker {
  if (current !== undefined) return current
  const { port1, port2 } = new MessageChannel()
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { port: port2, bootstrap: BOOTSTRAP, run: RUN },
    transferList: [port2],
    // The worker runs only function code: no loader, no inspector flags from the parent.
    execArgv: [],
  })
  worker.unref()
  port1.unref()
  const started: RuntimeWorker = { worker, port: port1 }
  worker.once('exit', () => {
    if (current === started) current = undefined
  })
  current = started
  return started
}

/** Runs `code`'s `handler` on `event` with `store` as the KeyValueStore; the answer, an error, the console lines and the time it took. */
export function runFunction(code: string, event: unknown, store: ReadonlyMap<string, string>, options: FunctionRunOptions = {}): FunctionRun {
  const timeout = options.timeoutMs ?? FUNCTION_TIME_BUDGET_MS
  const runtime = runtimeWorker()
  const signal = new Int32Array(new SharedArrayBuffer(4))
  runtime.port.postMessage({ code, eventJson: JSON.stringify(event), entries: [...store], meta: JSON.stringify(options.meta ?? {}), timeout, signal })
  const waited = Atomics.wait(signal, 0, 0, timeout + WORKER_GRACE_MS)
  const message = receiveMessageOnPort(runtime.port)?.message as (Omit<FunctionRun, 'output'> & { outputJson?: string }) | undefined
  if (waited === 'timed-out' || message === undefined) {
    current = undefined
    void runtime.worker.terminate()
    return { error: 'The function runtime did not answer', logs: [], elapsedMs: timeout }
  }
  const { outputJson, ...run } = message
  return outputJson === undefined ? run : { ...run, output: JSON.parse(outputJson) }
}
