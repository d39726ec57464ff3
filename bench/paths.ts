/** A path no other request of the run has asked for. */
export function uniquePath(n: number): string {
  return `/videos/${n.toString(36)}/segment-${n}.ts`
}

/**
 * A popular-resource mix: Zipf-distributed (exponent 1.2) over `count` paths, so that about 80% of
 * requests ask for the 300 most popular paths and the rest spread over a long tail.
 */
export function createPathMix(count = 10_000, exponent = 1.2, random: () => number = Math.random) {
  const cumulative = new Float64Array(count)
  let total = 0
  for (let rank = 1; rank <= count; rank++) {
    total += 1 / rank ** exponent
    cumulative[rank - 1] = total
  }
  return {
    /** The share of requests that go to the `top` most popular paths. */
    share: (top: number) => cumulative[Math.min(top, count) - 1] / total,
    next(): string {
      const target = random() * total
      let low = 0
      let high = count - 1
      while (low < high) {
        const mid = (low + high) >>> 1
        if (cumulative[mid] < target) low = mid + 1
        else high = mid
      }
      return `/images/popular/${low + 1}.jpg`
    },
  }
}
