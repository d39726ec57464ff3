import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CreateCloudFrontOriginAccessIdentityCommand,
  CreateDistributionCommand,
  CreateKeyGroupCommand,
  CreateOriginAccessControlCommand,
  CreatePublicKeyCommand,
  DeleteCloudFrontOriginAccessIdentityCommand,
  DeleteDistributionCommand,
  DeleteKeyGroupCommand,
  DeleteOriginAccessControlCommand,
  DeletePublicKeyCommand,
  GetCloudFrontOriginAccessIdentityCommand,
  GetCloudFrontOriginAccessIdentityConfigCommand,
  GetDistributionCommand,
  GetKeyGroupCommand,
  GetKeyGroupConfigCommand,
  GetOriginAccessControlCommand,
  GetOriginAccessControlConfigCommand,
  GetPublicKeyCommand,
  GetPublicKeyConfigCommand,
  ListCloudFrontOriginAccessIdentitiesCommand,
  ListKeyGroupsCommand,
  ListOriginAccessControlsCommand,
  ListPublicKeysCommand,
  type OriginAccessControlConfig,
  UpdateCloudFrontOriginAccessIdentityCommand,
  UpdateDistributionCommand,
  UpdateKeyGroupCommand,
  UpdateOriginAccessControlCommand,
  UpdatePublicKeyCommand,
} from '@aws-sdk/client-cloudfront'
import { generatePublicKeyPem, rejectsWith, uniqueReference, useEmulator, webDistributionConfig } from './helpers.js'

function s3Origin(extra: { OriginAccessIdentity?: string; OriginAccessControlId?: string }) {
  return {
    Quantity: 1,
    Items: [{
      Id: 's3-mybucket',
      DomainName: 'mybucket.s3.amazonaws.com',
      S3OriginConfig: { OriginAccessIdentity: extra.OriginAccessIdentity ?? '' },
      ...(extra.OriginAccessControlId !== undefined && { OriginAccessControlId: extra.OriginAccessControlId }),
    }],
  }
}

