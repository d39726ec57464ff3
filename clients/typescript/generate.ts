// What `npm run client` writes to schema.d.ts: openapi-typescript's output for openapi.yaml, with one
// rule it lacks. test/contract/client.test.ts checks the committed file is this.
import openapiTS, { COMMENT_HEADER, NEVER, astToString, type SchemaObject } from 'openapi-typescript'

export const OPENAPI_FILE = new URL('../../openapi.yaml', import.meta.url)
export const SCHEMA_FILE = new URL('./schema.d.ts', import.meta.url)

/** `not: {}` admits no value: `never`, so a body that mixes the signed-URL forms does not type-check (openapi-typescript leaves it `unknown`). */
function typeNothing(schema: SchemaObject) {
  const not = (schema as { not?: unknown }).not
  return not !== null && typeof not === 'object' && Object.keys(not).length === 0 ? NEVER : undefined
}

export async function generateSchema(): Promise<string> {
  const ast = await openapiTS(OPENAPI_FILE, { transform: typeNothing, silent: true })
  return COMMENT_HEADER + astToString(ast)
}
