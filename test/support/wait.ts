/**
 * Resolves once `predicate` holds, polling every `intervalMs`; rejects after `timeoutMs`, naming
 * `what` (a function is read at that moment, e.g. to show a process's output). Resolves with the
 * milliseconds it took. Every test that waits on a condition waits through this, so none can spin.
 */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string | (() => string), intervalMs = 20): Promise<number> {
  const started = performance.now()
  while (!predicate()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  return performance.now() - started
}

/** Waits until `output()` matches `pattern` and returns the match; fails at once if `exited()` says the process is gone. */
export async function waitForOutput(output: () => string, pattern: RegExp, timeoutMs: number, exited: () => string | undefined = () => undefined): Promise<RegExpMatchArray> {
  let match = null as RegExpMatchArray | null
  await waitFor(
    () => {
      match = pattern.exec(output())
      if (match !== null) return true
      const gone = exited()
      if (gone !== undefined) throw new Error(`the process exited (${gone}) before printing ${pattern}:\n${output()}`)
      return false
    },
    timeoutMs,
    () => `${pattern} in:\n${output()}`,
    50,
  )
  return match!
}
