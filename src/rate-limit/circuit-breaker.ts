export type CircuitState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number
  /** How long an open circuit skips the store before one probe tries it again. */
  coolDownMs: number
  /** The clock (epoch milliseconds). */
  now: () => number
  /** Closed to open: the store failed `failureThreshold` times in a row. */
  onOpen: () => void
  /** A probe succeeded: the store is called again. */
  onClose: () => void
}

/** Reports how a permitted call ended. */
export type CallReport = (succeeded: boolean) => void

/**
 * Keeps a failing store off the request path. Closed: every call goes through, and
 * `failureThreshold` consecutive failures open it. Open: calls are refused at once for `coolDownMs`,
 * then one probe is let through (half-open); its success closes the circuit, its failure opens it
 * for another cool-down. A report from a call made before the last change of state is ignored, so
 * a late answer to a call from before the trip neither closes nor reopens it.
 */
export function createCircuitBreaker({ failureThreshold, coolDownMs, now, onOpen, onClose }: CircuitBreakerOptions) {
  let state: CircuitState = 'closed'
  let generation = 0
  let failures = 0
  // Open: when it opened; half-open: when the probe started.
  let sinceMs = 0

  function moveTo(next: CircuitState): void {
    state = next
    generation += 1
    failures = 0
    sinceMs = now()
  }

  function reportFor(callGeneration: number): CallReport {
    return (succeeded) => {
      if (callGeneration !== generation) return
      if (state === 'half-open') {
        moveTo(succeeded ? 'closed' : 'open')
        if (succeeded) onClose()
      } else if (succeeded) {
        failures = 0
      } else if (++failures >= failureThreshold) {
        moveTo('open')
        onOpen()
      }
    }
  }

  return {
    state: (): CircuitState => state,

    /** Milliseconds until the next probe may run; 0 while closed. */
    retryInMs(): number {
      return state === 'closed' ? 0 : Math.max(0, sinceMs + coolDownMs - now())
    },

    /**
     * A permit to call the store, with the function that reports how the call ended; undefined
     * means skip the store. While half-open only the probe holds a permit; a probe that never
     * reports is given up after a cool-down and another is let through.
     */
    acquire(): CallReport | undefined {
      if (state !== 'closed') {
        if (now() - sinceMs < coolDownMs) return undefined
        moveTo('half-open')
      }
      return reportFor(generation)
    },
  }
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>
