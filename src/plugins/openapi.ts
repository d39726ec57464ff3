import { isDeepStrictEqual } from 'node:util'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

type Schema = Record<string, unknown>
type Operation = { operationId?: string; requestBody?: Body; responses?: Record<string, Body> }
type Body = { content?: Record<string, { schema?: Schema }> }
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } }

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])
const COMPOSITE = ['oneOf', 'anyOf', 'allOf'] as const

const pascal = (operationId: string) => operationId[0].toUpperCase() + operationId.slice(1)

/** A shape worth a name: an object, an array or a union, not a bare string such as /metrics' text. */
function isShape(schema: Schema): boolean {
  return schema.type === 'object' || schema.type === 'array' || COMPOSITE.some((key) => key in schema)
}

/**
 * Gives every request and answer shape a name in components/schemas, referenced by `$ref`, so a
 * generated client has `components['schemas']['SignedUrl']` to import. A schema is named by its
 * `title`, else by its operation (`ListDistributionsResponse`); titled schemas nested in
 * them are named too. Done on the finished document, not with `$id`s, so Ajv and the serializer
 * compile exactly the schemas they did before.
 */
export function nameShapes(document: Document): Document {
  const schemas = document.components.schemas
  const hoist = (schema: Schema, fallbackName: string | undefined): Schema => {
    for (const key of Object.keys(schema)) schema[key] = visit(schema[key])
    const title = typeof schema.title === 'string' ? schema.title : undefined
    if (title === undefined) {
      // An untitled shape another operation already answers (readyz's 200 and 503) keeps its first name.
      const twin = Object.keys(schemas).find((other) => isDeepStrictEqual(schemas[other], schema))
      if (twin !== undefined) return { $ref: `#/components/schemas/${twin}` }
    }
    const name = title ?? fallbackName
    if (name === undefined) return schema
    if (schemas[name] !== undefined && !isDeepStrictEqual(schemas[name], schema)) {
      throw new Error(`two different schemas are both named ${name} in the OpenAPI document: give one another title`)
    }
    schemas[name] = schema
    return { $ref: `#/components/schemas/${name}` }
  }
  // Titled schemas anywhere inside a shape: properties, items, union members.
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit)
    if (value === null || typeof value !== 'object') return value
    const schema = value as Schema
    if (typeof schema.title === 'string' && !('$ref' in schema)) return hoist(schema, undefined)
    for (const key of Object.keys(schema)) schema[key] = visit(schema[key])
    return schema
  }
  const nameContent = (body: Body | undefined, name: string) => {
    for (const media of Object.values(body?.content ?? {})) {
      if (media.schema !== undefined && !('$ref' in media.schema) && isShape(media.schema)) media.schema = hoist(media.schema, name)
    }
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!METHODS.has(method)) continue
      if (operation.operationId === undefined) {
        throw new Error(`${method.toUpperCase()} ${path} has no operationId: add one to its route schema (README, OpenAPI)`)
      }
      const name = pascal(operation.operationId)
      nameContent(operation.requestBody, `${name}Request`)
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        nameContent(response, /^2/.test(status) ? `${name}Response` : `${name}Response${status}`)
      }
    }
  }
  return document
}

/**
 * Collects every route's schemas into an OpenAPI 3 document (`app.swagger()`). Registered before the
 * routes; nothing in it depends on the configuration, so every instance serves the same document.
 */
async function openapiPlugin(app: FastifyInstance) {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'cf-signer',
        version,
        description: 'Issues Amazon CloudFront signed URLs, signed cookies and RTMP signed stream names to JWT-authenticated callers, and proxies the CloudFront admin API.',
      },
      // Where `npm start` listens; a client passes its own base URL (clients/typescript).
      servers: [{ url: 'http://127.0.0.1:3000', description: 'A local instance (npm start)' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // Shared schemas keep their $id as their name: components.schemas.ErrorResponse, not def-0.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    // A copy: the document's schemas may be the very objects the routes' validators compiled.
    transformObject: (document) => nameShapes(structuredClone((document as { openapiObject: unknown }).openapiObject) as Document) as never,
  })
}

export default fp(openapiPlugin, { name: 'openapi' })
