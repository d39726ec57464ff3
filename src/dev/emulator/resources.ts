// The six CloudFront resource families as data + hooks; cloudfront.ts serves them all with one set of handlers.
import { createPublicKey, randomUUID } from 'node:crypto'
import { ApiError, invalidArgument } from './errors.js'
import {
  ACCOUNT_ID,
  type Collection,
  type EmulatorState,
  newCanonicalUserId,
  newDomainName,
  newId,
  type StoredInvalidation,
  type StoredResource,
  toIso,
} from './state.js'
import { collect, itemsOf, nodeAt, textOf } from './xml.js'
import type { XmlNode, XmlValue } from './xml-node.js'

export interface ResourceKind {
  /** Root element of the resource and the noun of its operations: `Distribution` → `CreateDistribution`. */
  name: string
  plural: string
  /** Path under /2020-05-31. */
  path: string
  configRoot: string
  listRoot: string
  /** PublicKeyList and KeyGroupList carry only NextMarker, MaxItems, Quantity and Items. */
  reducedList?: boolean
  /** UpdateKeyGroup is `PUT /key-group/{Id}`; every other update is `PUT …/{Id}/config`. */
  updateSuffix: '' | '/config'
  withTags?: boolean
  notFound: ApiErrorFactory
  /** The member that is unique per account; an identical replay returns the original when `replayIdentical`. */
  identity: { member: 'CallerReference' | 'Name'; replayIdentical?: boolean; conflict(existing: StoredResource): ApiError }
  /** Member → error code when an update changes it. */
  immutable: Record<string, string>
  quota: { max: number; code: string }
  collection(state: EmulatorState): Collection<StoredResource>
  /** True when the family answers as if it no longer exists (RTMP after 2020). */
  isRetired?(state: EmulatorState): boolean
  /** The generated parts of a new resource: its Id and, for some families, a domain or canonical user id. */
  create(): Pick<StoredResource, 'id' | 'domainName' | 's3CanonicalUserId'>
  validate(config: XmlNode, state: EmulatorState, self?: StoredResource): void
  /** The resource body; `fresh` marks the answer to the write that just changed it. */
  present(resource: StoredResource, state: EmulatorState, fresh: boolean): XmlNode
  summarize(resource: StoredResource, state: EmulatorState): XmlNode
  checkDelete(resource: StoredResource, state: EmulatorState): void
}

type ApiErrorFactory = () => ApiError

const inUse = (code: string, message: string) => new ApiError(code, 409, message)

function pick(node: XmlNode, members: readonly string[]): XmlNode {
  return Object.fromEntries(members.map((member) => [member, node[member]]))
}

function unique(values: XmlValue[]): string[] {
  return [...new Set(values.map(textOf))]
}

function allDistributionConfigs(state: EmulatorState, except?: StoredResource): XmlNode[] {
  return [...state.distributions.values(), ...state.streamingDistributions.values()]
    .filter((resource) => resource !== except)
    .map((resource) => resource.config)
}

function deploymentStatus(resource: StoredResource, state: EmulatorState): 'Deployed' | 'InProgress' {
  return state.now() - resource.modifiedAt >= state.options.deploySeconds * 1000 ? 'Deployed' : 'InProgress'
}

export function invalidationStatus(invalidation: StoredInvalidation, state: EmulatorState): 'Completed' | 'InProgress' {
  return state.now() - invalidation.createdAt >= state.options.invalidationSeconds * 1000 ? 'Completed' : 'InProgress'
}

function oaiReference(id: string): string {
  return `origin-access-identity/cloudfront/${id}`
}

// ---- checks shared by web and streaming distributions ----

function checkAliases(config: XmlNode, state: EmulatorState, self: StoredResource | undefined, tooManyCode: string): void {
  const aliases = itemsOf(config.Aliases).map(textOf)
  if (aliases.length > 100) throw new ApiError(tooManyCode, 400, 'Your request contains more CNAMEs than are allowed per distribution.')
  const taken = new Set(allDistributionConfigs(state, self).flatMap((other) => itemsOf(other.Aliases).map((alias) => textOf(alias).toLowerCase())))
  if (aliases.some((alias) => taken.has(alias.toLowerCase()))) {
    throw new ApiError('CNAMEAlreadyExists', 409, 'One or more of the CNAMEs you provided are already associated with a different resource.')
  }
}

