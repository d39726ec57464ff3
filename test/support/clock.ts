/** 2027-01-15T08:00:00Z: a fixed clock for signing tests (apps built by build() run on it). */
export const TEST_NOW_MS = Date.UTC(2027, 0, 15, 8, 0, 0)

/** A clock a test moves by hand: pass `now` to build(), then `advance` instead of sleeping. */
export function testClock(startMs: number = TEST_NOW_MS) {
  let nowMs = startMs
  return {
    now: () => nowMs,
    advance: (ms: number) => void (nowMs += ms),
  }
}
