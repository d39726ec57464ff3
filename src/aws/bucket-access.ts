// Bucket access: letting CloudFront read a private bucket, by a statement merged into the bucket
// policy, or (legacy, OAI only) a READ entry in each object's ACL.
import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import {
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  type Grant as AclEntry,
} from '@aws-sdk/client-s3'
import { appError } from '../http/errors.js'
import type { AwsAccount } from './accounts.js'
import { codeOf } from './errors.js'

export interface PolicyStatement {
  Sid?: string
  Effect?: string
  Principal?: unknown
  Action?: string | string[]
  Resource?: string | string[]
  Condition?: unknown
  [other: string]: unknown
}

interface PolicyDocument {
  Version?: string
  Statement?: PolicyStatement | PolicyStatement[]
  [other: string]: unknown
}

/** Who a statement lets read: the principal it names, and how to recognise it in a statement S3 hands back. */
export interface ReadPrincipal {
  principal: Record<string, string>
  condition?: Record<string, unknown>
  /** Every form S3 may return the principal in (it rewrites CanonicalUser into the OAI's ARN). */
  matches: (principal: unknown) => boolean
  label: string
}

export interface BucketAccessResult {
  bucket: string
  prefix: string
  method: 'policy' | 'acl'
  principal: string
  /** False when the access was already there: nothing was written. */
  changed: boolean
  resource?: string
  statementId?: string
  objects?: number
  objectsChanged?: number
}

const POLICY_VERSION = '2012-10-17'
const CLOUDFRONT_SERVICE = 'cloudfront.amazonaws.com'
// Objects whose ACLs are read and written at once on the ACL way.
const ACL_CONCURRENCY = 8

function valuesOf(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

function principalHas(principal: unknown, kind: string, accepted: readonly string[]): boolean {
  if (principal === null || typeof principal !== 'object') return false
  return valuesOf((principal as Record<string, unknown>)[kind]).some((value) => accepted.includes(value))
}

export function oaiArn(oaiId: string): string {
  return `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ${oaiId}`
}

/** An OAI, named by its ARN (the form S3 keeps), recognised by either form. */
export function oaiPrincipal(oaiId: string, canonicalUserId: string): ReadPrincipal {
  return {
    principal: { AWS: oaiArn(oaiId) },
    matches: (principal) => principalHas(principal, 'AWS', [oaiArn(oaiId)]) || principalHas(principal, 'CanonicalUser', [canonicalUserId]),
    label: oaiArn(oaiId),
  }
}

/** CloudFront's service principal, limited to one distribution (the OAC way). */
export function oacPrincipal(distributionArn: string): ReadPrincipal {
  const condition = { StringEquals: { 'AWS:SourceArn': distributionArn } }
  return {
    principal: { Service: CLOUDFRONT_SERVICE },
    condition,
    matches: (principal) => principalHas(principal, 'Service', [CLOUDFRONT_SERVICE]),
    label: `${CLOUDFRONT_SERVICE} (AWS:SourceArn ${distributionArn})`,
  }
}

/** Objects whose keys start with the prefix (no leading `/`); an empty prefix is the whole bucket. */
export function objectResource(bucket: string, prefix: string): string {
  return `arn:aws:s3:::${bucket}/${prefix}*`
}

function allowsRead(statement: PolicyStatement, reader: ReadPrincipal, resource: string): boolean {
  if (statement.Effect !== 'Allow' || 'NotPrincipal' in statement || 'NotAction' in statement || 'NotResource' in statement) return false
  const actions = valuesOf(statement.Action).map((a) => a.toLowerCase())
  return (
    reader.matches(statement.Principal) &&
    actions.some((a) => a === 's3:getobject' || a === 's3:*' || a === '*') &&
    valuesOf(statement.Resource).includes(resource) &&
    isDeepStrictEqual(statement.Condition, reader.condition)
  )
}

/**
 * Merges one read statement into a bucket policy (JSON text, or undefined when the bucket has
 * none). Every other statement is kept as it is; a statement that already allows the same read
 * makes this a no-op (`policy` undefined).
 */
export function mergeReadStatement(current: string | undefined, reader: ReadPrincipal, resource: string): { policy?: string; statementId: string } {
  let document: PolicyDocument
  try {
    document = current === undefined || current.trim() === '' ? { Version: POLICY_VERSION } : (JSON.parse(current) as PolicyDocument)
  } catch {
    throw appError('UPSTREAM_ERROR', 'the bucket policy S3 returned is not JSON; it was left untouched')
  }
  const statements = document.Statement === undefined ? [] : Array.isArray(document.Statement) ? document.Statement : [document.Statement]
  const existing = statements.find((statement) => allowsRead(statement, reader, resource))
  if (existing !== undefined) return { statementId: existing.Sid ?? '' }
  const base = `CfSignerRead${createHash('sha256').update(`${reader.label}\n${resource}`).digest('hex').slice(0, 12)}`
  const taken = new Set(statements.map((s) => s.Sid))
  let statementId = base
  for (let n = 2; taken.has(statementId); n++) statementId = `${base}${n}`
  const statement: PolicyStatement = {
    Sid: statementId,
    Effect: 'Allow',
    Principal: reader.principal,
    Action: 's3:GetObject',
    Resource: resource,
    ...(reader.condition !== undefined && { Condition: reader.condition }),
  }
  return { policy: JSON.stringify({ ...document, Version: document.Version ?? POLICY_VERSION, Statement: [...statements, statement] }), statementId }
}

async function readBucketPolicy(account: AwsAccount, bucket: string): Promise<string | undefined> {
  try {
    return (await account.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy
  } catch (err) {
    if (codeOf(err) === 'NoSuchBucketPolicy') return undefined
    throw err
  }
}

/**
 * Allows reading `bucket/prefix*` through the bucket policy. S3 has no conditional write for
 * policies: a concurrent edit by someone else between the read and the write can be lost.
 */
export async function allowByBucketPolicy(account: AwsAccount, bucket: string, prefix: string, reader: ReadPrincipal): Promise<BucketAccessResult> {
  const resource = objectResource(bucket, prefix)
  const { policy, statementId } = mergeReadStatement(await readBucketPolicy(account, bucket), reader, resource)
  if (policy !== undefined) await account.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }))
  return { bucket, prefix, method: 'policy', principal: reader.label, changed: policy !== undefined, resource, statementId }
}

