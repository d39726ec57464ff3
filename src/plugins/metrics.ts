import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createMetrics, errorCodeOf, type Metrics } from '../metrics/registry.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

async function metricsPlugin(app: FastifyInstance) {
  const metrics = createMetrics({ now: app.now, processMetrics: app.config.metrics.enabled })
  app.decorate('metrics', metrics)

  // Every error answer passes here, whichever handler or plugin produced it.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode >= 400) {
      const code = errorCodeOf(payload)
      if (code !== undefined) metrics.errors.inc({ code, status: String(reply.statusCode) })
    }
    done(null, payload)
  })

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: unbounded label values would swamp Prometheus.
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched')
    metrics.httpRequestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['config'] })