describe('origin access identities', () => {
  const context = useEmulator()

  it('round-trips create, get, get config, list, update and delete', async () => {
    const { cloudfront } = context
    const config = { CallerReference: uniqueReference('oai'), Comment: 'for mybucket' }
    const created = await cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({ CloudFrontOriginAccessIdentityConfig: config }))
    const identity = created.CloudFrontOriginAccessIdentity!
    assert.equal(created.$metadata.httpStatusCode, 201)
    assert.match(identity.S3CanonicalUserId!, /^[0-9a-f]{64}$/)
    assert.equal(created.Location, `https://cloudfront.amazonaws.com/2020-05-31/origin-access-identity/cloudfront/${identity.Id}`)

    // Same CallerReference and config: the original comes back; a different config conflicts.
    const replay = await cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({ CloudFrontOriginAccessIdentityConfig: config }))
    assert.equal(replay.CloudFrontOriginAccessIdentity!.Id, identity.Id)
    await rejectsWith(cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({
      CloudFrontOriginAccessIdentityConfig: { ...config, Comment: 'other' },
    })), 'CloudFrontOriginAccessIdentityAlreadyExists', 409)

    const got = await cloudfront.send(new GetCloudFrontOriginAccessIdentityCommand({ Id: identity.Id }))
    assert.equal(got.CloudFrontOriginAccessIdentity!.S3CanonicalUserId, identity.S3CanonicalUserId)
    const listed = await cloudfront.send(new ListCloudFrontOriginAccessIdentitiesCommand({}))
    assert.deepEqual(listed.CloudFrontOriginAccessIdentityList!.Items!.map((item) => [item.Id, item.Comment]), [[identity.Id, 'for mybucket']])
    const current = await cloudfront.send(new GetCloudFrontOriginAccessIdentityConfigCommand({ Id: identity.Id }))
    const updated = await cloudfront.send(new UpdateCloudFrontOriginAccessIdentityCommand({
      Id: identity.Id,
      IfMatch: current.ETag,
      CloudFrontOriginAccessIdentityConfig: { ...current.CloudFrontOriginAccessIdentityConfig!, Comment: 'renamed' },
    }))
    assert.equal(updated.CloudFrontOriginAccessIdentity!.CloudFrontOriginAccessIdentityConfig!.Comment, 'renamed')
    await rejectsWith(cloudfront.send(new UpdateCloudFrontOriginAccessIdentityCommand({
      Id: identity.Id,
      IfMatch: updated.ETag,
      CloudFrontOriginAccessIdentityConfig: { CallerReference: 'another', Comment: 'renamed' },
    })), 'IllegalUpdate', 400)
    await cloudfront.send(new DeleteCloudFrontOriginAccessIdentityCommand({ Id: identity.Id, IfMatch: updated.ETag }))
    await rejectsWith(cloudfront.send(new GetCloudFrontOriginAccessIdentityCommand({ Id: identity.Id })), 'NoSuchCloudFrontOriginAccessIdentity', 404)
  })

  it('refuses to delete an identity a distribution uses, until the distribution is gone', async () => {
    const { cloudfront } = context
    const identity = await cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({
      CloudFrontOriginAccessIdentityConfig: { CallerReference: uniqueReference('oai'), Comment: '' },
    }))
    const Id = identity.CloudFrontOriginAccessIdentity!.Id!
    const distribution = await cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({ Origins: s3Origin({ OriginAccessIdentity: `origin-access-identity/cloudfront/${Id}` }) }),
    }))
    await rejectsWith(cloudfront.send(new DeleteCloudFrontOriginAccessIdentityCommand({ Id, IfMatch: identity.ETag })), 'CloudFrontOriginAccessIdentityInUse', 409)
    const disabled = await cloudfront.send(new UpdateDistributionCommand({
      Id: distribution.Distribution!.Id,
      IfMatch: distribution.ETag,
      DistributionConfig: { ...distribution.Distribution!.DistributionConfig!, Enabled: false },
    }))
    await cloudfront.send(new DeleteDistributionCommand({ Id: distribution.Distribution!.Id, IfMatch: disabled.ETag }))
    const deleted = await cloudfront.send(new DeleteCloudFrontOriginAccessIdentityCommand({ Id, IfMatch: identity.ETag }))
    assert.equal(deleted.$metadata.httpStatusCode, 204)
  })
})

