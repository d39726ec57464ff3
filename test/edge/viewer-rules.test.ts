// Viewer rules a signing request asks for, narrowed by the caller's claims: what is kept, what is refused and with
// which code, and (by property) that the narrowed rules never let in a viewer the claims keep out.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createEdgeToken, verifyEdgeToken, type EdgeViewer } from '../../src/edge/token.js'
import { hasViewerRules, narrowViewerRules, parseViewerRuleClaims, referrerCovers, type ViewerRules } from '../../src/edge/viewer-rules.js'

function failure(run: () => unknown): { code: string; message: string } {
  try {
    run()
  } catch (error) {
    return { code: (error as { code?: string }).code ?? 'no code', message: (error as Error).message }
  }
  return { code: 'no error', message: '' }
}

const codeOf = (run: () => unknown) => failure(run).code

describe('viewer rules: narrowing by the caller\'s claims', () => {
  it('takes the claims where the request is silent, and nothing when neither has rules', () => {
    const claimed: ViewerRules = { referrers: ['*.Example.com'], allowEmptyReferrer: true, countries: { allow: ['fr'], deny: ['us'] }, ipRanges: ['10.0.0.0/8'] }
    assert.deepEqual(narrowViewerRules(undefined, claimed), {
      referrers: ['*.example.com'],
      allowEmptyReferrer: true,
      countries: { allow: ['FR'], deny: ['US'] },
      ipRanges: ['10.0.0.0/8'],
    })
    assert.deepEqual(narrowViewerRules(undefined, undefined), {})
    assert.deepEqual(narrowViewerRules({}, {}), {})
  })

  it('keeps the request\'s rules when the caller has none, normalised and deduplicated', () => {
    const requested: ViewerRules = { referrers: ['A.example.com', 'a.example.com'], countries: { allow: ['fr', 'FR'], deny: ['de'] }, ipRanges: ['2001:DB8::/32'] }
    assert.deepEqual(narrowViewerRules(requested, undefined), {
      referrers: ['a.example.com'],
      countries: { allow: ['FR'], deny: ['DE'] },
      ipRanges: ['2001:db8::/32'],
    })
  })

  it('accepts a referrer inside a claimed pattern and refuses one outside, naming the field', () => {
    assert.equal(referrerCovers('a.b.com', 'a.b.com'), true)
    assert.equal(referrerCovers('*.b.com', 'a.b.com'), true)
    assert.equal(referrerCovers('*.b.com', '*.x.b.com'), true)
    assert.equal(referrerCovers('*.b.com', '*.b.com'), true)
    assert.equal(referrerCovers('*.b.com', 'b.com'), false, 'the function\'s *.b.com does not match b.com')
    assert.equal(referrerCovers('a.b.com', '*.a.b.com'), false)
    assert.equal(referrerCovers('*.b.com', 'xb.com'), false)
    assert.equal(referrerCovers('*.b.com', '*.xb.com'), false)

    const claimed = { referrers: ['*.b.com', 'c.org'] }
    assert.deepEqual(narrowViewerRules({ referrers: ['a.b.com', '*.x.b.com', 'c.org'] }, claimed).referrers, ['a.b.com', '*.x.b.com', 'c.org'])
    const refused = failure(() => narrowViewerRules({ referrers: ['a.b.com', 'b.com'] }, claimed))
    assert.equal(refused.code, 'FORBIDDEN_VIEWER_RULES')
    assert.match(refused.message, /referrers: "b\.com"/)
    assert.equal(codeOf(() => narrowViewerRules({ referrers: ['*.c.org'] }, claimed)), 'FORBIDDEN_VIEWER_RULES')
  })

  it('lets a request allow an empty referrer only where the caller may', () => {
    assert.equal(codeOf(() => narrowViewerRules({ allowEmptyReferrer: true }, { referrers: ['a.com'] })), 'FORBIDDEN_VIEWER_RULES')
    assert.equal(codeOf(() => narrowViewerRules({ referrers: ['a.com'], allowEmptyReferrer: true }, { referrers: ['a.com'] })), 'FORBIDDEN_VIEWER_RULES')
    assert.deepEqual(narrowViewerRules({ allowEmptyReferrer: true }, { referrers: ['a.com'], allowEmptyReferrer: true }), { referrers: ['a.com'], allowEmptyReferrer: true })
    assert.deepEqual(narrowViewerRules({ referrers: ['a.com'], allowEmptyReferrer: true }, { ipRanges: ['10.0.0.0/8'] }), {
      referrers: ['a.com'],
      allowEmptyReferrer: true,
      ipRanges: ['10.0.0.0/8'],
    })
    // A request's own referrers drop the claim's empty-referrer allowance unless it asks again; false narrows it.
    assert.deepEqual(narrowViewerRules({ referrers: ['a.com'] }, { referrers: ['a.com'], allowEmptyReferrer: true }), { referrers: ['a.com'] })
    assert.deepEqual(narrowViewerRules({ allowEmptyReferrer: false }, { referrers: ['a.com'], allowEmptyReferrer: true }), { referrers: ['a.com'] })
    assert.equal(codeOf(() => narrowViewerRules({ allowEmptyReferrer: true }, undefined)), 'INVALID_VIEWER_RULES', 'nothing to allow it beside')
  })

  it('keeps an allow list inside the claim\'s and adds deny lists together', () => {
    const claimed = { countries: { allow: ['FR', 'DE', 'BE'], deny: ['RU'] } }
    assert.deepEqual(narrowViewerRules({ countries: { allow: ['de', 'fr'] } }, claimed), { countries: { allow: ['DE', 'FR'], deny: ['RU'] } })
    assert.deepEqual(narrowViewerRules({ countries: { deny: ['BE'] } }, claimed), { countries: { allow: ['FR', 'DE', 'BE'], deny: ['RU', 'BE'] } })
    const refused = failure(() => narrowViewerRules({ countries: { allow: ['FR', 'US'] } }, claimed))
    assert.equal(refused.code, 'FORBIDDEN_VIEWER_RULES')
    assert.match(refused.message, /countries\.allow: US/)
    assert.deepEqual(narrowViewerRules({ countries: { allow: ['US'] } }, { countries: { deny: ['RU'] } }), { countries: { allow: ['US'], deny: ['RU'] } })
    const many = (prefix: string) => Array.from({ length: 26 }, (_, index) => `${prefix}${String.fromCharCode(65 + index)}`)
    assert.equal(codeOf(() => narrowViewerRules({ countries: { deny: many('A').concat(many('B').slice(0, 24)) } }, { countries: { deny: many('C') } })), 'INVALID_VIEWER_RULES')
  })

  it('keeps IP ranges inside a claimed range and refuses wider or other ones', () => {
    const claimed = { ipRanges: ['10.0.0.0/8', '2001:db8::/32'] }
    assert.deepEqual(narrowViewerRules({ ipRanges: ['10.1.0.0/16', '2001:db8:5::/48', '10.0.0.0/8'] }, claimed).ipRanges, ['10.1.0.0/16', '2001:db8:5::/48', '10.0.0.0/8'])
    assert.equal(codeOf(() => narrowViewerRules({ ipRanges: ['10.0.0.0/7'] }, claimed)), 'FORBIDDEN_VIEWER_RULES')
    assert.equal(codeOf(() => narrowViewerRules({ ipRanges: ['11.0.0.0/16'] }, claimed)), 'FORBIDDEN_VIEWER_RULES')
    assert.equal(codeOf(() => narrowViewerRules({ ipRanges: ['2001:db9::/48'] }, claimed)), 'FORBIDDEN_VIEWER_RULES')
    const mapped = failure(() => narrowViewerRules({ ipRanges: ['::ffff:10.0.0.0/104'] }, claimed))
    assert.equal(mapped.code, 'FORBIDDEN_VIEWER_RULES', 'an IPv4-mapped range is not inside an IPv4 one: the function compares families')
    assert.match(mapped.message, /^ipRanges/)
  })

  it('refuses malformed requests as INVALID_VIEWER_RULES, naming the field', () => {
    const cases: Array<[ViewerRules, RegExp]> = [
      [{ referrers: ['https://a.com'] }, /referrers/],
      [{ referrers: [] }, /referrers/],
      [{ referrers: Array.from({ length: 11 }, (_, index) => `h${index}.com`) }, /referrers/],
      [{ referrers: [`${'a'.repeat(300)}.com`] }, /referrers/],
      [{ countries: { allow: ['FRA'] } }, /countries\.allow/],
      [{ countries: { deny: ['F1'] } }, /countries\.deny/],
      [{ countries: { allow: [] } }, /countries\.allow/],
      [{ ipRanges: ['10.0.0.0/33'] }, /ipRanges/],
      [{ ipRanges: ['10.0.0.0'] }, /ipRanges/],
      [{ ipRanges: ['2001:db8::/129'] }, /ipRanges/],
      [{ ipRanges: Array.from({ length: 11 }, () => '10.0.0.0/8') }, /ipRanges/],
      [{ countries: { allow: ['FR'], other: ['x'] } as never }, /countries/],
      [{ allowEmptyReferrer: 'yes' as never, referrers: ['a.com'] }, /allowEmptyReferrer/],
    ]
    for (const [requested, field] of cases) {
      const { code, message } = failure(() => narrowViewerRules(requested, undefined))
      assert.equal(code, 'INVALID_VIEWER_RULES', JSON.stringify(requested).slice(0, 80))
      assert.match(message, field)
    }
  })
})

