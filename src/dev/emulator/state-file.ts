// The emulator's world in a JSON file (`--state-file`), so it outlives the process: read once at start,
// rewritten whole after each change. Faults and the command-line options are not part of it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { COLLECTION_NAMES, type StateSnapshot } from './state.js'

const FORMAT = 'cf-signer-emulator-state'
const VERSION = 1

/** A state file that cannot be used; `code` is stable for scripts, the message names the file and the reason. */
export class EmulatorStateError extends Error {
  readonly code = 'EMULATOR_STATE_INVALID'
}

/** The snapshot a state file holds; undefined when the file does not exist yet (a fresh world). */
export function readStateFile(path: string): StateSnapshot | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EmulatorStateError(`cannot read the state file ${path}: ${(error as Error).message}`)
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw new EmulatorStateError(`the state file ${path} is not JSON`)
  }
  const problem = checkSnapshot(document)
  if (problem !== undefined) throw new EmulatorStateError(`the state file ${path} is not an emulator state (version ${VERSION}): ${problem}`)
  return (document as { state: StateSnapshot }).state
}

/** Writes the snapshot to a temporary file beside `path` and renames it over, so a reader never sees half a file. */
export function writeStateFile(path: string, snapshot: StateSnapshot): void {
  mkdirSync(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify({ format: FORMAT, version: VERSION, savedAt: new Date().toISOString(), state: snapshot })}\n`)
  renameSync(temporary, path)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Checks the envelope and the containers the restore walks; what is inside each resource is the emulator's own writing. */
function checkSnapshot(document: unknown): string | undefined {
  if (!isRecord(document) || document.format !== FORMAT) return `"format" must be "${FORMAT}"`
  if (document.version !== VERSION) return `"version" must be ${VERSION} (got ${JSON.stringify(document.version)})`
  const state = document.state
  if (!isRecord(state)) return '"state" must be an object'
  if (typeof state.clockOffsetMs !== 'number' || !Number.isFinite(state.clockOffsetMs)) return 'state.clockOffsetMs must be a number'
  for (const name of COLLECTION_NAMES) {
    const collection = state[name]
    if (!isRecord(collection) || !Array.isArray(collection.items) || !Array.isArray(collection.issued)) {
      return `state.${name} must be {items: [], issued: []}`
    }
    if (!collection.items.every((item) => isRecord(item) && typeof item.id === 'string')) return `every item of state.${name} needs an id`
  }
  if (!Array.isArray(state.buckets)) return 'state.buckets must be an array'
  for (const bucket of state.buckets) {
    if (!isRecord(bucket) || typeof bucket.name !== 'string' || !Array.isArray(bucket.objects)) return 'every bucket needs a name and objects'
    if (!bucket.objects.every((object) => isRecord(object) && typeof object.key === 'string' && typeof object.body === 'string')) {
      return `every object of bucket ${bucket.name} needs a key and a base64 body`
    }
  }
  const kms = state.kms
  if (kms !== undefined && (!isRecord(kms) || !Array.isArray(kms.keys) || !Array.isArray(kms.aliases))) return 'state.kms must be {keys: [], aliases: []}'
  return undefined
}
