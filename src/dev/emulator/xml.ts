// Generic XML in/out: CloudFront bodies are read into SDK-like objects (`{ Quantity, Items: [] }`)
// using the tables in shapes.ts, and written back with the right list member names.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser'
import { ApiError, invalidArgument } from './errors.js'
import {
  BOOLEAN_FIELDS,
  DEFAULTS,
  ENUMS,
  INTEGER_FIELDS,
  LIST_MEMBERS,
  MAX_LENGTHS,
  QUANTITYLESS,
  REQUIRED,
} from './shapes.js'
import type { XmlNode, XmlValue } from './xml-node.js'


const CLOUDFRONT_NAMESPACE = 'http://cloudfront.amazonaws.com/doc/2020-05-31/'
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@' })
// Lists whose members were not in LIST_MEMBERS are echoed with the member name they arrived with.
const learnedMembers = new Map<string, string>()

export function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function nodeAt(value: XmlValue | undefined): XmlNode {
  return isNode(value) ? value : {}
}

export function itemsOf(container: XmlValue | undefined): XmlValue[] {
  const items = nodeAt(container).Items
  return Array.isArray(items) ? items : []
}

export function textOf(value: XmlValue | undefined): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : ''
}

function memberOf(container: string): string {
  return LIST_MEMBERS[container] ?? learnedMembers.get(container) ?? 'member'
}

/**
 * Reads a document without interpreting it: namespaces and attributes' prefixes are dropped, entities
 * decoded, every value kept as text. Children of `listParents` elements always come back as arrays.
 * Returns undefined when the text is not well-formed XML.
 */
export function readXml(text: string, listParents: readonly string[] = ['Items']): { root: string; value: unknown } | undefined {
  if (XMLValidator.validate(text) !== true) return undefined
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    htmlEntities: true,
    // Values are echoed byte for byte (a PEM's trailing newline included); whitespace between elements is dropped below.
    trimValues: false,
    isArray: (_name, jpath) => listParents.includes(String(jpath).split('.').at(-2) ?? ''),
  })
  const document = parser.parse(text) as Record<string, unknown>
  const root = Object.keys(document).find((key) => !key.startsWith('?'))
  return root === undefined ? undefined : { root, value: document[root] }
}

export function buildXml(root: string, value: Record<string, unknown>, namespace?: string): string {
  return DECLARATION + builder.build({ [root]: { ...(namespace !== undefined && { '@xmlns': namespace }), ...value } })
}

/** Parses and validates a CloudFront request body whose root element must be `root`. */
export function parseCloudFrontBody(body: Buffer, root: string): XmlNode {
  const text = body.toString('utf8')
  if (text.trim() === '') throw new ApiError('MissingBody', 400, 'This request is missing a required body.')
  const document = readXml(text)
  if (document === undefined) throw new ApiError('MalformedInput', 400, 'Unexpected or malformed XML in the request body.')
  if (document.root !== root) {
    throw new ApiError('MalformedInput', 400, `Unexpected root element ${document.root}; expected ${root}.`)
  }
  return readStruct(root, document.value)
}

function isStruct(name: string): boolean {
  return name in REQUIRED || name in LIST_MEMBERS || name in DEFAULTS
}

function readValue(name: string, raw: unknown): XmlValue {
  if (Array.isArray(raw)) throw new ApiError('MalformedInput', 400, `Element ${name} appears more than once.`)
  if (isNode(raw) || isStruct(name)) return readStruct(name, raw)
  return readScalar(name, String(raw))
}

const isBlank = (raw: unknown) => typeof raw === 'string' && raw.trim() === ''

function readStruct(name: string, raw: unknown): XmlNode {
  if (!isNode(raw) && !isBlank(raw)) throw invalidArgument(`${name} must be a structure.`)
  const node: XmlNode = {}
  for (const [key, value] of Object.entries(isNode(raw) ? raw : {})) {
    if (key.startsWith('@') || key === '#text') continue
    node[key] = key === 'Items' ? readItems(name, value) : readValue(key, value)
  }
  for (const member of REQUIRED[name] ?? []) {
    if (node[member] === undefined) throw invalidArgument(`The parameter ${member} is required in ${name}.`)
  }
  checkQuantity(name, node)
  return node
}

