import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { WaitOptions } from '../../../../aws/cloudfront.js'
import { distributions, type DistributionCalls } from '../../../../aws/distributions/index.js'
import type { DistributionView } from '../../../../aws/distributions/shapes.js'
import { createInvalidation, getInvalidation, listInvalidations } from '../../../../aws/invalidations.js'
import { toErrorResponse, withErrors } from '../../../../http/error-response.js'
import {
  AccountQuerySchema,
  CreateHeadersSchema,
  IdParamsSchema,
  IfMatchHeadersSchema,
  ListQuerySchema,
  abortOnDisconnect,
  accountOf,
  adminRoute,
  auditResource,
  callerReferenceOf,
  ifMatchOf,
  pageSchema,
  sendCreated,
  setCreated,
  setEtag,
  waitOptionsFor,
} from '../common.js'
import {
  DistributionBodySchema,
  DistributionPatchSchema,
  DistributionSchema,
  InvalidationBodySchema,
  InvalidationParamsSchema,
  InvalidationSchema,
  WaitBodySchema,
} from './schemas.js'

/** How a kind of distribution (web or streaming) shows in the API; both answer the same shape. */
interface DistributionRoutes {
  /** URL segment and audit noun: `distributions` / `distribution`. */
  path: string
  noun: string
  /** In operationIds: `createDistribution`, `listStreamingDistributions`. */
  operationNoun: string
  tag: string
  calls: DistributionCalls
}

const WEB: DistributionRoutes = { path: 'distributions', noun: 'distribution', operationNoun: 'Distribution', tag: 'admin: distributions', calls: distributions.web }

const STREAMING: DistributionRoutes = {
  path: 'streaming-distributions',
  noun: 'streaming-distribution',
  operationNoun: 'StreamingDistribution',
  tag: 'admin: streaming distributions',
  calls: distributions.streaming,
}

