import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import SwaggerParser from '@apidevtools/swagger-parser'
import { parse } from 'yaml'
import { build } from '../support/build.js'

const OPENAPI_FILE = fileURLToPath(new URL('../../openapi.yaml', import.meta.url))
const committed = () => parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, any>
const operationsOf = (api: Record<string, any>) =>
  Object.entries(api.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, path, operation })),
  )
const STALE = 'openapi.yaml differs from what the service serves at /openapi.json: run `npm run openapi` and commit it'

describe('openapi.yaml', () => {
  it('is exactly what the service serves at /openapi.json', async (t) => {
    const app = await build(t)
    const served = await app.inject({ method: 'GET', url: '/openapi.json' })
    assert.equal(served.statusCode, 200)
    assert.deepEqual(served.json(), committed(), STALE)
  })

  it('passes an OpenAPI validator', async () => {
    const api = (await SwaggerParser.validate(committed() as never)) as Record<string, any>
    assert.match(api.openapi, /^3\.0\./)
  })

  it('does not depend on the configuration: every route is registered whatever it says', async (t) => {
    const variants = [
      { docs: { enabled: false }, metrics: { enabled: false } },
      {
        rateLimit: { sign: { max: 5, timeWindowSeconds: 60 }, admin: { max: 5, timeWindowSeconds: 60 } },
        cors: { origins: ['https://app.example.com'] },
        distributions: { other: { domain: 'd333333abcdef8.cloudfront.net' } },
      },
    ]
    for (const configInput of variants) {
      const app = await build(t, { configInput })
      assert.deepEqual(JSON.parse(JSON.stringify(app.swagger())), committed(), `${JSON.stringify(configInput)}: ${STALE}`)
    }
  })

  it('declares the bearer scheme on every /v1 operation and the shared ErrorResponse for its errors', () => {
    const api = committed()
    assert.deepEqual(api.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    assert.deepEqual(api.components.schemas.ErrorResponse.required, ['statusCode', 'code', 'error', 'message'])
    const operations = operationsOf(api)
    assert.ok(operations.some((o) => o.name === 'POST /v1/signed-urls'), "operations.some((o) => o.name === 'POST /v1/signed-urls')")
    for (const { name, path, operation } of operations.filter((o) => o.path.startsWith('/v1/'))) {
      assert.deepEqual(operation.security, [{ bearerAuth: [] }], `${name} security`)
      const errors = operation.responses['4XX'] ?? operation.responses['4xx']
      assert.equal(errors?.content?.['application/json']?.schema?.$ref, '#/components/schemas/ErrorResponse', `${name} 4xx`)
    }
  })

  it('gives every operation a unique operationId, and its request and answer shapes names in components', () => {
    const api = committed()
    const seen = new Map<string, string>()
    for (const { name, operation } of operationsOf(api)) {
      assert.match(operation.operationId ?? '', /^[a-z][A-Za-z]+$/, `${name} operationId`)
      assert.equal(seen.get(operation.operationId), undefined, `${name} reuses the operationId of ${seen.get(operation.operationId)}`)
      seen.set(operation.operationId, name)
      const shapes = [operation.requestBody, ...Object.values(operation.responses as Record<string, any>)]
        .flatMap((part) => Object.values(part?.content ?? {}) as Array<{ schema: Record<string, any> }>)
        .map((media) => media.schema)
        .filter((schema) => schema.type !== 'string')
      for (const schema of shapes) {
        assert.match(schema.$ref ?? '', /^#\/components\/schemas\/[A-Za-z]+$/, `${name}: an inline shape`)
        assert.ok(api.components.schemas[schema.$ref.split('/').pop()] !== undefined, `${name}: ${schema.$ref} is not in components`)
      }
    }
  })

  it('documents the signed-URL body as one of its two forms, and batch items as that body', () => {
    const { schemas } = committed().components
    assert.deepEqual(schemas.SignedUrlRequest.oneOf, [{ $ref: '#/components/schemas/SignedUrlByPath' }, { $ref: '#/components/schemas/SignedUrlByUrl' }])
    assert.deepEqual(schemas.SignedUrlByPath.required, ['distribution', 'path'])
    assert.deepEqual(schemas.SignedUrlByPath.properties.url, { not: {} })
    assert.deepEqual(schemas.SignedUrlByUrl.required, ['url'])
    assert.deepEqual([schemas.SignedUrlByUrl.properties.distribution, schemas.SignedUrlByUrl.properties.path], [{ not: {} }, { not: {} }])
    assert.deepEqual(schemas.SignedUrlBatchRequest.properties.items.items, { $ref: '#/components/schemas/SignedUrlRequest' })
  })

  it('names a server, and lets the ops routes go without a token (security: [])', () => {
    const api = committed()
    assert.ok(api.servers?.length > 0, 'servers')
    const ops = operationsOf(api).filter((o) => !o.path.startsWith('/v1/'))
    assert.deepEqual(ops.map((o) => o.name).sort(), ['GET /healthz', 'GET /metrics', 'GET /readyz'])
    for (const { name, operation } of ops) assert.deepEqual(operation.security, [], `${name} security`)
  })

  it('is refused when a route has no operationId: npm run openapi and this test fail, naming it', async (t) => {
    const app = await build(t, { beforeReady: (app) => app.get('/v1/nameless', { schema: { summary: 'A route without an operationId' } }, async () => ({})) })
    assert.throws(() => app.swagger(), /GET \/v1\/nameless has no operationId/)
  })
})