describe('origin access controls', () => {
  const context = useEmulator()
  const oacConfig = (name: string): OriginAccessControlConfig => ({
    Name: name,
    SigningProtocol: 'sigv4',
    SigningBehavior: 'always',
    OriginAccessControlOriginType: 's3',
  })

  it('round-trips create, get, list, update and delete, with unique names', async () => {
    const { cloudfront } = context
    const created = await cloudfront.send(new CreateOriginAccessControlCommand({ OriginAccessControlConfig: oacConfig('media-oac') }))
    const Id = created.OriginAccessControl!.Id!
    assert.equal(created.$metadata.httpStatusCode, 201)
    assert.equal(created.OriginAccessControl!.OriginAccessControlConfig!.Description, '')
    await rejectsWith(cloudfront.send(new CreateOriginAccessControlCommand({ OriginAccessControlConfig: oacConfig('media-oac') })), 'OriginAccessControlAlreadyExists', 409)
    await rejectsWith(cloudfront.send(new CreateOriginAccessControlCommand({
      OriginAccessControlConfig: { ...oacConfig('bad'), SigningBehavior: 'sometimes' as never },
    })), 'InvalidArgument', 400)

    const got = await cloudfront.send(new GetOriginAccessControlCommand({ Id }))
    assert.equal(got.ETag, created.ETag)
    const listed = await cloudfront.send(new ListOriginAccessControlsCommand({}))
    assert.equal(listed.OriginAccessControlList!.Items![0]!.Name, 'media-oac')
    assert.equal(listed.OriginAccessControlList!.IsTruncated, false)
    const current = await cloudfront.send(new GetOriginAccessControlConfigCommand({ Id }))
    const updated = await cloudfront.send(new UpdateOriginAccessControlCommand({
      Id,
      IfMatch: current.ETag,
      OriginAccessControlConfig: { ...current.OriginAccessControlConfig!, SigningBehavior: 'no-override' },
    }))
    assert.equal(updated.OriginAccessControl!.OriginAccessControlConfig!.SigningBehavior, 'no-override')
    await cloudfront.send(new DeleteOriginAccessControlCommand({ Id, IfMatch: updated.ETag }))
    await rejectsWith(cloudfront.send(new GetOriginAccessControlCommand({ Id })), 'NoSuchOriginAccessControl', 404)
  })

  it('checks how distributions use it: exists, not combined with an OAI, not deleted while in use', async () => {
    const { cloudfront } = context
    const oac = await cloudfront.send(new CreateOriginAccessControlCommand({ OriginAccessControlConfig: oacConfig(uniqueReference('oac')) }))
    const Id = oac.OriginAccessControl!.Id!
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({ Origins: s3Origin({ OriginAccessControlId: 'EMISSINGOAC000' }) }),
    })), 'InvalidOriginAccessControl', 400)
    const oai = await cloudfront.send(new CreateCloudFrontOriginAccessIdentityCommand({
      CloudFrontOriginAccessIdentityConfig: { CallerReference: uniqueReference('oai'), Comment: '' },
    }))
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: webDistributionConfig({
        Origins: s3Origin({ OriginAccessControlId: Id, OriginAccessIdentity: `origin-access-identity/cloudfront/${oai.CloudFrontOriginAccessIdentity!.Id}` }),
      }),
    })), 'IllegalOriginAccessConfiguration', 400)
    await cloudfront.send(new CreateDistributionCommand({ DistributionConfig: webDistributionConfig({ Origins: s3Origin({ OriginAccessControlId: Id }) }) }))
    await rejectsWith(cloudfront.send(new DeleteOriginAccessControlCommand({ Id, IfMatch: oac.ETag })), 'OriginAccessControlInUse', 409)
  })
})