function readItems(container: string, raw: unknown): XmlValue[] {
  if (isBlank(raw)) return []
  const entries = Object.entries(isNode(raw) ? raw : {}).filter(([key]) => !key.startsWith('@') && key !== '#text')
  const [entry, ...others] = entries
  if (entry === undefined) return []
  const [member, values] = entry
  const expected = LIST_MEMBERS[container]
  if (others.length > 0 || (expected !== undefined && member !== expected)) {
    throw new ApiError('MalformedInput', 400, `Unexpected list element ${member} in ${container}.`)
  }
  if (expected === undefined) learnedMembers.set(container, member)
  return (values as unknown[]).map((value) => readValue(member, value))
}

function checkQuantity(name: string, node: XmlNode): void {
  const isCountedList = name in LIST_MEMBERS && !QUANTITYLESS.has(name)
  if (isCountedList && node.Quantity === undefined) throw invalidArgument(`The parameter Quantity is required in ${name}.`)
  if (node.Quantity === undefined) return
  const count = Array.isArray(node.Items) ? node.Items.length : 0
  if (count !== node.Quantity) {
    throw new ApiError('InconsistentQuantities', 400, `The value of Quantity and the size of Items in ${name} do not match.`)
  }
}

function readScalar(name: string, text: string): XmlValue {
  const invalid = () => invalidArgument(`The parameter ${name} has an invalid value: ${JSON.stringify(text)}.`)
  if (BOOLEAN_FIELDS.has(name)) {
    if (text !== 'true' && text !== 'false') throw invalid()
    return text === 'true'
  }
  if (INTEGER_FIELDS.has(name)) {
    if (!/^-?\d{1,15}$/.test(text)) throw invalid()
    return Number(text)
  }
  const allowed = ENUMS[name]
  if (allowed !== undefined && !allowed.includes(text)) throw invalid()
  const maxLength = MAX_LENGTHS[name]
  if (maxLength !== undefined && text.length > maxLength) {
    throw invalidArgument(`The parameter ${name} is longer than ${maxLength} characters.`)
  }
  return text
}

/** Fills CloudFront's defaults into absent members, recursively by element name. */
export function withDefaults(name: string, value: XmlNode): XmlNode {
  const node: XmlNode = {}
  for (const [key, child] of Object.entries(value)) {
    if (key === 'Items' && Array.isArray(child)) {
      node.Items = child.map((item) => (isNode(item) ? withDefaults(memberOf(name), item) : item))
    } else {
      node[key] = isNode(child) ? withDefaults(key, child) : child
    }
  }
  for (const [key, fallback] of Object.entries(DEFAULTS[name] ?? {})) {
    if (node[key] === undefined) node[key] = structuredClone(fallback)
  }
  return node
}

export function buildCloudFrontXml(root: string, node: XmlNode): string {
  return buildXml(root, toBuilderShape(root, node) as Record<string, unknown>, CLOUDFRONT_NAMESPACE)
}

// `Items: []` is left out entirely (Quantity 0): real CloudFront has rejected `<Items/>` on update.
function toBuilderShape(name: string, value: XmlValue): unknown {
  if (Array.isArray(value)) {
    const member = memberOf(name)
    return { [member]: value.map((item) => toBuilderShape(member, item)) }
  }
  if (!isNode(value)) return String(value)
  const shaped: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined || (Array.isArray(child) && child.length === 0)) continue
    shaped[key] = key === 'Items' ? toBuilderShape(name, child) : toBuilderShape(key, child)
  }
  return shaped
}

/** Every value of an element called `name`, anywhere below `value` (list members included). */
export function collect(value: XmlValue | undefined, name: string): XmlValue[] {
  if (Array.isArray(value)) return value.flatMap((item) => collect(item, name))
  if (!isNode(value)) return []
  return Object.entries(value).flatMap(([key, child]) => {
    if (child === undefined) return []
    return key === name ? [child] : collect(child, name)
  })
}