function checkOriginAccessIdentities(config: XmlNode, state: EmulatorState): void {
  for (const reference of collect(config, 'OriginAccessIdentity').map(textOf)) {
    const id = reference.startsWith(oaiReference('')) ? reference.slice(oaiReference('').length) : undefined
    if (reference !== '' && (id === undefined || state.originAccessIdentities.get(id) === undefined)) {
      throw new ApiError('InvalidOriginAccessIdentity', 400, 'The origin access identity is not valid or doesn\'t exist.')
    }
  }
}

function checkTrustedSigners(config: XmlNode): void {
  const signers = collect(config, 'TrustedSigners').flatMap(itemsOf).map(textOf)
  if (signers.length > 5) throw new ApiError('TooManyTrustedSigners', 400, 'Your request contains more trusted signers than are allowed per distribution.')
  const invalid = signers.find((signer) => signer !== 'self' && !/^\d{12}$/.test(signer))
  if (invalid !== undefined) throw new ApiError('TrustedSignerDoesNotExist', 400, `One or more of your trusted signers don't exist: ${invalid}.`)
}

function activeTrustedSigners(config: XmlNode): XmlNode {
  const lists = collect(config, 'TrustedSigners').map(nodeAt)
  const accounts = unique(lists.flatMap(itemsOf))
  return {
    Enabled: lists.some((list) => list.Enabled === true),
    Quantity: accounts.length,
    Items: accounts.map((account) => ({ AwsAccountNumber: account, KeyPairIds: { Quantity: 0 } })),
  }
}

function activeTrustedKeyGroups(config: XmlNode, state: EmulatorState): XmlNode {
  const lists = collect(config, 'TrustedKeyGroups').map(nodeAt)
  const groups = unique(lists.flatMap(itemsOf))
  return {
    Enabled: lists.some((list) => list.Enabled === true),
    Quantity: groups.length,
    Items: groups.map((id) => {
      const keys = itemsOf(state.keyGroups.get(id)?.config)
      return { KeyGroupId: id, KeyPairIds: { Quantity: keys.length, Items: keys } }
    }),
  }
}

// ---- checks only web distributions need ----

function checkWebDistribution(config: XmlNode, state: EmulatorState): void {
  const origins = itemsOf(config.Origins).map(nodeAt)
  if (origins.length === 0) throw invalidArgument('The parameter Origins must contain at least one origin.')
  const originIds = origins.map((origin) => textOf(origin.Id))
  if (new Set(originIds).size !== originIds.length) throw invalidArgument('The parameter Origin Id must be unique.')
  for (const origin of origins) {
    const oai = textOf(nodeAt(origin.S3OriginConfig).OriginAccessIdentity)
    const oac = textOf(origin.OriginAccessControlId)
    if (oac === '') continue
    if (oai !== '') {
      throw new ApiError('IllegalOriginAccessConfiguration', 400, 'An origin cannot use both an origin access control and an origin access identity.')
    }
    if (state.originAccessControls.get(oac) === undefined) {
      throw new ApiError('InvalidOriginAccessControl', 400, 'The origin access control is not valid or doesn\'t exist.')
    }
  }
  const targets = new Set([...originIds, ...itemsOf(config.OriginGroups).map((group) => textOf(nodeAt(group).Id))])
  for (const behavior of [config.DefaultCacheBehavior, ...itemsOf(config.CacheBehaviors)].map(nodeAt)) {
    if (!targets.has(textOf(behavior.TargetOriginId))) {
      throw new ApiError('NoSuchOrigin', 404, 'One or more of your origins or origin groups do not exist.')
    }
    if (behavior.CachePolicyId === undefined && behavior.ForwardedValues === undefined) {
      throw invalidArgument('The parameter ForwardedValues is required when CachePolicyId is not set.')
    }
  }
  const keyGroups = unique(collect(config, 'TrustedKeyGroups').flatMap(itemsOf))
  const missing = keyGroups.find((id) => state.keyGroups.get(id) === undefined)
  if (missing !== undefined) throw new ApiError('TrustedKeyGroupDoesNotExist', 400, `The trusted key group ${missing} does not exist.`)
  if (keyGroups.length > 4) {
    throw new ApiError('TooManyKeyGroupsAssociatedToDistribution', 400, 'The number of key groups referenced by this distribution is more than the maximum allowed.')
  }
}

