import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createRevocations, edgeTargets, type EdgeTarget, type Revocations } from '../edge/revocations.js'
import { toErrorResponse } from '../http/error-response.js'

declare module 'fastify' {
  interface FastifyInstance {
    revocations: Omit<Revocations, 'sweep'> & {
      /** The edge distributions (the one named, else every one with edge: true); throws the route's codes. */
      targets(named?: string): EdgeTarget[]
      /** Deletes the due revocations from every edge distribution's store now; never throws (failures are logged). */
      sweep(): Promise<{ removed: number; failed: string[] }>
    }
  }
}

/**
 * Revocations in the edge distributions' KeyValueStores (src/edge/revocations.ts), on the app's clock, and the
 * periodic sweep: with AWS configured and some distribution on the edge layer, every edge.revocationSweepSeconds
 * each replica deletes the entries whose removeAfter has passed (deletes are idempotent: replicas may overlap).
 */
async function revocationsPlugin(app: FastifyInstance) {
  const core = createRevocations({ now: app.now })
  const targets = (named?: string) => edgeTargets(app.config.distributions, (name) => app.aws.resolve(name), named)
  const hasEdge = Object.values(app.config.distributions).some((dist) => dist.edge)

  async function sweep(): Promise<{ removed: number; failed: string[] }> {
    let result
    try {
      result = await core.sweep(targets())
    } catch (err) {
      // The targets themselves (an account the configuration names but AWS does not have): nothing swept.
      app.log.warn({ code: toErrorResponse(err).code }, 'revocation sweep failed')
      return { removed: 0, failed: [] }
    }
    for (const { name, error } of result.failures) {
      // Only the code and message: AWS errors carry no request, signature or credentials past the adapter.
      const { code, message } = toErrorResponse(error)
      app.log.warn({ distribution: name, code, message }, 'revocation sweep failed for a distribution')
    }
    if (result.removed > 0) app.log.info({ removed: result.removed }, 'revocation sweep removed expired revocations')
    return { removed: result.removed, failed: result.failures.map((failure) => failure.name) }
  }

  app.decorate('revocations', { revoke: core.revoke, list: core.list, targets, sweep })

  if (!app.aws.configured || !hasEdge) return
  let running = false
  const timer = setInterval(() => {
    // One sweep at a time: a slow store is not swept twice at once.
    if (running) return
    running = true
    void sweep().finally(() => {
      running = false
    })
  }, app.config.edge.revocationSweepSeconds * 1000)
  // Never what keeps the process alive.
  timer.unref()
  app.addHook('onClose', async () => clearInterval(timer))
}

export default fp(revocationsPlugin, { name: 'revocations', dependencies: ['config', 'aws'] })
