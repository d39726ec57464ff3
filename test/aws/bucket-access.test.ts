import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mergeReadStatement, oacPrincipal, oaiArn, oaiPrincipal, objectResource } from '../../src/aws/bucket-access.js'

const OAI = oaiPrincipal('E74FTE3AJFJ256A', 'a'.repeat(64))
const RESOURCE = objectResource('mybucket', 'videos/')

describe('mergeReadStatement', () => {
  it('starts a policy for a bucket that has none', () => {
    const { policy, statementId } = mergeReadStatement(undefined, OAI, RESOURCE)
    assert.deepEqual(JSON.parse(policy!), {
      Version: '2012-10-17',
      Statement: [{ Sid: statementId, Effect: 'Allow', Principal: { AWS: oaiArn('E74FTE3AJFJ256A') }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::mybucket/videos/*' }],
    })
    assert.match(statementId, /^CfSignerRead[0-9a-f]{12}$/)
  })

  it('keeps every other member and statement, including a single statement given as an object', () => {
    const current = JSON.stringify({ Version: '2008-10-17', Id: 'keep', Statement: { Sid: 'Other', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::mybucket/secret/*' } })
    const merged = JSON.parse(mergeReadStatement(current, OAI, RESOURCE).policy!)
    assert.equal(merged.Version, '2008-10-17')
    assert.equal(merged.Id, 'keep')
    assert.equal(merged.Statement.length, 2)
    assert.equal(merged.Statement[0].Sid, 'Other')
  })

  it('writes nothing when a statement already grants the read, in either principal form or with a wider action', () => {
    for (const statement of [
      { Effect: 'Allow', Principal: { AWS: [oaiArn('E74FTE3AJFJ256A')] }, Action: ['s3:GetObject'], Resource: [RESOURCE] },
      { Sid: 'Canon', Effect: 'Allow', Principal: { CanonicalUser: 'a'.repeat(64) }, Action: 's3:*', Resource: RESOURCE },
    ]) {
      const result = mergeReadStatement(JSON.stringify({ Version: '2012-10-17', Statement: [statement] }), OAI, RESOURCE)
      assert.equal(result.policy, undefined, JSON.stringify(statement))
    }
  })

  it('does not count a Deny, another resource, or a condition the grant lacks as the same read', () => {
    for (const statement of [
      { Effect: 'Deny', Principal: { AWS: oaiArn('E74FTE3AJFJ256A') }, Action: 's3:GetObject', Resource: RESOURCE },
      { Effect: 'Allow', Principal: { AWS: oaiArn('E74FTE3AJFJ256A') }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::mybucket/*' },
      { Effect: 'Allow', Principal: { AWS: oaiArn('E74FTE3AJFJ256A') }, Action: 's3:GetObject', Resource: RESOURCE, Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
    ]) {
      const result = mergeReadStatement(JSON.stringify({ Statement: [statement] }), OAI, RESOURCE)
      assert.ok(result.policy !== undefined, JSON.stringify(statement))
    }
  })

  it('matches an OAC grant by the distribution it names', () => {
    const first = JSON.parse(mergeReadStatement(undefined, oacPrincipal('arn:aws:cloudfront::123456789012:distribution/EA'), RESOURCE).policy!)
    assert.deepEqual(first.Statement[0].Condition, { StringEquals: { 'AWS:SourceArn': 'arn:aws:cloudfront::123456789012:distribution/EA' } })
    const again = mergeReadStatement(JSON.stringify(first), oacPrincipal('arn:aws:cloudfront::123456789012:distribution/EA'), RESOURCE)
    assert.equal(again.policy, undefined)
    const other = mergeReadStatement(JSON.stringify(first), oacPrincipal('arn:aws:cloudfront::123456789012:distribution/EB'), RESOURCE)
    assert.equal(JSON.parse(other.policy!).Statement.length, 2)
  })

  it('picks a Sid no other statement has', () => {
    const { statementId } = mergeReadStatement(undefined, OAI, RESOURCE)
    const taken = JSON.stringify({ Statement: [{ Sid: statementId, Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: RESOURCE }] })
    assert.equal(mergeReadStatement(taken, OAI, RESOURCE).statementId, `${statementId}2`)
  })

  it('refuses to touch a policy that is not JSON', () => {
    assert.throws(() => mergeReadStatement('{not json', OAI, RESOURCE), { code: 'UPSTREAM_ERROR' })
  })
})