function allowsCanonicalRead(entry: AclEntry, canonicalUserId: string): boolean {
  return entry.Grantee?.Type === 'CanonicalUser' && entry.Grantee.ID === canonicalUserId && (entry.Permission === 'READ' || entry.Permission === 'FULL_CONTROL')
}

/** Adds READ for the canonical user to one object's ACL, keeping its owner and other entries. */
async function allowObjectRead(account: AwsAccount, bucket: string, key: string, canonicalUserId: string): Promise<boolean> {
  const acl = await account.s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: key }))
  const entries = acl.Grants ?? []
  if (entries.some((entry) => allowsCanonicalRead(entry, canonicalUserId))) return false
  await account.s3.send(
    new PutObjectAclCommand({
      Bucket: bucket,
      Key: key,
      AccessControlPolicy: { Owner: acl.Owner, Grants: [...entries, { Grantee: { Type: 'CanonicalUser', ID: canonicalUserId }, Permission: 'READ' }] },
    }),
  )
  return true
}

/**
 * The legacy way: READ for the OAI's canonical user on each object under the prefix, as the seeds'
 * tools did. Objects added later are not covered; buckets that enforce bucket-owner object ownership
 * refuse ACLs (AccessControlListNotSupported).
 */
export async function allowByObjectAcl(account: AwsAccount, bucket: string, prefix: string, oaiId: string, canonicalUserId: string): Promise<BucketAccessResult> {
  let objects = 0
  let objectsChanged = 0
  let token: string | undefined
  do {
    const page = await account.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix === '' ? undefined : prefix, ContinuationToken: token }))
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key !== undefined ? [object.Key] : []))
    for (let i = 0; i < keys.length; i += ACL_CONCURRENCY) {
      const changed = await Promise.all(keys.slice(i, i + ACL_CONCURRENCY).map((key) => allowObjectRead(account, bucket, key, canonicalUserId)))
      objectsChanged += changed.filter(Boolean).length
    }
    objects += keys.length
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return { bucket, prefix, method: 'acl', principal: oaiArn(oaiId), changed: objectsChanged > 0, objects, objectsChanged }
}
