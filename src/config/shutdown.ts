/** How the service stops on SIGTERM: read from the environment, like the other process settings. */
export interface ShutdownTimings {
  /** Past this, the process exits 1 whatever is still in flight. */
  graceMs: number
  /** How long the service keeps answering (readiness failing) before it stops accepting. */
  drainDelayMs: number
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000
export const DEFAULT_SHUTDOWN_DELAY_MS = 5_000

/** SHUTDOWN_GRACE_MS and SHUTDOWN_DELAY_MS; throws when the delay would not leave time to finish within the grace. */
export function loadShutdownTimings(env: Record<string, string | undefined>): ShutdownTimings {
  const graceMs = Number(env.SHUTDOWN_GRACE_MS ?? DEFAULT_SHUTDOWN_GRACE_MS)
  const drainDelayMs = Number(env.SHUTDOWN_DELAY_MS ?? DEFAULT_SHUTDOWN_DELAY_MS)
  if (!Number.isInteger(graceMs) || !Number.isInteger(drainDelayMs) || graceMs <= 0 || drainDelayMs < 0 || drainDelayMs >= graceMs) {
    throw new RangeError(`SHUTDOWN_DELAY_MS (${drainDelayMs}) must be a whole number of milliseconds below SHUTDOWN_GRACE_MS (${graceMs})`)
  }
  return { graceMs, drainDelayMs }
}
