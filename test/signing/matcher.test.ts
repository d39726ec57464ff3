// The wildcard matchers against a reference, what they cost on hostile input, the limits on a
// caller's patterns, URL patterns (scheme, exact host) and dot segments hidden by encoding.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import * as resource from '../../src/signing/resource.js'
import {
  checkPatternLimits,
  checkRawPath,
  encodePath,
  matchesPathPattern,
  matchesWildcard,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_WILDCARDS,
  MAX_QUESTION_PART_LENGTH,
  MAX_URL_LENGTH,
  checkUrlLength,
  splitUrlPattern,
} from '../../src/signing/resource.js'

/** The reference: the definition of a glob, memoised recursion; fine for short inputs only. */
function referenceMatch(pattern: string, value: string, questionIsWildcard: boolean): boolean {
  const memo = new Map<number, boolean>()
  const go = (i: number, j: number): boolean => {
    const key = i * (value.length + 1) + j
    const known = memo.get(key)
    if (known !== undefined) return known
    let result: boolean
    if (i === pattern.length) result = j === value.length
    else if (pattern[i] === '*') result = go(i + 1, j) || (j < value.length && go(i, j + 1))
    else result = j < value.length && (pattern[i] === value[j] || (questionIsWildcard && pattern[i] === '?')) && go(i + 1, j + 1)
    memo.set(key, result)
    return result
  }
  return go(0, 0)
}

// A small alphabet makes matches and near-misses frequent; `*` and `?` also appear in values, as literals.
const patternChar = fc.constantFrom('*', '?', '/', 'a', 'b')
const shortPattern = fc.array(patternChar, { maxLength: 12 }).map((c) => c.join(''))
const shortValue = fc.array(fc.constantFrom('/', 'a', 'b', '*', '?'), { maxLength: 16 }).map((c) => c.join(''))

// Parts up to 80 characters long, so parts cross the matcher's 32-bit words.
const longPart = fc.array(fc.constantFrom('a', 'b', '/', '?'), { maxLength: 80 }).map((c) => c.join(''))
const longPattern = fc.array(fc.oneof({ weight: 1, arbitrary: fc.constant('*') }, { weight: 3, arbitrary: longPart }), { maxLength: 6 }).map((p) => p.join(''))
/** A value the pattern matches (each `*` filled, each `?` a character), then sometimes one character changed. */
const longCase = fc
  .tuple(longPattern, fc.array(fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 40 }).map((c) => c.join('')), { minLength: 6, maxLength: 6 }), fc.nat(), fc.boolean())
  .map(([pattern, fills, at, mutate]) => {
    let k = 0
    let value = pattern.replace(/[*?]/g, (c) => (c === '*' ? fills[k++ % fills.length] : 'b'))
    if (mutate && value.length > 0) {
      const i = at % value.length
      value = value.slice(0, i) + (value[i] === 'a' ? 'b' : 'a') + value.slice(i + 1)
    }
    return { pattern, value }
  })

describe('matchesWildcard and matchesPathPattern against the reference', () => {
  it('agree with the reference on short random patterns and values', () => {
    fc.assert(
      fc.property(shortPattern, shortValue, (pattern, value) => {
        assert.equal(matchesWildcard(pattern, value), referenceMatch(pattern, value, true), `${pattern} vs ${value}`)
        assert.equal(matchesPathPattern(pattern, value), referenceMatch(pattern, value, false), `path ${pattern} vs ${value}`)
      }),
      { numRuns: 3000 },
    )
  })

  it('agree with the reference on long parts, matching and near-miss values', () => {
    fc.assert(
      fc.property(longCase, ({ pattern, value }) => {
        assert.equal(matchesWildcard(pattern, value), referenceMatch(pattern, value, true), `${pattern} vs ${value}`)
        assert.equal(matchesPathPattern(pattern, value), referenceMatch(pattern, value, false), `path ${pattern} vs ${value}`)
      }),
      { numRuns: 1000 },
    )
  })

  it('in a configured path pattern, ? is a literal', () => {
    assert.ok(matchesPathPattern('/videos/a?b/*', '/videos/a?b/c.mp4'), "matchesPathPattern('/videos/a?b/*', '/videos/a?b/c.mp4')")
    assert.ok(!matchesPathPattern('/videos/a?b/*', '/videos/aXb/c.mp4'), "!matchesPathPattern('/videos/a?b/*', '/videos/aXb/c.mp4')")
    assert.ok(matchesPathPattern('/videos/*', '/videos/'), "matchesPathPattern('/videos/*', '/videos/')")
    assert.ok(!matchesPathPattern('/videos/*', '/videos'), "!matchesPathPattern('/videos/*', '/videos')")
  })
})