describe('public keys and key groups', () => {
  const context = useEmulator()

  it('round-trips public keys and refuses to change the encoded key', async () => {
    const { cloudfront } = context
    const EncodedKey = generatePublicKeyPem()
    const created = await cloudfront.send(new CreatePublicKeyCommand({
      PublicKeyConfig: { CallerReference: uniqueReference('key'), Name: 'signer-2024', EncodedKey, Comment: 'rotation 1' },
    }))
    const Id = created.PublicKey!.Id!
    assert.match(Id, /^K[A-Z0-9]{13}$/)
    assert.equal(created.PublicKey!.PublicKeyConfig!.EncodedKey, EncodedKey)
    assert.ok(created.PublicKey!.CreatedTime instanceof Date, 'created.PublicKey!.CreatedTime instanceof Date')
    const got = await cloudfront.send(new GetPublicKeyCommand({ Id }))
    assert.equal(got.ETag, created.ETag)
    const listed = await cloudfront.send(new ListPublicKeysCommand({ MaxItems: 1 }))
    assert.equal(listed.PublicKeyList!.Items![0]!.Name, 'signer-2024')
    assert.equal(listed.PublicKeyList!.Quantity, 1)
    const current = await cloudfront.send(new GetPublicKeyConfigCommand({ Id }))
    const renamed = await cloudfront.send(new UpdatePublicKeyCommand({
      Id, IfMatch: current.ETag, PublicKeyConfig: { ...current.PublicKeyConfig!, Comment: 'rotation 2' },
    }))
    assert.equal(renamed.PublicKey!.PublicKeyConfig!.Comment, 'rotation 2')
    await rejectsWith(cloudfront.send(new UpdatePublicKeyCommand({
      Id, IfMatch: renamed.ETag, PublicKeyConfig: { ...current.PublicKeyConfig!, EncodedKey: generatePublicKeyPem() },
    })), 'CannotChangeImmutablePublicKeyFields', 400)
    await rejectsWith(cloudfront.send(new CreatePublicKeyCommand({
      PublicKeyConfig: { CallerReference: uniqueReference('key'), Name: 'broken', EncodedKey: 'not a key' },
    })), 'InvalidArgument', 400)
    await cloudfront.send(new DeletePublicKeyCommand({ Id, IfMatch: renamed.ETag }))
    await rejectsWith(cloudfront.send(new GetPublicKeyCommand({ Id })), 'NoSuchPublicKey', 404)
  })

  it('round-trips key groups, computes ActiveTrustedKeyGroups and guards deletes', async () => {
    const { cloudfront } = context
    const key = await cloudfront.send(new CreatePublicKeyCommand({
      PublicKeyConfig: { CallerReference: uniqueReference('key'), Name: 'group-key', EncodedKey: generatePublicKeyPem() },
    }))
    const keyId = key.PublicKey!.Id!
    const group = await cloudfront.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'signers', Items: [keyId] } }))
    const groupId = group.KeyGroup!.Id!
    assert.match(groupId, /^[0-9a-f-]{36}$/)
    await rejectsWith(cloudfront.send(new CreateKeyGroupCommand({ KeyGroupConfig: { Name: 'signers', Items: [keyId] } })), 'KeyGroupAlreadyExists', 409)
    await rejectsWith(cloudfront.send(new CreateKeyGroupCommand({
      KeyGroupConfig: { Name: 'six', Items: Array.from({ length: 6 }, () => keyId) },
    })), 'TooManyPublicKeysInKeyGroup', 400)
    assert.deepEqual((await cloudfront.send(new GetKeyGroupConfigCommand({ Id: groupId }))).KeyGroupConfig!.Items, [keyId])
    const listed = await cloudfront.send(new ListKeyGroupsCommand({}))
    assert.equal(listed.KeyGroupList!.Items![0]!.KeyGroup!.Id, groupId)

    await rejectsWith(cloudfront.send(new DeletePublicKeyCommand({ Id: keyId, IfMatch: key.ETag })), 'PublicKeyInUse', 409)
    const base = webDistributionConfig()
    await rejectsWith(cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: { ...base, DefaultCacheBehavior: { ...base.DefaultCacheBehavior!, TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: ['00000000-0000-0000-0000-000000000000'] } } },
    })), 'TrustedKeyGroupDoesNotExist', 400)
    const distribution = await cloudfront.send(new CreateDistributionCommand({
      DistributionConfig: { ...base, DefaultCacheBehavior: { ...base.DefaultCacheBehavior!, TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [groupId] } } },
    }))
    const got = await cloudfront.send(new GetDistributionCommand({ Id: distribution.Distribution!.Id }))
    assert.deepEqual(got.Distribution!.ActiveTrustedKeyGroups, {
      Enabled: true,
      Quantity: 1,
      Items: [{ KeyGroupId: groupId, KeyPairIds: { Quantity: 1, Items: [keyId] } }],
    })
    assert.deepEqual(got.Distribution!.ActiveTrustedSigners, { Enabled: false, Quantity: 0 })
    await rejectsWith(cloudfront.send(new DeleteKeyGroupCommand({ Id: groupId, IfMatch: group.ETag })), 'ResourceInUse', 409)

    const updated = await cloudfront.send(new UpdateKeyGroupCommand({
      Id: groupId, IfMatch: group.ETag, KeyGroupConfig: { Name: 'signers-renamed', Items: [keyId], Comment: 'renamed' },
    }))
    assert.equal((await cloudfront.send(new GetKeyGroupCommand({ Id: groupId }))).KeyGroup!.KeyGroupConfig!.Name, 'signers-renamed')
    await rejectsWith(cloudfront.send(new UpdateKeyGroupCommand({
      Id: groupId, IfMatch: group.ETag, KeyGroupConfig: { Name: 'x', Items: [keyId] },
    })), 'PreconditionFailed', 412)
    await rejectsWith(cloudfront.send(new GetKeyGroupCommand({ Id: '11111111-1111-1111-1111-111111111111' })), 'NoSuchResource', 404)
    assert.notEqual(updated.ETag, group.ETag)
  })
})
