// The inspector judged against the reference vectors (test/fixtures/vectors), whose independent
// verifier recorded what CloudFront decides at given times and addresses, and against hand-made
// requests for every denial reason.
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { CHECK_NAMES, type DenialReason } from '../../src/signing/inspect.js'
import { loadKeyDirectory, type FileSigningKey as SigningKey } from '../../src/signing/keys.js'
import { buildPolicy, toCloudFrontBase64, type HashAlgorithm, type Policy } from '../../src/signing/policy.js'
import { buildSignedCookies, buildSignedStream, buildSignedUrl, signPolicy } from '../../src/signing/sign.js'
import { EC_KEY_ID, makeKeyDir, RSA_KEY_ID, vectorKeyFiles } from '../support/keys.js'
import { SIGNED_URL_VECTORS, type ReferenceCheck, type SignedUrlVector } from '../support/vectors.js'
import { assertVerdict, flipChar, getParam, inspectWithTestKeys, replaceParam } from '../support/inspector.js'

type Vector = SignedUrlVector
const file = SIGNED_URL_VECTORS

// The reference verifier's "outside_ip" check uses this viewer address (its details name it).
const OUTSIDE_IP = '198.51.100.1'

/** The request each reference check describes. */
function requestFor(v: Vector, check: string): { url: string; at: number; ip: string } {
  const base = { url: v.signed_url, at: v.verify_at, ip: v.verify_ip }
  if (check === 'before_expiry') return base
  if (check === 'at_expiry') return { ...base, at: v.date_less_than }
  if (check === 'outside_ip') return { ...base, ip: OUTSIDE_IP }
  if (check === 'before_not_before') return { ...base, at: v.date_greater_than! - 1 }
  if (check === 'flash_escaped_before_expiry') return { ...base, url: v.signed_stream_flash_escaped! }
  throw new Error(`unknown reference check ${check}`)
}

function expectedFor(v: Vector, check: ReferenceCheck): DenialReason | 'allow' {
  // A policy CloudFront cannot evaluate is refused at any time; the reference verifier only notices
  // a malformed AWS:SourceIp when it reaches the IP condition, after the expiry.
  if (v.checks.before_expiry.reason === 'bad_policy') return 'BAD_POLICY'
  return check.verdict === 'ACCEPT' ? 'allow' : (check.reason!.toUpperCase() as DenialReason)
}

describe('inspector: reference vectors', () => {
  for (const section of ['vectors', 'single_signer', 'divergent'] as const) {
    it(`agrees with the reference verifier on every ${section} output and check`, () => {
      let judged = 0
      for (const v of file[section]) {
        for (const [name, check] of Object.entries(v.checks)) {
          if (check.detail?.includes('client ')) assert.ok(check.detail.includes(OUTSIDE_IP), `${v.id}: outside_ip uses ${OUTSIDE_IP}`)
          const request = requestFor(v, name)
          assertVerdict(inspectWithTestKeys(request.url, request), expectedFor(v, check), `${v.id} (${v.signer}) ${name}`)
          judged++
        }
      }
      assert.ok(judged >= file[section].length * 2, 'judged >= file[section].length * 2')
    })
  }

  it('allows every vector one second before expiry and denies it EXPIRED at expiry', () => {
    for (const v of [...file.vectors, ...file.single_signer]) {
      const label = `${v.id} (${v.signer})`
      const before = inspectWithTestKeys(v.signed_url, { at: v.date_less_than - 1, ip: v.verify_ip })
      assertVerdict(before, 'allow', label)
      assert.equal(before.policy?.type, v.policy_type, label)
      assert.equal(before.policy?.expires, v.date_less_than, label)
      assertVerdict(inspectWithTestKeys(v.signed_url, { at: v.date_less_than, ip: v.verify_ip }), 'EXPIRED', label)
    }
  })

  it('denies the RTMP outputs signed for cfx/st/<stream> when the player requests the stream name', () => {
    const appPath = file.divergent.filter((v) => v.differences_from_reference?.includes('rtmp-resource-includes-app-path'))
    assert.ok(appPath.length >= 4, 'appPath.length >= 4')
    for (const v of appPath) {
      const requested = v.stream! + v.signed_url.slice(v.signed_url.indexOf('?'))
      const inspection = inspectWithTestKeys(requested, { at: v.verify_at, ip: v.verify_ip })
      // A custom policy names its resource, so the mismatch is visible; a canned policy is rebuilt
      // from the requested name, so the signature (made over cfx/st/<stream>) fails instead.
      assertVerdict(inspection, v.emitted_policy_type === 'custom' ? 'RESOURCE_MISMATCH' : 'BAD_SIGNATURE', `${v.id} (${v.signer})`)
      if (v.emitted_policy_type === 'custom') assert.match(inspection.checks.find((c) => c.name === 'resource')!.detail, /stream name alone/)
    }
  })

  it('denies the bare IP without /32 as BAD_POLICY', () => {
    const bare = file.divergent.find((v) => v.id === 'custom-ip-single' && v.differences_from_reference?.includes('rejected:bad_policy'))!
    const inspection = inspectWithTestKeys(bare.signed_url, { at: bare.verify_at, ip: bare.verify_ip })
    assertVerdict(inspection, 'BAD_POLICY')
    assert.equal(inspection.checks.find((c) => c.name === 'signature')?.outcome, 'pass', 'the signature itself is fine')
  })
})

