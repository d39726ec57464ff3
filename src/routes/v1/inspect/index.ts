import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { withErrors } from '../../../http/error-response.js'
import { appError, CodedError } from '../../../http/errors.js'
import { parseTime } from '../../../issuing/conditions.js'
import { createTrustReader } from '../../../aws/distribution-trust.js'
import { createEdgeRevocationReader, createInspector } from '../../../issuing/inspector.js'
import { signingRoute } from '../signing-route.js'
import { InspectBodySchema, InspectionSchema } from './schemas.js'

/** Why would CloudFront answer AccessDenied? Judged with the keys this service signs (and signed) with, and the distribution's trust when configured. */
export async function inspectRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const inspector = createInspector({
    config: app.config,
    lookupKey: (id) => app.keyStore.verificationKey(id),
    trust: app.aws.configured ? createTrustReader(app.aws, app.now) : undefined,
    edgeRevocations: app.aws.configured ? createEdgeRevocationReader(app.aws) : undefined,
  })

  app.post(
    '/inspect',
    signingRoute(
      app,
      { summary: 'Check a signed URL, stream name or cookie set as CloudFront would', tag: 'playback', scopes: ['sign', 'admin:read'] },
      { operationId: 'inspectCredential', body: InspectBodySchema, response: withErrors({ 200: InspectionSchema }) },
    ),
    async (request) => {
      const { url, cookies, ip, referer, country } = request.body
      const at = requestTime(request.body.at, app.now())
      const inspection = await inspector.inspect({ url, cookies, ip, at, referer, country, viewerIp: ip ?? request.ip })
      // Never the URL or cookies: they may be live credentials.
      request.logSummary = { message: 'inspected', facts: { verdict: inspection.verdict, reason: inspection.reason, keyId: inspection.keyId, distribution: inspection.distribution?.name, edgeReason: inspection.edge?.reason } }
      return inspection
    },
  )
}

function requestTime(at: string | number | undefined, nowMs: number): number {
  if (at === undefined) return Math.floor(nowMs / 1000)
  try {
    return parseTime(at, 'at')
  } catch (err) {
    if (err instanceof CodedError) throw appError('VALIDATION_ERROR', 'body.at must be epoch seconds or an ISO 8601 timestamp with a time zone')
    throw err
  }
}