describe('matching hostile patterns', () => {
  // Each of these froze the event loop for seconds to hours as a backtracking regular expression.
  const long = 'a'.repeat(50_000)
  const cases: Array<[string, string, boolean]> = [
    [`/videos/${'*a'.repeat(15)}*b`, `/videos/${long}`, false],
    [`/videos/${'*a'.repeat(15)}*`, `/videos/${long}`, true],
    [`*${'a'.repeat(1000)}b*`, long, false],
    [`*${'a?'.repeat(7)}${'a'.repeat(1000)}*b`, long, false],
    [`*${'a'.repeat(500)}b${'a'.repeat(500)}*`, `${'a'.repeat(500)}c`.repeat(100), false],
    [`*${'?'.repeat(16)}b`, long, false],
    // Quadratic for the engine's own string search (indexOf): a long run, one odd character, a long run.
    [`*${'a'.repeat(480)}b${'a'.repeat(480)}*`, long, false],
    [`*b${'a'.repeat(960)}*`, long, false],
  ]

  it('complete in one pass over the value, whatever the pattern', () => {
    for (const [pattern, value, expected] of cases) {
      assert.equal(matchesWildcard(pattern, value), expected, pattern.slice(0, 60))
      assert.equal(matchesPathPattern(pattern, value), expected && !pattern.includes('?'), pattern.slice(0, 60))
    }
  })

  it('compile nothing and cache nothing: no regular expression is built, no pattern kept', () => {
    const source = readFileSync(new URL('../../src/signing/resource.ts', import.meta.url), 'utf8')
    assert.doesNotMatch(source, /new RegExp\(|RegExp\(/, 'no regular expression built at run time')
    const moduleState = source.split('\n').filter((line) => /^(export )?(const|let|var) /.test(line))
    assert.deepEqual(moduleState.filter((line) => /Map|Set|\[\]|\{\}/.test(line)), [], 'no module-level collection that could grow with callers\' patterns')
    for (const [name, value] of Object.entries(resource)) assert.ok(!(value instanceof Map) && !(value instanceof Set), name)
  })
})

describe('checkPatternLimits', () => {
  it('takes up to MAX_PATTERN_LENGTH characters and MAX_PATTERN_WILDCARDS wildcards', () => {
    assert.equal(MAX_PATTERN_LENGTH, 1024)
    assert.equal(MAX_PATTERN_WILDCARDS, 16)
    checkPatternLimits(`/videos/${'a'.repeat(MAX_PATTERN_LENGTH - 9)}*`)
    checkPatternLimits(`/videos/${'*?'.repeat(MAX_PATTERN_WILDCARDS / 2)}`)
  })

  it('refuses a longer pattern with RESOURCE_TOO_LONG, more wildcards with TOO_MANY_WILDCARDS', () => {
    assert.throws(() => checkPatternLimits(`/videos/${'a'.repeat(MAX_PATTERN_LENGTH - 8)}*`), { code: 'RESOURCE_TOO_LONG' })
    assert.throws(() => checkPatternLimits(`/videos/${'*a'.repeat(MAX_PATTERN_WILDCARDS + 1)}`), { code: 'TOO_MANY_WILDCARDS' })
    assert.throws(() => checkPatternLimits(`/videos/${'?'.repeat(MAX_PATTERN_WILDCARDS + 1)}`), { code: 'TOO_MANY_WILDCARDS' })
  })

  it('between two *, a run holding ? is at most MAX_QUESTION_PART_LENGTH characters; literal runs and the ends are not limited', () => {
    assert.equal(MAX_QUESTION_PART_LENGTH, 32)
    const run = (length: number) => `seg-?${'a'.repeat(length - 5)}`
    checkPatternLimits(`/hls/*${run(MAX_QUESTION_PART_LENGTH)}*`)
    assert.throws(() => checkPatternLimits(`/hls/*${run(MAX_QUESTION_PART_LENGTH + 1)}*`), { code: 'RESOURCE_TOO_LONG' })
    checkPatternLimits(`/hls/*${'a'.repeat(500)}*`)
    checkPatternLimits(`/hls/${run(200)}*`)
    checkPatternLimits(`/hls/*${run(200)}`)
  })

  it('a ? run longer than 32 characters (never from a caller) still matches correctly', () => {
    const part = `${'a?'.repeat(20)}b`
    assert.ok(matchesWildcard(`*${part}*`, `xx${part.replaceAll('?', 'c')}yy`), "matchesWildcard(`*${part}*`, `xx${part.replaceAll('?', 'c')}yy`)")
    assert.ok(!matchesWildcard(`*${part}*`, `xx${part.replaceAll('?', 'c').slice(0, -1)}cyy`), "!matchesWildcard(`*${part}*`, `xx${part.replaceAll('?', 'c').slice(0, -1)}cyy`)")
  })
})

describe('checkUrlLength', () => {
  it('takes a URL of up to CloudFront\'s 8,192 bytes and refuses a longer one with URL_TOO_LONG', () => {
    assert.equal(MAX_URL_LENGTH, 8192)
    checkUrlLength(`https://d.net/${'a'.repeat(MAX_URL_LENGTH - 14)}`)
    assert.throws(() => checkUrlLength(`https://d.net/${'a'.repeat(MAX_URL_LENGTH - 13)}`), { code: 'URL_TOO_LONG' })
  })
})

describe('splitUrlPattern', () => {
  it('takes http, https and http* (both schemes), any case, and an exact host', () => {
    assert.deepEqual(splitUrlPattern('https://d.net/videos/*'), { scheme: 'https', host: 'd.net', path: '/videos/*' })
    assert.deepEqual(splitUrlPattern('http://d.net/a?b'), { scheme: 'http', host: 'd.net', path: '/a?b' })
    assert.deepEqual(splitUrlPattern('http*://d.net/*'), { scheme: 'http*', host: 'd.net', path: '/*' })
    assert.deepEqual(splitUrlPattern('HTTP*://D.net/*'), { scheme: 'http*', host: 'D.net', path: '/*' })
  })

  it('refuses a wildcard in the host: WILDCARD_HOST', () => {
    for (const pattern of ['https://*.net/videos/*', 'https://d.ne?/videos/*', 'https://d.net*', 'http*://*/videos/*', 'https://d.net*/videos/*']) {
      assert.throws(() => splitUrlPattern(pattern), { code: 'WILDCARD_HOST' }, pattern)
    }
  })

  it('refuses other schemes, a missing host or path: INVALID_RESOURCE', () => {
    for (const pattern of ['ftp://d.net/*', 'https*://d.net/*', 'http?://d.net/*', '*://d.net/*', 'rtmp://d.net/*', 'https://d.net', 'https:///videos/*', 'videos/*', '*']) {
      assert.throws(() => splitUrlPattern(pattern), { code: 'INVALID_RESOURCE' }, pattern)
    }
  })
})

describe('dot segments behind encodings and backslashes', () => {
  it('refuses a path whose percent-decoded segments, split on / and \\, include . or ..: INVALID_PATH', () => {
    for (const path of [
      '/videos/free/..%2Fpremium%2Fsecret.mp4',
      '/videos/free/..%2fpremium',
      '/videos/free/..%5Cpremium%5Csecret.mp4',
      '/videos/free/..\\premium\\secret.mp4',
      '/videos/free/.\\a.mp4',
      '/videos/free/%2e%2e/premium',
      '/videos/free/%2E%2e%2Fpremium',
      '/videos/free/.%2e',
      '/videos/free\\..',
    ]) {
      assert.throws(() => checkRawPath(path), { code: 'INVALID_PATH' }, path)
      assert.throws(() => encodePath(path), { code: 'INVALID_PATH' }, path)
    }
  })

  it('keeps an encoded slash or backslash that makes no dot segment (S3 keys may hold them)', () => {
    for (const path of ['/videos/free/a%2Fb.mp4', '/videos/free/a\\b.mp4', '/videos/free/..a/b', '/videos/free/a..%2Fb', '/videos/free/...', '/videos/free/%2e%2e%2e']) {
      checkRawPath(path)
    }
  })
})
