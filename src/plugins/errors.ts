import type { FastifyInstance, HTTPMethods } from 'fastify'
import fp from 'fastify-plugin'
import { appError, type CodedError } from '../http/errors.js'
import { ErrorResponseSchema, toErrorResponse } from '../http/error-response.js'

const ROUTE_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

/** The methods some route answers on this path; OPTIONS (the CORS preflight route matches any path) only beside another. */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  const allowed = ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null)
  if (allowed.length > 0 && app.findRoute({ method: 'OPTIONS', url: path }) !== null) allowed.push('OPTIONS')
  return allowed
}

async function errorsPlugin(app: FastifyInstance) {
  app.addSchema(ErrorResponseSchema)

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  app.setErrorHandler(async (err, request, reply) => {
    const body = toErrorResponse(err)
    if (body.statusCode >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: body.code, statusCode: body.statusCode, sub: request.caller?.sub }, 'request refused')
    const retryAfter = (err as CodedError).details?.retryAfterSeconds
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
    return reply.status(body.statusCode).send(body)
  })

  // A known path asked with another method is a 405 naming the methods it has, not a 404.
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]
    const allowed = allowedMethods(app, path)
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      throw appError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`)
    }
    return reply.status(404).send({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route ${request.method} ${path}` })
  })
}

export default fp(errorsPlugin, { name: 'errors' })