describe('viewer rules: the caller\'s claims', () => {
  it('reads the four claims and nothing else, normalised', () => {
    assert.equal(parseViewerRuleClaims({ sub: 'alice', scope: 'sign' }), undefined)
    assert.deepEqual(parseViewerRuleClaims({ sub: 'alice', referrers: ['A.com'], allowEmptyReferrer: false, countries: { deny: ['us'] }, ipRanges: ['192.0.2.0/24'] }), {
      referrers: ['a.com'],
      allowEmptyReferrer: false,
      countries: { deny: ['US'] },
      ipRanges: ['192.0.2.0/24'],
    })
  })

  it('refuses a present but malformed claim as TOKEN_INVALID rather than ignoring it', () => {
    for (const claims of [
      { referrers: 'a.com' },
      { referrers: [1] },
      { allowEmptyReferrer: 'true' },
      { countries: ['FR'] },
      { countries: null },
      { countries: { allow: 'FR' } },
      { countries: { only: ['FR'] } },
      { ipRanges: ['not a range'] },
      { ipRanges: [] },
    ]) {
      assert.equal(codeOf(() => parseViewerRuleClaims(claims)), 'TOKEN_INVALID', JSON.stringify(claims))
    }
  })

  it('says whether any rule refuses a viewer', () => {
    assert.equal(hasViewerRules(undefined), false)
    assert.equal(hasViewerRules({}), false)
    assert.equal(hasViewerRules({ allowEmptyReferrer: true }), false)
    assert.equal(hasViewerRules({ referrers: ['a.com'] }), true)
    assert.equal(hasViewerRules({ countries: { deny: ['US'] } }), true)
    assert.equal(hasViewerRules({ countries: { allow: ['US'] } }), true)
    assert.equal(hasViewerRules({ ipRanges: ['10.0.0.0/8'] }), true)
  })
})