describe('inspector: each check', () => {
  const keys = makeKeyDir(vectorKeyFiles())
  after(keys.cleanup)
  const loaded = loadKeyDirectory(keys.dir).keys
  const rsa = loaded.get(RSA_KEY_ID)!
  const ec = loaded.get(EC_KEY_ID)!
  const NOW = 1_800_000_000
  const URL = 'https://media.example.com/videos/intro.mp4'

  function sign(policy: Policy, key: SigningKey = rsa, hash: HashAlgorithm = 'SHA1') {
    return { policy, keyId: key.id, hashAlgorithm: hash, signature: signPolicy(policy.json, key, hash) }
  }
  const canned = (url = URL, key?: SigningKey, hash?: HashAlgorithm) => buildSignedUrl(url, sign(buildPolicy(url, { expires: NOW + 60 }), key, hash))
  const custom = (resource: string, conditions: Partial<Policy['conditions']> = {}, url = URL) =>
    buildSignedUrl(url, sign(buildPolicy(resource, { expires: NOW + 60, ...conditions }, true)))
  const at = { at: NOW }

  it('allows a fresh canned URL and lists every check in CloudFront\'s order', () => {
    const inspection = inspectWithTestKeys(canned(), at)
    assertVerdict(inspection, 'allow')
    assert.deepEqual(inspection.checks.map((c) => c.name), [...CHECK_NAMES])
    assert.equal(inspection.checks.find((c) => c.name === 'signature')?.detail, 'verified with RSA-SHA1')
    assert.deepEqual(
      { type: inspection.policy?.type, resource: inspection.policy?.resource, source: inspection.source, keyId: inspection.keyId },
      { type: 'canned', resource: URL, source: 'url', keyId: RSA_KEY_ID },
    )
  })

  it('reports which algorithm verified: ECDSA and SHA-256 too', () => {
    const inspection = inspectWithTestKeys(canned(URL, ec, 'SHA256'), at)
    assertVerdict(inspection, 'allow')
    assert.equal(inspection.checks.find((c) => c.name === 'signature')?.detail, 'verified with ECDSA-SHA256')
  })

  it('MISSING_PARAMS: nothing signed, or a parameter left out', () => {
    assertVerdict(inspectWithTestKeys(URL, at), 'MISSING_PARAMS')
    const withoutSignature = canned().replace(/&Signature=[^&]+/, '')
    const inspection = inspectWithTestKeys(withoutSignature, at)
    assertVerdict(inspection, 'MISSING_PARAMS')
    assert.match(inspection.checks[0].detail, /Signature/)
  })

  it('MALFORMED: a non-numeric Expires, a repeated parameter, a character outside CloudFront base64, an empty value', () => {
    const signed = canned()
    assertVerdict(inspectWithTestKeys(replaceParam(signed, 'Expires', '1e9'), at), 'MALFORMED', 'Expires')
    assertVerdict(inspectWithTestKeys(`${signed}&Signature=${getParam(signed, 'Signature')}`, at), 'MALFORMED', 'repeated')
    assertVerdict(inspectWithTestKeys(replaceParam(signed, 'Signature', 'abc%2Bdef'), at), 'MALFORMED', 'plain base64 +')
    assertVerdict(inspectWithTestKeys(replaceParam(signed, 'Signature', ''), at), 'MALFORMED', 'empty')
    assertVerdict(inspectWithTestKeys(replaceParam(signed, 'Signature', '%E0%A4%A'), at), 'MALFORMED', 'bad percent-encoding')
  })

  it('reads percent-encoded signing parameters as clients send them', () => {
    const signed = canned()
    const encoded = replaceParam(signed, 'Signature', getParam(signed, 'Signature')!.replaceAll('~', '%7E'))
    assertVerdict(inspectWithTestKeys(encoded, at), 'allow')
  })

  it('UNKNOWN_KEY: a key ID CloudFront does not trust', () => {
    assertVerdict(inspectWithTestKeys(replaceParam(canned(), 'Key-Pair-Id', 'K0NOSUCHKEY000'), at), 'UNKNOWN_KEY')
  })

  it('UNSUPPORTED_HASH: anything but SHA1 or SHA256', () => {
    assertVerdict(inspectWithTestKeys(`${canned()}&Hash-Algorithm=MD5`, at), 'UNSUPPORTED_HASH')
  })

  it('BAD_SIGNATURE: another key, a flipped byte, or a SHA-256 signature without Hash-Algorithm (with a hint)', () => {
    const signed = canned()
    assertVerdict(inspectWithTestKeys(replaceParam(signed, 'Key-Pair-Id', EC_KEY_ID), at), 'BAD_SIGNATURE', 'other key')
    assertVerdict(inspectWithTestKeys(replaceParam(signed, 'Signature', flipChar(getParam(signed, 'Signature')!)), at), 'BAD_SIGNATURE', 'flipped')
    const sha256 = canned(URL, rsa, 'SHA256').replace('&Hash-Algorithm=SHA256', '')
    const inspection = inspectWithTestKeys(sha256, at)
    assertVerdict(inspection, 'BAD_SIGNATURE', 'hash')
    assert.match(inspection.checks.find((c) => c.name === 'signature')!.detail, /verifies with SHA256/)
  })

  it('BAD_POLICY: signed but not a policy CloudFront can evaluate', () => {
    const cases: Record<string, string> = {
      'not JSON': '{"Statement":',
      'two statements': JSON.stringify({ Statement: [{ Resource: URL, Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 60 } } }, { Resource: URL }] }),
      'no DateLessThan': JSON.stringify({ Statement: [{ Resource: URL, Condition: { DateGreaterThan: { 'AWS:EpochTime': NOW - 60 } } }] }),
      'string epoch': JSON.stringify({ Statement: [{ Resource: URL, Condition: { DateLessThan: { 'AWS:EpochTime': String(NOW + 60) } } }] }),
      'unknown condition': JSON.stringify({ Statement: [{ Resource: URL, Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 60 }, Referer: {} } }] }),
      'IPv6 source': JSON.stringify({ Statement: [{ Resource: URL, Condition: { DateLessThan: { 'AWS:EpochTime': NOW + 60 }, IpAddress: { 'AWS:SourceIp': '2001:db8::/32' } } }] }),
    }
    for (const [label, json] of Object.entries(cases)) {
      const signed = `${URL}?Policy=${toCloudFrontBase64(json)}&Signature=${signPolicy(json, rsa, 'SHA1')}&Key-Pair-Id=${RSA_KEY_ID}`
      const inspection = inspectWithTestKeys(signed, at)
      assertVerdict(inspection, 'BAD_POLICY', label)
      assert.equal(inspection.checks.find((c) => c.name === 'signature')?.outcome, 'pass', `${label}: signed correctly`)
    }
  })

  it('RESOURCE_MISMATCH: a custom policy for another path; wildcards match as CloudFront does', () => {
    assertVerdict(inspectWithTestKeys(custom(`${URL}x`, { ipCidr: '203.0.113.0/24' }), at), 'RESOURCE_MISMATCH', 'exact')
    const wildcard = custom('https://media.example.com/videos/*')
    assertVerdict(inspectWithTestKeys(wildcard, at), 'allow', 'wildcard')
    const moved = wildcard.replace('/videos/intro.mp4', '/hls/intro.mp4')
    assertVerdict(inspectWithTestKeys(moved, at), 'RESOURCE_MISMATCH', 'moved')
    assertVerdict(inspectWithTestKeys(custom('https://media.example.com/videos/intr?.mp4'), at), 'allow', '? is one character')
  })

  it('a canned URL whose path or query changed fails the signature', () => {
    assertVerdict(inspectWithTestKeys(canned().replace('intro.mp4', 'other.mp4'), at), 'BAD_SIGNATURE', 'path')
    assertVerdict(inspectWithTestKeys(canned(`${URL}?quality=hd`).replace('quality=hd', 'quality=4k'), at), 'BAD_SIGNATURE', 'query')
    assertVerdict(inspectWithTestKeys(replaceParam(canned(), 'Expires', String(NOW + 3600)), at), 'BAD_SIGNATURE', 'expiry')
  })

  it('NOT_YET_VALID before DateGreaterThan, allowed at it', () => {
    const signed = custom(URL, { notBefore: NOW + 10 })
    assertVerdict(inspectWithTestKeys(signed, { at: NOW + 9 }), 'NOT_YET_VALID')
    assertVerdict(inspectWithTestKeys(signed, { at: NOW + 10 }), 'allow')
  })

  it('EXPIRED: the request time must be strictly before the expiry', () => {
    assertVerdict(inspectWithTestKeys(canned(), { at: NOW + 59 }), 'allow')
    assertVerdict(inspectWithTestKeys(canned(), { at: NOW + 60 }), 'EXPIRED')
  })

  it('IP_NOT_ALLOWED: outside the range or IPv6; reported but not judged without ip', () => {
    const signed = custom(URL, { ipCidr: '203.0.113.0/24' })
    assertVerdict(inspectWithTestKeys(signed, { at: NOW, ip: '203.0.113.200' }), 'allow')
    assertVerdict(inspectWithTestKeys(signed, { at: NOW, ip: '::ffff:203.0.113.9' }), 'allow', 'IPv4-mapped')
    assertVerdict(inspectWithTestKeys(signed, { at: NOW, ip: '203.0.114.1' }), 'IP_NOT_ALLOWED')
    assertVerdict(inspectWithTestKeys(signed, { at: NOW, ip: '2001:db8::1' }), 'IP_NOT_ALLOWED', 'IPv6')
    const unjudged = inspectWithTestKeys(signed, at)
    assertVerdict(unjudged, 'allow')
    assert.equal(unjudged.checks.find((c) => c.name === 'ipAddress')?.outcome, 'skipped')
    assert.throws(() => inspectWithTestKeys(signed, { at: NOW, ip: 'not-an-ip' }), { code: 'INVALID_IP_ADDRESS' })
    assert.throws(() => inspectWithTestKeys(signed, { at: NOW, ip: '203.0.113.0/24' }), { code: 'INVALID_IP_ADDRESS' })
  })

  it('keeps checking after the first failure, so one answer shows every problem', () => {
    const inspection = inspectWithTestKeys(replaceParam(custom(`${URL}x`), 'Signature', flipChar(getParam(custom(`${URL}x`), 'Signature')!)), { at: NOW + 60 })
    assertVerdict(inspection, 'BAD_SIGNATURE')
    const failed = inspection.checks.filter((c) => c.outcome === 'fail').map((c) => c.reason)
    assert.deepEqual(failed, ['BAD_SIGNATURE', 'RESOURCE_MISMATCH', 'EXPIRED'])
  })

  it('reads a grant from CloudFront-* cookies when the URL carries none; URL parameters win', () => {
    const grant = sign(buildPolicy('https://media.example.com/hls/*', { expires: NOW + 60 }, true))
    const cookies: Record<string, string> = { ...buildSignedCookies(grant), session: 'unrelated' }
    const inspection = inspectWithTestKeys('https://media.example.com/hls/seg-001.ts?v=2', { at: NOW, cookies })
    assertVerdict(inspection, 'allow')
    assert.equal(inspection.source, 'cookies')
    assert.equal(inspection.resource, 'https://media.example.com/hls/seg-001.ts?v=2')
    assertVerdict(inspectWithTestKeys('https://media.example.com/videos/x.mp4', { at: NOW, cookies }), 'RESOURCE_MISMATCH', 'other folder')
    assertVerdict(inspectWithTestKeys(canned(), { at: NOW, cookies: { 'CloudFront-Signature': 'garbage' } }), 'allow', 'URL wins')
    const missing = inspectWithTestKeys(URL, { at: NOW, cookies: { 'CloudFront-Policy': cookies['CloudFront-Policy'] } })
    assertVerdict(missing, 'MISSING_PARAMS')
    assert.match(missing.checks[0].detail, /CloudFront-Signature/)
  })

  it('judges RTMP stream names: plain, Flash-escaped, or inside an rtmp:// URL', () => {
    const stream = buildSignedStream('mp4:videos/clip', sign(buildPolicy('mp4:videos/clip', { expires: NOW + 60 })))
    assertVerdict(inspectWithTestKeys(stream.stream, at), 'allow', 'plain')
    assertVerdict(inspectWithTestKeys(stream.streamEscaped, at), 'allow', 'escaped')
    const rtmpUrl = `rtmp://s5c39gqb8ow64r.cloudfront.net/cfx/st/${stream.stream}`
    const inspection = inspectWithTestKeys(rtmpUrl, at)
    assertVerdict(inspection, 'allow', 'rtmp URL')
    assert.equal(inspection.resource, 'mp4:videos/clip')
    assertVerdict(inspectWithTestKeys(stream.stream.replace('mp4:', ''), at), 'BAD_SIGNATURE', 'prefix dropped')
  })

  it('refuses input that is no URL or stream name at all', () => {
    assert.throws(() => inspectWithTestKeys('https://', at), { code: 'INVALID_URL' })
    assert.throws(() => inspectWithTestKeys('ftp://example.com/x', at), { code: 'INVALID_URL' })
    assert.throws(() => inspectWithTestKeys('rtmp://s5c39gqb8ow64r.cloudfront.net/live/x', at), { code: 'INVALID_URL' })
  })
})
