import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { loadShutdownTimings } from '../../src/config/shutdown.js'

describe('shutdown timings (SHUTDOWN_GRACE_MS, SHUTDOWN_DELAY_MS)', () => {
  it('default to a 10 s grace and a 5 s drain delay, and read both from the environment', () => {
    assert.deepEqual(loadShutdownTimings({}), { graceMs: 10_000, drainDelayMs: 5_000 })
    assert.deepEqual(loadShutdownTimings({ SHUTDOWN_GRACE_MS: '20000', SHUTDOWN_DELAY_MS: '0' }), { graceMs: 20_000, drainDelayMs: 0 })
  })

  it('refuse a delay that is not below the grace, and values that are not whole milliseconds', () => {
    for (const env of [
      { SHUTDOWN_GRACE_MS: '1000', SHUTDOWN_DELAY_MS: '1000' },
      { SHUTDOWN_GRACE_MS: '0', SHUTDOWN_DELAY_MS: '0' },
      { SHUTDOWN_DELAY_MS: '-1' },
      { SHUTDOWN_GRACE_MS: '1.5' },
      { SHUTDOWN_GRACE_MS: 'ten seconds' },
    ]) {
      assert.throws(() => loadShutdownTimings(env), /SHUTDOWN_DELAY_MS \(.*\) must be a whole number of milliseconds below SHUTDOWN_GRACE_MS/, JSON.stringify(env))
    }
  })
})
