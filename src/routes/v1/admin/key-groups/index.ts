import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { createKeyGroup, createPublicKey, listKeyGroups, listPublicKeys } from '../../../../aws/key-groups.js'
import { describeKmsKey } from '../../../../keys/kms.js'
import { selectKey } from '../../../../keys/select.js'
import { appError } from '../../../../http/errors.js'
import { withErrors } from '../../../../http/error-response.js'
import {
  AccountQuerySchema,
  CreateHeadersSchema,
  ListQuerySchema,
  accountOf,
  adminRoute,
  callerReferenceOf,
  hasIdempotencyKey,
  pageSchema,
  sendCreated,
} from '../common.js'
import { KeyGroupBodySchema, KeyGroupSchema, PublicKeyBodySchema, PublicKeySchema } from './schemas.js'

/** Public keys (a loaded signing key's public half, registered in CloudFront) and key groups of them. */
export async function keyGroupRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['admin: public keys and key groups']

  app.post(
    '/public-keys',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'registerPublicKey',
        summary: "Register a loaded signing key's, or a KMS key's, public key in CloudFront",
        description:
          "Answers CloudFront's public key ID. Signed URLs must carry that ID as Key-Pair-Id: name the key file after it (<id>.pem), or put it in keys.kms as the KMS key's keyId. With kmsKeyId, the public key is KMS's GetPublicKey answer.",
        tags,
        querystring: AccountQuerySchema,
        headers: CreateHeadersSchema,
        body: PublicKeyBodySchema,
        response: withErrors({ 200: PublicKeySchema, 201: PublicKeySchema }),
      },
      'public-key.create',
    ),
    async (request, reply) => {
      const { keyId, kmsKeyId, account, name, comment } = request.body
      if ((keyId === undefined) === (kmsKeyId === undefined)) throw appError('VALIDATION_ERROR', 'body must have either keyId (a loaded key) or kmsKeyId (a KMS key)')
      if (account !== undefined && kmsKeyId === undefined) throw appError('VALIDATION_ERROR', "body.account names a KMS key's account: give it with kmsKeyId")
      let input
      if (kmsKeyId !== undefined) {
        // The public key comes from KMS itself: the private key never leaves it, and there is nothing to copy by hand.
        const kmsKey = await describeKmsKey(app.kms, 'UNREGISTERED', kmsKeyId, app.kms.resolveAccount(account ?? accountOf(request).name), 'kmsKeyId')
        const keyName = `kms-${kmsKey.kms.keyArn.split('/').pop()!.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 128)
        input = { name: name ?? keyName, comment: comment ?? `cf-signer KMS key ${kmsKey.kms.keyArn}`.slice(0, 128), encodedKey: kmsKey.publicKeyPem }
      } else {
        const key = selectKey(app.keyStore, keyId)
        input = { name: name ?? key.id, comment: comment ?? `cf-signer key ${key.id}`, encodedKey: key.publicKeyPem }
      }
      const resource = sendCreated(request, reply, await createPublicKey(accountOf(request), input, callerReferenceOf(request)))
      request.log.info({ keyId, kmsKeyId, publicKeyId: resource.id }, 'public key registered')
      return resource
    },
  )

  app.get(
    '/public-keys',
    adminRoute(app, 'admin:read', {
      operationId: 'listPublicKeys',
      summary: 'List the public keys registered in CloudFront, a page at a time',
      tags,
      querystring: ListQuerySchema,
      response: withErrors({ 200: pageSchema(PublicKeySchema) }),
    }),
    async (request) => listPublicKeys(accountOf(request), request.query),
  )

  app.post(
    '/key-groups',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'createKeyGroup',
        summary: 'Create a key group from public key IDs',
        description: 'Key groups have no CallerReference: with an Idempotency-Key, a retry that finds the same name with the same keys answers it (200).',
        tags,
        querystring: AccountQuerySchema,
        headers: CreateHeadersSchema,
        body: KeyGroupBodySchema,
        response: withErrors({ 200: KeyGroupSchema, 201: KeyGroupSchema }),
      },
      'key-group.create',
    ),
    async (request, reply) => {
      const created = await createKeyGroup(accountOf(request), request.body, hasIdempotencyKey(request))
      return sendCreated(request, reply, created)
    },
  )

  app.get(
    '/key-groups',
    adminRoute(app, 'admin:read', {
      operationId: 'listKeyGroups',
      summary: 'List key groups, a page at a time',
      tags,
      querystring: ListQuerySchema,
      response: withErrors({ 200: pageSchema(KeyGroupSchema) }),
    }),
    async (request) => listKeyGroups(accountOf(request), request.query),
  )
}
