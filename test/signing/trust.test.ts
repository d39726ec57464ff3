import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { judgeKeyTrust, matchBehaviour, type DistributionTrust } from '../../src/signing/trust.js'

const GROUP = '5f1c2e3d-0000-4000-8000-000000000001'
const OTHER = '5f1c2e3d-0000-4000-8000-000000000002'
const TRUST: DistributionTrust = {
  id: 'EDFDVBD632BHDS5',
  behaviours: [
    { pathPattern: '/images/*.jpg', trustedKeyGroupIds: [], trustedSigners: [] },
    { pathPattern: 'images/*', trustedKeyGroupIds: [OTHER], trustedSigners: [] },
    { pathPattern: '/v?/*', trustedKeyGroupIds: [], trustedSigners: ['self', '111122223333'] },
  ],
  defaultBehaviour: { pathPattern: '*', trustedKeyGroupIds: [GROUP], trustedSigners: [] },
  keyGroups: { [GROUP]: ['K2JCJMDEHXQW5F'], [OTHER]: ['K3ECDSATEST0001'] },
}

describe('matchBehaviour', () => {
  it('takes the first pattern that matches, in order, else the default; * any run, ? one character, case-sensitive, / optional', () => {
    const at = (path: string) => matchBehaviour(TRUST, path).pathPattern
    assert.equal(at('/images/a/b.jpg'), '/images/*.jpg', 'the first of two matching patterns')
    assert.equal(at('/images/a.png'), 'images/*', 'a pattern written without its leading /')
    assert.equal(at('/v1/clip.mp4'), '/v?/*')
    assert.equal(at('/v12/clip.mp4'), '*', '? is one character')
    assert.equal(at('/Images/a.jpg'), '*', 'case-sensitive')
    assert.equal(at('/videos/a.mp4'), '*')
  })
})

describe('judgeKeyTrust', () => {
  it('names the key group that trusts the key, and each way a Key-Pair-Id is wrong', () => {
    const judged = (path: string, keyId: string | null) => {
      const { trusted, reason } = judgeKeyTrust(TRUST, path, keyId)
      return { trusted, reason }
    }
    assert.deepEqual(judged('/videos/a.mp4', 'K2JCJMDEHXQW5F'), { trusted: true, reason: null })
    assert.deepEqual(judged('/images/a.png', 'K2JCJMDEHXQW5F'), { trusted: false, reason: 'KEY_NOT_TRUSTED' })
    assert.deepEqual(judged('/images/a.jpg', 'K2JCJMDEHXQW5F'), { trusted: null, reason: 'SIGNING_NOT_REQUIRED' })
    assert.deepEqual(judged('/videos/a.mp4', GROUP), { trusted: false, reason: 'KEY_GROUP_ID_AS_KEY_ID' })
    assert.deepEqual(judged('/videos/a.mp4', '9e0b0f3a-1111-4111-8111-111111111111'), { trusted: false, reason: 'KEY_GROUP_ID_AS_KEY_ID' }, 'any key group ID shape')
    assert.deepEqual(judged('/videos/a.mp4', 'APKAEIBAERJR2EXAMPLE'), { trusted: false, reason: 'LEGACY_KEY_PAIR_ID' })
    assert.deepEqual(judged('/v1/a.mp4', 'APKAEIBAERJR2EXAMPLE'), { trusted: null, reason: null }, 'trusted signers: cannot be listed')
    assert.deepEqual(judged('/v1/a.mp4', 'K2JCJMDEHXQW5F'), { trusted: false, reason: 'KEY_NOT_TRUSTED' }, 'trusted signers need a key pair')
    assert.deepEqual(judged('/videos/a.mp4', null), { trusted: null, reason: null })
    assert.match(judgeKeyTrust(TRUST, '/images/a.png', 'K2JCJMDEHXQW5F').detail, new RegExp(`${OTHER} \\(K3ECDSATEST0001\\)`))
  })
})
