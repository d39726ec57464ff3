// The edge layer of a distribution (src/aws/edge.ts): deploy, describe, remove.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { deployEdge, describeEdge, removeEdge } from '../../../../aws/edge.js'
import { appError } from '../../../../http/errors.js'
import { withErrors } from '../../../../http/error-response.js'
import { AccountQuerySchema, IdParamsSchema, IfMatchHeadersSchema, accountOf, adminRoute, ifMatchOf, setEtag } from '../common.js'
import { EdgeDeploymentSchema, EdgeRemovalSchema, EdgeStateSchema } from './schemas.js'

export async function edgeRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['admin: edge layer']
  const path = '/distributions/:id/edge'

  app.put(
    path,
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'deployEdge',
        summary: "Deploy the edge layer on a distribution's signed behaviors",
        description:
          'Ensures the key value store cf-signer-edge-<id> holds every configured HMAC key (`hmac:<id>`) and no other, ' +
          'the viewer-request function of that name runs the current code at LIVE, and every cache behavior that requires ' +
          'signed requests runs it. Idempotent: a repeat writes nothing and answers `changed: false`. 409 EDGE_NOT_CONFIGURED ' +
          'without edge.keysDir, EDGE_NO_SIGNED_BEHAVIORS when no behavior requires signed requests, EDGE_FUNCTION_CONFLICT ' +
          'when a signed behavior already runs another viewer-request function (nothing is changed then); 412 for a stale If-Match.',
        tags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        headers: IfMatchHeadersSchema,
        response: withErrors({ 200: EdgeDeploymentSchema }),
      },
      'edge.deploy',
    ),
    async (request, reply) => {
      const { keys } = app.config.edge
      if (keys.length === 0) throw appError('EDGE_NOT_CONFIGURED', 'no edge HMAC key is configured: set edge.keysDir')
      const deployment = await deployEdge(accountOf(request), request.params.id, { keys, ifMatch: ifMatchOf(request) })
      setEtag(reply, deployment.etag)
      return deployment
    },
  )

  app.get(
    path,
    adminRoute(app, 'admin:read', {
      operationId: 'getEdge',
      summary: 'What of the edge layer is deployed on a distribution (never a secret)',
      description: '409 EDGE_NOT_DEPLOYED when neither its function nor its key value store exists.',
      tags,
      params: IdParamsSchema,
      querystring: AccountQuerySchema,
      response: withErrors({ 200: EdgeStateSchema }),
    }),
    async (request, reply) => {
      const state = await describeEdge(accountOf(request), request.params.id)
      setEtag(reply, state.etag)
      return state
    },
  )

  app.delete(
    path,
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'removeEdge',
        summary: 'Take the edge layer off a distribution: its association, function and key value store',
        description:
          'Only our own association is removed. A repeat answers 200 `changed: false`. CloudFront may refuse the function\'s ' +
          'deletion (409 FunctionInUse) until the distribution change has deployed: send the DELETE again.',
        tags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        headers: IfMatchHeadersSchema,
        response: withErrors({ 200: EdgeRemovalSchema }),
      },
      'edge.remove',
    ),
    async (request, reply) => {
      const removal = await removeEdge(accountOf(request), request.params.id, ifMatchOf(request))
      setEtag(reply, removal.etag)
      return removal
    },
  )
}