describe('viewer rules: narrowing never widens (property)', () => {
  const KEY = { id: 'k1', secret: 'property-secret-0123456789abcdefghijklmn' }
  const keys = new Map([[KEY.id, KEY.secret]])
  const NOW = 1_900_000_000
  const hosts = ['a.com', 'b.a.com', 'x.b.a.com', 'c.org', '*.a.com', '*.b.a.com', '*.c.org']
  const countryCodes = ['FR', 'DE', 'US', 'GB']
  const ranges = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.2.0.0/16', '192.0.2.0/24', '2001:db8::/32', '2001:db8:1::/48', '0.0.0.0/0']
  const list = (pool: string[]) => fc.option(fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 3 }), { nil: undefined })
  const rules: fc.Arbitrary<ViewerRules> = fc
    .record({
      referrers: list(hosts),
      allowEmptyReferrer: fc.option(fc.boolean(), { nil: undefined }),
      countries: fc.option(fc.record({ allow: list(countryCodes), deny: list(countryCodes) }), { nil: undefined }),
      ipRanges: list(ranges),
    })
    .map((value) => {
      const out: ViewerRules = {}
      if (value.referrers !== undefined) out.referrers = value.referrers
      if (value.allowEmptyReferrer !== undefined) out.allowEmptyReferrer = value.allowEmptyReferrer
      if (value.countries !== undefined) {
        out.countries = {}
        if (value.countries.allow !== undefined) out.countries.allow = value.countries.allow
        if (value.countries.deny !== undefined) out.countries.deny = value.countries.deny
      }
      if (value.ipRanges !== undefined) out.ipRanges = value.ipRanges
      return out
    })
  const referers = [undefined, 'https://a.com/', 'https://b.a.com/p', 'https://x.b.a.com/', 'https://y.x.b.a.com/', 'https://c.org/', 'https://d.c.org/']
  const ips = ['10.1.2.3', '10.1.9.9', '10.2.0.1', '192.0.2.9', '198.51.100.1', '2001:db8:1::1', '2001:db8:2::1']
  const viewers: EdgeViewer[] = referers.flatMap((referer) =>
    [undefined, ...countryCodes].flatMap((country) =>
      ips.map((ip) => ({ ip, ...(referer !== undefined && { referer }), ...(country !== undefined && { country }) })),
    ),
  )
  // A claim's allowEmptyReferrer without referrers is harmless; a token refuses it, so it is left out there.
  const tokenFor = (value: ViewerRules) =>
    createEdgeToken({ grantId: 'g1', sub: 'alice', issuedAt: NOW, expires: NOW + 60, ...value, ...(value.referrers === undefined && { allowEmptyReferrer: undefined }) }, KEY)

  it('lets in no viewer the claims keep out, and refuses only with its two codes', () => {
    let narrowed = 0
    fc.assert(
      fc.property(fc.option(rules, { nil: undefined }), rules, (requested, claimed) => {
        let result: ViewerRules
        try {
          result = narrowViewerRules(requested, claimed)
        } catch (error) {
          assert.ok(['FORBIDDEN_VIEWER_RULES', 'INVALID_VIEWER_RULES'].includes((error as { code?: string }).code ?? ''), String(error))
          return
        }
        narrowed += 1
        const wide = tokenFor(claimed)
        const narrow = tokenFor(result)
        for (const viewer of viewers) {
          if (!verifyEdgeToken(wide, keys, viewer, NOW).allowed) {
            assert.equal(verifyEdgeToken(narrow, keys, viewer, NOW).allowed, false, `${JSON.stringify(viewer)} under ${JSON.stringify(result)}`)
          }
        }
      }),
      { numRuns: 300 },
    )
    assert.ok(narrowed > 30, `only ${narrowed} requests narrowed: the property saw too few`)
  })
})
