import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { distributions } from '../../../../aws/distributions/index.js'
import { allowByBucketPolicy, allowByObjectAcl, oacPrincipal, oaiPrincipal } from '../../../../aws/bucket-access.js'
import {
  createOriginAccessControl,
  createOriginAccessIdentity,
  deleteOriginAccessIdentity,
  getOriginAccessControl,
  getOriginAccessIdentity,
  listOriginAccessControls,
  listOriginAccessIdentities,
} from '../../../../aws/origin-access.js'
import { withErrors } from '../../../../http/error-response.js'
import {
  AccountQuerySchema,
  CreateHeadersSchema,
  IdParamsSchema,
  IfMatchHeadersSchema,
  ListQuerySchema,
  accountOf,
  adminRoute,
  callerReferenceOf,
  hasIdempotencyKey,
  ifMatchOf,
  pageSchema,
  sendCreated,
  setEtag,
} from '../common.js'
import {
  BucketAccessSchema,
  OacBucketAccessBodySchema,
  OaiBucketAccessBodySchema,
  OriginAccessControlBodySchema,
  OriginAccessControlSchema,
  OriginAccessIdentityBodySchema,
  OriginAccessIdentitySchema,
} from './schemas.js'

/** S3 keys have no leading slash; operators often type one. */
const keyPrefix = (prefix: string | undefined) => (prefix ?? '').replace(/^\/+/, '')

/** Origin access identities (create, get, list, delete, bucket access) and origin access controls (create, list, bucket access). */
export async function originAccessRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const oaiTags = ['admin: origin access identities']
  const oacTags = ['admin: origin access controls']

  app.post(
    '/origin-access-identities',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'createOriginAccessIdentity',
        summary: 'Create an origin access identity (answers its ID and S3 canonical user ID)',
        tags: oaiTags,
        querystring: AccountQuerySchema,
        headers: CreateHeadersSchema,
        body: OriginAccessIdentityBodySchema,
        response: withErrors({ 200: OriginAccessIdentitySchema, 201: OriginAccessIdentitySchema }),
      },
      'origin-access-identity.create',
    ),
    async (request, reply) => {
      const created = await createOriginAccessIdentity(accountOf(request), request.body.comment ?? '', callerReferenceOf(request))
      return sendCreated(request, reply, created, (id) => `/v1/admin/origin-access-identities/${id}`)
    },
  )

  app.get(
    '/origin-access-identities',
    adminRoute(app, 'admin:read', {
      operationId: 'listOriginAccessIdentities',
      summary: 'List origin access identities, a page at a time',
      tags: oaiTags,
      querystring: ListQuerySchema,
      response: withErrors({ 200: pageSchema(OriginAccessIdentitySchema) }),
    }),
    async (request) => listOriginAccessIdentities(accountOf(request), request.query),
  )

  app.get(
    '/origin-access-identities/:id',
    adminRoute(app, 'admin:read', {
      operationId: 'getOriginAccessIdentity',
      summary: 'Get an origin access identity',
      tags: oaiTags,
      params: IdParamsSchema,
      querystring: AccountQuerySchema,
      response: withErrors({ 200: OriginAccessIdentitySchema }),
    }),
    async (request, reply) => {
      const identity = await getOriginAccessIdentity(accountOf(request), request.params.id)
      setEtag(reply, identity.etag)
      return identity
    },
  )

  app.delete(
    '/origin-access-identities/:id',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'deleteOriginAccessIdentity',
        summary: 'Delete an origin access identity no distribution uses',
        tags: oaiTags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        headers: IfMatchHeadersSchema,
        response: withErrors({ 204: Type.Null() }),
      },
      'origin-access-identity.delete',
    ),
    async (request, reply) => {
      await deleteOriginAccessIdentity(accountOf(request), request.params.id, ifMatchOf(request))
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/origin-access-identities/:id/grants',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'grantOriginAccessIdentity',
        summary: 'Let an origin access identity read a bucket or prefix',
        description: 'policy (default) merges one statement into the bucket policy, keeping every other; a second identical grant changes nothing. acl adds READ for the identity to each object under the prefix.',
        tags: oaiTags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        body: OaiBucketAccessBodySchema,
        response: withErrors({ 200: BucketAccessSchema }),
      },
      'origin-access-identity.grant',
    ),
    async (request) => {
      const account = accountOf(request)
      const { id } = request.params
      const { bucket, method = 'policy' } = request.body
      const prefix = keyPrefix(request.body.prefix)
      const identity = await getOriginAccessIdentity(account, id)
      return method === 'acl'
        ? allowByObjectAcl(account, bucket, prefix, id, identity.s3CanonicalUserId)
        : allowByBucketPolicy(account, bucket, prefix, oaiPrincipal(id, identity.s3CanonicalUserId))
    },
  )

  app.post(
    '/origin-access-controls',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'createOriginAccessControl',
        summary: 'Create an origin access control (sigv4)',
        description: 'OACs have no CallerReference: with an Idempotency-Key, a retry that finds the same name with the same settings answers it (200).',
        tags: oacTags,
        querystring: AccountQuerySchema,
        headers: CreateHeadersSchema,
        body: OriginAccessControlBodySchema,
        response: withErrors({ 200: OriginAccessControlSchema, 201: OriginAccessControlSchema }),
      },
      'origin-access-control.create',
    ),
    async (request, reply) => {
      const created = await createOriginAccessControl(accountOf(request), request.body, hasIdempotencyKey(request))
      return sendCreated(request, reply, created)
    },
  )

  app.get(
    '/origin-access-controls',
    adminRoute(app, 'admin:read', {
      operationId: 'listOriginAccessControls',
      summary: 'List origin access controls, a page at a time',
      tags: oacTags,
      querystring: ListQuerySchema,
      response: withErrors({ 200: pageSchema(OriginAccessControlSchema) }),
    }),
    async (request) => listOriginAccessControls(accountOf(request), request.query),
  )

  app.post(
    '/origin-access-controls/:id/grants',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'grantOriginAccessControl',
        summary: 'Let a distribution read a bucket or prefix through an origin access control',
        description: 'Merges one statement into the bucket policy: principal cloudfront.amazonaws.com, condition AWS:SourceArn = the distribution; every other statement is kept, a second identical grant changes nothing.',
        tags: oacTags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        body: OacBucketAccessBodySchema,
        response: withErrors({ 200: BucketAccessSchema }),
      },
      'origin-access-control.grant',
    ),
    async (request) => {
      const account = accountOf(request)
      const { bucket, distributionId } = request.body
      await getOriginAccessControl(account, request.params.id)
      const distribution = await distributions.web.get(account, distributionId)
      return allowByBucketPolicy(account, bucket, keyPrefix(request.body.prefix), oacPrincipal(distribution.arn ?? ''))
    },
  )
}
