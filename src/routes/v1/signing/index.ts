import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import { planSignedUrl } from '../../../grants/url.js'
import { selectKey } from '../../../grants/resolve.js'
import { buildSignedUrl } from '../../../signing/sign.js'
import { appError } from '../../../errors.js'
import { toErrorResponse, withErrors } from '../../../plugins/errors.js'
import { grantContext, isoFromEpoch } from '../grant-context.js'
import {
  SignedUrlBatchBodySchema,
  SignedUrlBatchSchema,
  SignedUrlBodySchema,
  SignedUrlSchema,
  type SignedUrl,
  type SignedUrlBody,
} from './schemas.js'

const checkItem = TypeCompiler.Compile(SignedUrlBodySchema)

export async function signingRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  async function signUrl(request: FastifyRequest, body: SignedUrlBody): Promise<SignedUrl> {
    const plan = planSignedUrl(body, grantContext(app, request))
    const key = selectKey(app.keyStore, body.keyId)
    const grant = await app.signer.sign({ policy: plan.policy, key, hashAlgorithm: body.hashAlgorithm ?? 'SHA1', distribution: plan.distribution.name })
    const { expires } = plan.policy.conditions
    // Never the signed URL itself: it is a bearer credential.
    request.log.info({ distribution: plan.distribution.name, keyId: key.id, policy: plan.policy.type, expires }, 'signed url')
    return {
      url: buildSignedUrl(plan.url, grant),
      expires,
      expiresAt: isoFromEpoch(expires),
      policy: plan.policy.type,
      resource: plan.policy.resource,
      keyId: key.id,
    }
  }

  app.post(
    '/signed-urls',
    {
      onRequest: app.authenticate(['sign']),
      config: { rateLimitGroup: 'sign' },
      schema: {
        summary: 'Sign one URL',
        tags: ['signing'],
        security: [{ bearerAuth: [] }],
        body: SignedUrlBodySchema,
        response: withErrors({ 200: SignedUrlSchema }),
      },
    },
    async (request) => signUrl(request, request.body),
  )

  app.post(
    '/signed-urls/batch',
    {
      onRequest: app.authenticate(['sign']),
      config: { rateLimitGroup: 'sign' },
      schema: {
        summary: 'Sign up to 1000 URLs; each item succeeds or fails on its own',
        tags: ['signing'],
        security: [{ bearerAuth: [] }],
        body: SignedUrlBatchBodySchema,
        response: withErrors({ 200: SignedUrlBatchSchema }),
      },
    },
    async (request) => {
      const items = await Promise.all(
        request.body.items.map(async (raw, index) => {
          try {
            // The coercions Ajv applies to a single request's body ("60" → 60), so an item signs alike.
            const item = Value.Convert(SignedUrlBodySchema, raw)
            if (!checkItem.Check(item)) {
              const first = checkItem.Errors(item).First()
              throw appError('VALIDATION_ERROR', `items/${index}${first?.path ?? ''} ${first?.message ?? 'is invalid'}`)
            }
            return await signUrl(request, item)
          } catch (err) {
            const { statusCode, code, message } = toErrorResponse(err)
            return { error: { statusCode, code, message } }
          }
        }),
      )
      return { items }
    },
  )
}