// ---- web and streaming distributions ----

type DistributionResourceType = 'distribution' | 'streaming-distribution'

interface DistributionSpec {
  name: 'Distribution' | 'StreamingDistribution'
  resourceType: DistributionResourceType
  domainPrefix: 'd' | 's'
  summaryMembers: readonly string[]
  /** Computed members a summary carries besides the config's. */
  summaryExtras?(resource: StoredResource): XmlNode
  collection(state: EmulatorState): Collection<StoredResource>
  validate?(config: XmlNode, state: EmulatorState): void
  /** Computed members the resource body carries besides the header and the config. */
  presentExtras?(resource: StoredResource, state: EmulatorState): XmlNode
  isRetired?(state: EmulatorState): boolean
}

function distributionArn(resourceType: DistributionResourceType, id: string): string {
  return `arn:aws:cloudfront::${ACCOUNT_ID}:${resourceType}/${id}`
}

function createDistributionKind(spec: DistributionSpec): ResourceKind {
  const { name } = spec
  const label = name === 'Distribution' ? 'distribution' : 'streaming distribution'
  const header = (resource: StoredResource, state: EmulatorState, fresh: boolean): XmlNode => ({
    Id: resource.id,
    ARN: distributionArn(spec.resourceType, resource.id),
    Status: fresh ? 'InProgress' : deploymentStatus(resource, state),
    LastModifiedTime: toIso(resource.modifiedAt),
    DomainName: resource.domainName,
  })
  return {
    name,
    plural: `${name}s`,
    path: `/${spec.resourceType}`,
    configRoot: `${name}Config`,
    listRoot: `${name}List`,
    updateSuffix: '/config',
    withTags: true,
    notFound: () => new ApiError(`NoSuch${name}`, 404, `The specified ${label} does not exist.`),
    identity: {
      member: 'CallerReference',
      conflict: (existing) => new ApiError(
        `${name}AlreadyExists`,
        409,
        `The caller reference that you are using to create a ${label} is associated with another ${label}. Already exists: ${existing.id}`,
      ),
    },
    immutable: { CallerReference: 'IllegalUpdate' },
    quota: { max: 200, code: `TooMany${name}s` },
    collection: spec.collection,
    isRetired: spec.isRetired,
    create: () => ({ id: newId('E'), domainName: newDomainName(spec.domainPrefix) }),
    validate(config, state, self) {
      checkAliases(config, state, self, `TooMany${name}CNAMEs`)
      checkOriginAccessIdentities(config, state)
      checkTrustedSigners(config)
      spec.validate?.(config, state)
    },
    present: (resource, state, fresh) => ({
      ...header(resource, state, fresh),
      ActiveTrustedSigners: activeTrustedSigners(resource.config),
      ...spec.presentExtras?.(resource, state),
      [`${name}Config`]: resource.config,
    }),
    summarize: (resource, state) => ({
      ...header(resource, state, false),
      ...spec.summaryExtras?.(resource),
      ...pick(resource.config, spec.summaryMembers),
    }),
    checkDelete(resource, state) {
      if (resource.config.Enabled === true || deploymentStatus(resource, state) !== 'Deployed') {
        throw inUse(`${name}NotDisabled`, `The ${label} you are trying to delete has not been disabled.`)
      }
    },
  }
}

// ICP recordals only matter in China; elsewhere every alias reads as approved.
function aliasRecordals(config: XmlNode): XmlNode[] {
  return itemsOf(config.Aliases).map((alias) => ({ CNAME: alias, ICPRecordalStatus: 'APPROVED' }))
}

export const distributionKind = createDistributionKind({
  name: 'Distribution',
  resourceType: 'distribution',
  domainPrefix: 'd',
  summaryMembers: [
    'Aliases', 'Origins', 'OriginGroups', 'DefaultCacheBehavior', 'CacheBehaviors', 'CustomErrorResponses', 'Comment',
    'PriceClass', 'Enabled', 'ViewerCertificate', 'Restrictions', 'WebACLId', 'HttpVersion', 'IsIPV6Enabled', 'Staging',
  ],
  collection: (state) => state.distributions,
  validate: checkWebDistribution,
  presentExtras: (resource, state) => ({
    InProgressInvalidationBatches: state.invalidations
      .values()
      .filter((invalidation) => invalidation.distributionId === resource.id && invalidationStatus(invalidation, state) === 'InProgress').length,
    ActiveTrustedKeyGroups: activeTrustedKeyGroups(resource.config, state),
    AliasICPRecordals: aliasRecordals(resource.config),
  }),
  summaryExtras: (resource) => ({ ETag: resource.etag, AliasICPRecordals: aliasRecordals(resource.config) }),
})

