// A typed client for cf-signer: openapi-fetch over the types openapi-typescript generates from
// openapi.yaml (schema.d.ts, `npm run client`). Paths, bodies and answers are checked at compile time.
import createClient from 'openapi-fetch'
import type { components, operations, paths } from './schema.js'

export type { components, operations, paths }
export type Schemas = components['schemas']

/**
 * A client for the service at `baseUrl` (e.g. `https://signer.example.com`) that sends `token` as
 * the bearer token; a function is called on each request, so a token that is refreshed stays current.
 */
export function createCfSignerClient(baseUrl: string, token: string | (() => string | Promise<string>), options: { fetch?: typeof fetch } = {}) {
  const client = createClient<paths>({ baseUrl, fetch: options.fetch })
  client.use({
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${typeof token === 'string' ? token : await token()}`)
      return request
    },
  })
  return client
}

export type CfSignerClient = ReturnType<typeof createCfSignerClient>
