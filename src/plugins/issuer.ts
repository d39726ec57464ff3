import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createIssuer, type Issuer } from '../issuing/issuer.js'

declare module 'fastify' {
  interface FastifyInstance {
    issuer: Issuer
  }
}

async function issuerPlugin(app: FastifyInstance) {
  app.decorate('issuer', createIssuer({ config: app.config, keys: app.keyStore, signer: app.signer, now: app.now }))
}

export default fp(issuerPlugin, { name: 'issuer', dependencies: ['config', 'keys', 'signer'] })