export const streamingDistributionKind = createDistributionKind({
  name: 'StreamingDistribution',
  resourceType: 'streaming-distribution',
  domainPrefix: 's',
  summaryMembers: ['S3Origin', 'Aliases', 'TrustedSigners', 'Comment', 'PriceClass', 'Enabled'],
  collection: (state) => state.streamingDistributions,
  isRetired: (state) => state.options.rtmpMode === 'post-2020',
})

// ---- origin access identities and controls, public keys, key groups ----

export const originAccessIdentityKind: ResourceKind = {
  name: 'CloudFrontOriginAccessIdentity',
  plural: 'CloudFrontOriginAccessIdentities',
  path: '/origin-access-identity/cloudfront',
  configRoot: 'CloudFrontOriginAccessIdentityConfig',
  listRoot: 'CloudFrontOriginAccessIdentityList',
  updateSuffix: '/config',
  notFound: () => new ApiError('NoSuchCloudFrontOriginAccessIdentity', 404, 'The specified origin access identity does not exist.'),
  identity: {
    member: 'CallerReference',
    replayIdentical: true,
    conflict: () => new ApiError(
      'CloudFrontOriginAccessIdentityAlreadyExists',
      409,
      'If the CallerReference is a value you already sent in a previous request to create an identity but the content of the CloudFrontOriginAccessIdentityConfig is different from the original request, CloudFront returns a CloudFrontOriginAccessIdentityAlreadyExists error.',
    ),
  },
  immutable: { CallerReference: 'IllegalUpdate' },
  quota: { max: 100, code: 'TooManyCloudFrontOriginAccessIdentities' },
  collection: (state) => state.originAccessIdentities,
  create: () => ({ id: newId('E'), s3CanonicalUserId: newCanonicalUserId() }),
  validate: () => undefined,
  present: (resource) => ({
    Id: resource.id,
    S3CanonicalUserId: resource.s3CanonicalUserId,
    CloudFrontOriginAccessIdentityConfig: resource.config,
  }),
  summarize: (resource) => ({ Id: resource.id, S3CanonicalUserId: resource.s3CanonicalUserId, Comment: resource.config.Comment }),
  checkDelete(resource, state) {
    const reference = oaiReference(resource.id)
    if (allDistributionConfigs(state).some((config) => collect(config, 'OriginAccessIdentity').includes(reference))) {
      throw inUse('CloudFrontOriginAccessIdentityInUse', 'The CloudFront origin access identity is still being used.')
    }
  },
}

export const originAccessControlKind: ResourceKind = {
  name: 'OriginAccessControl',
  plural: 'OriginAccessControls',
  path: '/origin-access-control',
  configRoot: 'OriginAccessControlConfig',
  listRoot: 'OriginAccessControlList',
  updateSuffix: '/config',
  notFound: () => new ApiError('NoSuchOriginAccessControl', 404, 'The origin access control does not exist.'),
  identity: {
    member: 'Name',
    conflict: () => new ApiError('OriginAccessControlAlreadyExists', 409, 'An origin access control with the same name already exists.'),
  },
  immutable: {},
  quota: { max: 100, code: 'TooManyOriginAccessControls' },
  collection: (state) => state.originAccessControls,
  create: () => ({ id: newId('E') }),
  validate(config) {
    if (textOf(config.Name).length > 64) throw invalidArgument('The parameter Name is longer than 64 characters.')
  },
  present: (resource) => ({ Id: resource.id, OriginAccessControlConfig: resource.config }),
  summarize: (resource) => ({
    Id: resource.id,
    ...pick(resource.config, ['Description', 'Name', 'SigningProtocol', 'SigningBehavior', 'OriginAccessControlOriginType']),
  }),
  checkDelete(resource, state) {
    if (allDistributionConfigs(state).some((config) => collect(config, 'OriginAccessControlId').includes(resource.id))) {
      throw inUse('OriginAccessControlInUse', 'Cannot delete this origin access control because it\'s in use by one or more distributions.')
    }
  },
}

