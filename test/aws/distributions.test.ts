import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { applyDistributionPatch, buildDistributionConfig } from '../../src/aws/distributions/web.js'

describe('buildDistributionConfig', () => {
  it('leaves Items out of every empty list (CloudFront has refused <Items/>)', () => {
    const config = buildDistributionConfig({ origin: { domainName: 'mybucket.s3.amazonaws.com' } }, 'ref-1')
    assert.deepEqual(config.Aliases, { Quantity: 0 })
    assert.deepEqual(config.DefaultCacheBehavior?.TrustedSigners, { Enabled: false, Quantity: 0 })
    assert.deepEqual(config.DefaultCacheBehavior?.TrustedKeyGroups, { Enabled: false, Quantity: 0 })
    assert.doesNotMatch(JSON.stringify(config), /"Items":\[\]/)
  })

  it('makes an S3 domain without access settings a public S3 origin, any other domain a custom https-only one', () => {
    const s3 = buildDistributionConfig({ origin: { domainName: 'mybucket.s3.eu-west-1.amazonaws.com' } }, 'ref').Origins?.Items?.[0]
    assert.deepEqual(s3?.S3OriginConfig, { OriginAccessIdentity: '' })
    const custom = buildDistributionConfig({ origin: { domainName: 'blog.example.com' } }, 'ref').Origins?.Items?.[0]
    assert.deepEqual(custom?.CustomOriginConfig, { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'https-only' })
  })
})

describe('applyDistributionPatch', () => {
  const base = () => buildDistributionConfig({ origin: { domainName: 'mybucket.s3.amazonaws.com', originAccessIdentity: 'EOAI1' }, aliases: ['a.example.com'] }, 'ref')

  it('switches the origin from an OAI to an OAC, clearing the OAI', () => {
    const origin = applyDistributionPatch(base(), { origin: { originAccessControlId: 'EOAC1' } }).Origins?.Items?.[0]
    assert.equal(origin?.OriginAccessControlId, 'EOAC1')
    assert.equal(origin?.S3OriginConfig?.OriginAccessIdentity, '')
  })

  it('switches to a custom origin, dropping the S3 settings', () => {
    const origin = applyDistributionPatch(base(), { origin: { domainName: 'blog.example.com', customOriginConfig: { httpPort: 8080, httpsPort: 8443, originProtocolPolicy: 'match-viewer' } } }).Origins?.Items?.[0]
    assert.equal(origin?.DomainName, 'blog.example.com')
    assert.equal(origin?.S3OriginConfig, undefined)
    assert.deepEqual(origin?.CustomOriginConfig, { HTTPPort: 8080, HTTPSPort: 8443, OriginProtocolPolicy: 'match-viewer' })
  })

  it('refuses a custom origin with an origin access identity in the same change', () => {
    assert.throws(
      () => applyDistributionPatch(base(), { origin: { originAccessIdentity: 'EOAI2', customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'http-only' } } }),
      { code: 'VALIDATION_ERROR' },
    )
  })

  it('keeps the CallerReference and every field the change does not name', () => {
    const patched = applyDistributionPatch(base(), { enabled: false })
    assert.equal(patched.CallerReference, 'ref')
    assert.equal(patched.Enabled, false)
    assert.deepEqual(patched.Aliases, { Quantity: 1, Items: ['a.example.com'] })
  })
})
