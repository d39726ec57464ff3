import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createAwsAccounts, type StaticCredentials } from '../aws/accounts.js'

declare module 'fastify' {
  interface FastifyInstance {
    aws: ReturnType<typeof createAwsAccounts>
  }
}

export interface AwsPluginOptions {
  /** Replaces the standard credential chain: only the emulator's dummy credentials, never real ones. */
  credentials?: StaticCredentials
}

/** The configured AWS accounts for the admin routes; none configured is fine (they answer 503). */
async function awsPlugin(app: FastifyInstance, options: AwsPluginOptions) {
  const accounts = createAwsAccounts(app.config.aws, {
    credentials: options.credentials,
    recordCall: (operation, outcome) => app.metrics.awsCalls.inc({ operation, outcome }),
  })
  app.decorate('aws', accounts)
  app.addHook('onClose', async () => accounts.close())
}

export default fp(awsPlugin, { name: 'aws', dependencies: ['config', 'metrics'] })
