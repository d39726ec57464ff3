import type { FastifyInstance } from 'fastify'
import { resolveAccount } from './common.js'
import { distributionRoutes, streamingDistributionRoutes } from './distributions/index.js'
import { edgeRoutes } from './edge/index.js'
import { keyGroupRoutes } from './key-groups/index.js'
import { originAccessRoutes } from './origin-access/index.js'

/**
 * `/v1/admin`: CloudFront through the AWS adapter. Every route is registered whatever the
 * configuration; without an AWS account they answer 503 ADMIN_NOT_CONFIGURED once authenticated.
 */
export async function adminRoutes(app: FastifyInstance) {
  app.decorateRequest('adminAudit', null)
  app.decorateRequest('adminAccount', null)
  // After authentication (onRequest), before the body is validated: no AWS, or an unknown account, is said first.
  app.addHook('preValidation', async (request) => {
    resolveAccount(app, request)
  })
  await app.register(distributionRoutes)
  await app.register(streamingDistributionRoutes)
  await app.register(originAccessRoutes)
  await app.register(keyGroupRoutes)
  await app.register(edgeRoutes)
}
