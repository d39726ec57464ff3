// The circuit breaker in front of the rate-limit store, on an injected clock: no app, no Redis.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createCircuitBreaker } from '../../src/rate-limit/circuit-breaker.js'

function setup(failureThreshold = 3, coolDownMs = 10_000) {
  let nowMs = 1_000_000
  const events: string[] = []
  const breaker = createCircuitBreaker({
    failureThreshold,
    coolDownMs,
    now: () => nowMs,
    onOpen: () => events.push('open'),
    onClose: () => events.push('close'),
  })
  const fail = (times = 1) => {
    for (let i = 0; i < times; i++) breaker.acquire()!(false)
  }
  return { breaker, events, fail, advance: (ms: number) => (nowMs += ms) }
}

describe('rate-limit store circuit breaker', () => {
  it('stays closed below the threshold, and a success resets the count of consecutive failures', () => {
    const { breaker, events, fail } = setup(3)
    fail(2)
    breaker.acquire()!(true)
    fail(2)
    assert.equal(breaker.state(), 'closed')
    assert.equal(breaker.retryInMs(), 0)
    assert.deepEqual(events, [])
  })

  it('opens after the threshold of consecutive failures and refuses every call for the cool-down', () => {
    const { breaker, events, fail, advance } = setup(3, 10_000)
    fail(3)
    assert.equal(breaker.state(), 'open')
    assert.deepEqual(events, ['open'])
    assert.equal(breaker.acquire(), undefined)
    assert.equal(breaker.retryInMs(), 10_000)
    advance(9_999)
    assert.equal(breaker.acquire(), undefined)
    assert.equal(breaker.retryInMs(), 1)
  })

  it('after the cool-down lets one probe through (half-open); its success closes the circuit', () => {
    const { breaker, events, fail, advance } = setup(2, 10_000)
    fail(2)
    advance(10_000)
    const probe = breaker.acquire()
    assert.ok(probe, 'probe')
    assert.equal(breaker.state(), 'half-open')
    // Only the probe: the others still skip the store while it runs.
    assert.equal(breaker.acquire(), undefined)
    probe(true)
    assert.equal(breaker.state(), 'closed')
    assert.deepEqual(events, ['open', 'close'])
    assert.ok(breaker.acquire(), 'breaker.acquire()')
  })

  it('a probe that fails opens the circuit for another cool-down, without a second trip', () => {
    const { breaker, events, fail, advance } = setup(2, 10_000)
    fail(2)
    advance(10_000)
    breaker.acquire()!(false)
    assert.equal(breaker.state(), 'open')
    assert.equal(breaker.retryInMs(), 10_000)
    assert.equal(breaker.acquire(), undefined)
    advance(10_000)
    breaker.acquire()!(true)
    assert.equal(breaker.state(), 'closed')
    assert.deepEqual(events, ['open', 'close'])
  })

  it('ignores late reports of calls made before the circuit changed state', () => {
    const { breaker, events, fail, advance } = setup(2, 10_000)
    const early = [breaker.acquire()!, breaker.acquire()!, breaker.acquire()!]
    fail(2)
    // Answers to calls from before the trip neither close nor reopen it.
    early[0](true)
    early[1](false)
    assert.equal(breaker.state(), 'open')
    advance(10_000)
    const probe = breaker.acquire()!
    early[2](true)
    assert.equal(breaker.state(), 'half-open')
    probe(true)
    assert.equal(breaker.state(), 'closed')
    assert.deepEqual(events, ['open', 'close'])
  })

  it('gives up on a probe that never reports after a cool-down and lets another through', () => {
    const { breaker, fail, advance } = setup(1, 10_000)
    fail(1)
    advance(10_000)
    const lost = breaker.acquire()!
    advance(9_999)
    assert.equal(breaker.acquire(), undefined)
    advance(1)
    const next = breaker.acquire()
    assert.ok(next, 'next')
    lost(false)
    assert.equal(breaker.state(), 'half-open')
    next(true)
    assert.equal(breaker.state(), 'closed')
  })
})
