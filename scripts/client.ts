// npm run client: regenerates clients/typescript/schema.d.ts from openapi.yaml (run `npm run openapi` first).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SCHEMA_FILE, generateSchema } from '../clients/typescript/generate.js'

writeFileSync(SCHEMA_FILE, await generateSchema())
console.log(`wrote ${fileURLToPath(SCHEMA_FILE)}`)
