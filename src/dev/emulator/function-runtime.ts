// Runs CloudFront Function code the way TestFunction does: a fresh vm context with no require, process, fetch or
// timers, the `cloudfront` (KeyValueStore) and `crypto` modules the runtime offers, and a time budget that includes
// the handler's promises. A development tool, not a sandbox against hostile code: the code is the developer's own.
import { createHash, createHmac } from 'node:crypto'
import { createContext, Script } from 'node:vm'

/** Milliseconds a run may take before it fails as CloudFront fails a function over its compute budget. */
export const FUNCTION_TIME_BUDGET_MS = 100
const MODULES = new Set(['cloudfront', 'crypto'])
const DIGEST_ENCODINGS = new Set(['hex', 'base64', 'base64url'])
const IMPORT_LINE = /^\s*import\s+([A-Za-z_$][\w$]*)\s+from\s+['"]([^'"]+)['"]\s*;?\s*$/gm

/** The store a function reads: the associated KeyValueStore's live content. */
export type KeyLookup = (key: string) => string | undefined

export interface FunctionRun {
  /** The handler's answer (request or response), JSON-ready; undefined when it failed. */
  output?: unknown
  error?: string
  logs: string[]
  elapsedMs: number
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
      meta: function () { return Promise.resolve(JSON.parse(host.meta())); }
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

function digest(kind: string, algorithm: string, key: string, data: string, encoding: unknown): string {
  if (typeof encoding !== 'string' || !DIGEST_ENCODINGS.has(encoding)) {
    throw new Error('this emulator needs digest("hex" | "base64" | "base64url")')
  }
  const hasher = kind === 'hmac' ? createHmac(algorithm, Buffer.from(key, 'utf8')) : createHash(algorithm)
  return hasher.update(data, 'utf8').digest(encoding as 'hex' | 'base64' | 'base64url')
}

/** `import x from 'module'` becomes a lookup in the modules the runtime offers; any other module fails to load. */
function linkImports(code: string): string {
  return code.replace(IMPORT_LINE, (_line, name: string, module: string) => {
    if (!MODULES.has(module)) throw new Error(`SyntaxError: the module ${JSON.stringify(module)} is not available`)
    return `var ${name} = __modules[${JSON.stringify(module)}];`
  })
}

/** Runs `code`'s `handler` on `event`; the answer, an error, the console lines and the time it took. */
export function runFunction(
  code: string,
  event: unknown,
  lookup: KeyLookup,
  options: { timeoutMs?: number; now?: () => number; meta?: () => unknown } = {},
): FunctionRun {
  const timeout = options.timeoutMs ?? FUNCTION_TIME_BUDGET_MS
  const now = options.now ?? performance.now.bind(performance)
  const context = createContext(
    {
      __host: { lookup, digest, meta: () => JSON.stringify(options.meta?.() ?? {}) },
      __eventJson: JSON.stringify(event),
    },
    { codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' },
  )
  new Script(BOOTSTRAP, { filename: 'runtime.js' }).runInContext(context)
  const logs = (context.__modules as { logs: string[] }).logs
  const started = now()
  const finish = (result: Omit<FunctionRun, 'logs' | 'elapsedMs'>): FunctionRun => ({ ...result, logs: [...logs], elapsedMs: now() - started })
  try {
    new Script(`${linkImports(code)}\n${RUN}`, { filename: 'function.js' }).runInContext(context, { timeout })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return finish({ error: /timed out/i.test(message) ? 'The function exceeded its time budget' : message })
  }
  const out = context.__out as { json?: string; error?: string }
  if (out.error !== undefined) return finish({ error: out.error })
  if (out.json === undefined) return finish({ error: 'The function did not complete' })
  return finish({ output: JSON.parse(out.json) })
}