export const publicKeyKind: ResourceKind = {
  name: 'PublicKey',
  plural: 'PublicKeys',
  path: '/public-key',
  configRoot: 'PublicKeyConfig',
  listRoot: 'PublicKeyList',
  reducedList: true,
  updateSuffix: '/config',
  notFound: () => new ApiError('NoSuchPublicKey', 404, 'The specified public key doesn\'t exist.'),
  identity: {
    member: 'CallerReference',
    conflict: () => new ApiError('PublicKeyAlreadyExists', 409, 'The specified public key already exists.'),
  },
  immutable: { CallerReference: 'IllegalUpdate', EncodedKey: 'CannotChangeImmutablePublicKeyFields' },
  quota: { max: 10, code: 'TooManyPublicKeys' },
  collection: (state) => state.publicKeys,
  create: () => ({ id: newId('K') }),
  validate(config) {
    if (!isSupportedPublicKey(textOf(config.EncodedKey))) {
      throw invalidArgument('The parameter EncodedKey must be a PEM RSA-2048 or ECDSA P-256 public key.')
    }
  },
  present: (resource) => ({ Id: resource.id, CreatedTime: toIso(resource.createdAt), PublicKeyConfig: resource.config }),
  summarize: (resource) => ({
    Id: resource.id,
    Name: resource.config.Name,
    CreatedTime: toIso(resource.createdAt),
    EncodedKey: resource.config.EncodedKey,
    Comment: resource.config.Comment,
  }),
  checkDelete(resource, state) {
    if (state.keyGroups.values().some((group) => itemsOf(group.config).includes(resource.id))) {
      throw inUse('PublicKeyInUse', 'The specified public key is in use.')
    }
  },
}

function isSupportedPublicKey(pem: string): boolean {
  try {
    const key = createPublicKey(pem)
    const details = key.asymmetricKeyDetails
    return (key.asymmetricKeyType === 'rsa' && details?.modulusLength === 2048) ||
      (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1')
  } catch {
    return false
  }
}

function presentKeyGroup(resource: StoredResource): XmlNode {
  return { Id: resource.id, LastModifiedTime: toIso(resource.modifiedAt), KeyGroupConfig: resource.config }
}

export const keyGroupKind: ResourceKind = {
  name: 'KeyGroup',
  plural: 'KeyGroups',
  path: '/key-group',
  configRoot: 'KeyGroupConfig',
  listRoot: 'KeyGroupList',
  reducedList: true,
  updateSuffix: '',
  notFound: () => new ApiError('NoSuchResource', 404, 'The specified key group does not exist.'),
  identity: {
    member: 'Name',
    conflict: () => new ApiError('KeyGroupAlreadyExists', 409, 'A key group with this name already exists.'),
  },
  immutable: {},
  quota: { max: 10, code: 'TooManyKeyGroups' },
  collection: (state) => state.keyGroups,
  create: () => ({ id: randomUUID() }),
  validate(config, state) {
    const keys = itemsOf(config).map(textOf)
    if (keys.length === 0) throw invalidArgument('A key group must contain at least one public key.')
    if (keys.length > 5) throw new ApiError('TooManyPublicKeysInKeyGroup', 400, 'The number of public keys in this key group is more than the maximum allowed.')
    const missing = keys.find((id) => state.publicKeys.get(id) === undefined)
    if (missing !== undefined) throw invalidArgument(`The public key ${missing} does not exist.`)
  },
  present: presentKeyGroup,
  summarize: (resource) => ({ KeyGroup: presentKeyGroup(resource) }),
  checkDelete(resource, state) {
    if (allDistributionConfigs(state).some((config) => collect(config, 'TrustedKeyGroups').flatMap(itemsOf).includes(resource.id))) {
      throw inUse('ResourceInUse', 'Cannot delete this key group because it is in use by one or more distributions.')
    }
  },
}

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  distributionKind,
  streamingDistributionKind,
  originAccessIdentityKind,
  originAccessControlKind,
  publicKeyKind,
  keyGroupKind,
]