/** Streams a wait as server-sent events: `status` after each poll, then `deployed` or `error`. */
async function streamWait(request: FastifyRequest, reply: FastifyReply, wait: (onPoll: WaitOptions['onPoll']) => Promise<DistributionView>): Promise<void> {
  reply.hijack()
  const raw = reply.raw
  raw.writeHead(200, { ...(reply.getHeaders() as OutgoingHttpHeaders), 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const send = (event: string, data: unknown) => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  try {
    send('deployed', await wait((status, elapsedMs) => send('status', { status, elapsedSeconds: Math.round(elapsedMs / 1000) })))
  } catch (err) {
    const body = toErrorResponse(err)
    request.log.info({ code: body.code, statusCode: body.statusCode }, 'wait ended without Deployed')
    send('error', body)
  }
  raw.end()
}

function registerDistributionRoutes(fastify: FastifyInstance, kind: DistributionRoutes) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = [kind.tag]
  const base = `/${kind.path}`

  app.post(
    base,
    adminRoute(
      app,
      'admin:write',
      {
        operationId: `create${kind.operationNoun}`,
        summary: `Create a ${kind.noun.replace('-', ' ')}`,
        tags,
        querystring: AccountQuerySchema,
        headers: CreateHeadersSchema,
        body: DistributionBodySchema,
        response: withErrors({ 200: DistributionSchema, 201: DistributionSchema }),
      },
      `${kind.noun}.create`,
    ),
    async (request, reply) => {
      const created = await kind.calls.create(accountOf(request), request.body, callerReferenceOf(request))
      return sendCreated(request, reply, created, (id) => `/v1/admin/${kind.path}/${id}`)
    },
  )

  app.get(
    base,
    adminRoute(app, 'admin:read', {
      operationId: `list${kind.operationNoun}s`,
      summary: `List ${kind.noun.replace('-', ' ')}s, a page at a time`,
      tags,
      querystring: ListQuerySchema,
      response: withErrors({ 200: pageSchema(DistributionSchema) }),
    }),
    async (request) => kind.calls.list(accountOf(request), request.query),
  )

  app.get(
    `${base}/:id`,
    adminRoute(app, 'admin:read', {
      operationId: `get${kind.operationNoun}`,
      summary: `Get a ${kind.noun.replace('-', ' ')}: status, origins, signers and the ETag`,
      tags,
      params: IdParamsSchema,
      querystring: AccountQuerySchema,
      response: withErrors({ 200: DistributionSchema }),
    }),
    async (request, reply) => {
      const distribution = await kind.calls.get(accountOf(request), request.params.id)
      setEtag(reply, distribution.etag)
      return distribution
    },
  )

  app.patch(
    `${base}/:id`,
    adminRoute(
      app,
      'admin:write',
      {
        operationId: `update${kind.operationNoun}`,
        summary: `Change some fields of a ${kind.noun.replace('-', ' ')} (the rest is kept)`,
        tags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        headers: IfMatchHeadersSchema,
        body: DistributionPatchSchema,
        response: withErrors({ 200: DistributionSchema }),
      },
      `${kind.noun}.update`,
    ),
    async (request, reply) => {
      const distribution = await kind.calls.update(accountOf(request), request.params.id, request.body, ifMatchOf(request))
      setEtag(reply, distribution.etag)
      return distribution
    },
  )

  app.delete(
    `${base}/:id`,
    adminRoute(
      app,
      'admin:write',
      {
        operationId: `delete${kind.operationNoun}`,
        summary: `Delete a disabled, deployed ${kind.noun.replace('-', ' ')}`,
        description: 'CloudFront refuses to delete an enabled distribution (409): disable it (PATCH enabled false), wait, then delete.',
        tags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        headers: IfMatchHeadersSchema,
        response: withErrors({ 204: Type.Null() }),
      },
      `${kind.noun}.delete`,
    ),
    async (request, reply) => {
      await kind.calls.remove(accountOf(request), request.params.id, ifMatchOf(request))
      return reply.status(204).send(null)
    },
  )

  app.post(
    `${base}/:id/wait`,
    {
      ...adminRoute(app, 'admin:read', {
        operationId: `waitFor${kind.operationNoun}`,
        summary: `Wait until a ${kind.noun.replace('-', ' ')} is Deployed`,
        description: 'Polls with backoff; 504 WAIT_TIMEOUT (naming the last status) when the time is up. With Accept: text/event-stream, streams `status` events and a final `deployed` or `error` event.',
        tags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        body: WaitBodySchema,
        response: withErrors({ 200: DistributionSchema }),
      }),
      // The body is optional: `{}` when none was sent.
      preValidation: async (request) => {
        request.body ??= {}
      },
    },
    async (request, reply) => {
      const account = accountOf(request)
      const options = waitOptionsFor(app, request.body.timeoutSeconds, abortOnDisconnect(reply))
      // Nothing is sent until CloudFront answers: server.connectionTimeoutSeconds counts from the wait's end.
      const connectionTimeoutMs = app.config.server.connectionTimeoutSeconds * 1000
      if (connectionTimeoutMs > 0) reply.raw.setTimeout(options.timeoutMs + connectionTimeoutMs, () => reply.raw.destroy())
      const wait = (onPoll?: WaitOptions['onPoll']) => kind.calls.wait(account, request.params.id, { ...options, onPoll })
      if (request.headers.accept?.includes('text/event-stream')) return streamWait(request, reply, wait)
      const distribution = await wait()
      setEtag(reply, distribution.etag)
      return distribution
    },
  )
}

function registerInvalidationRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['admin: invalidations']

  app.post(
    '/distributions/:id/invalidations',
    adminRoute(
      app,
      'admin:write',
      {
        operationId: 'createInvalidation',
        summary: 'Invalidate cached paths of a distribution',
        tags,
        params: IdParamsSchema,
        querystring: AccountQuerySchema,
        headers: CreateHeadersSchema,
        body: InvalidationBodySchema,
        response: withErrors({ 200: InvalidationSchema, 201: InvalidationSchema }),
      },
      'invalidation.create',
    ),
    async (request, reply) => {
      const { id } = request.params
      const { resource, created } = await createInvalidation(accountOf(request), id, request.body.paths, callerReferenceOf(request))
      auditResource(request, `${id}/${resource.id}`)
      setCreated(reply, created, `/v1/admin/distributions/${id}/invalidations/${resource.id}`)
      return resource
    },
  )

  app.get(
    '/distributions/:id/invalidations',
    adminRoute(app, 'admin:read', {
      operationId: 'listInvalidations',
      summary: "List a distribution's invalidations, a page at a time",
      tags,
      params: IdParamsSchema,
      querystring: ListQuerySchema,
      response: withErrors({ 200: pageSchema(InvalidationSchema) }),
    }),
    async (request) => listInvalidations(accountOf(request), request.params.id, request.query),
  )

  app.get(
    '/distributions/:id/invalidations/:invId',
    adminRoute(app, 'admin:read', {
      operationId: 'getInvalidation',
      summary: 'Get an invalidation',
      tags,
      params: InvalidationParamsSchema,
      querystring: AccountQuerySchema,
      response: withErrors({ 200: InvalidationSchema }),
    }),
    async (request) => getInvalidation(accountOf(request), request.params.id, request.params.invId),
  )
}

export async function distributionRoutes(app: FastifyInstance) {
  registerDistributionRoutes(app, WEB)
  registerInvalidationRoutes(app)
}

export async function streamingDistributionRoutes(app: FastifyInstance) {
  registerDistributionRoutes(app, STREAMING)
}
