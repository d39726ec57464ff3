// A kustomize stand-in covering only resources (files), components and configMapGenerator (files, hashed name, its references in Deployments); anything else throws.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { parse, parseAllDocuments } from 'yaml'

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; [field: string]: any }; [field: string]: any }

export interface Rendering {
  objects: KubeObject[]
  /** Every file read, relative to the rendered directory: kustomizations, resources and generator sources. */
  files: string[]
}

const FIELDS: Record<string, { apiVersion: string; fields: string[] }> = {
  Kustomization: { apiVersion: 'kustomize.config.k8s.io/v1beta1', fields: ['apiVersion', 'kind', 'resources', 'components', 'configMapGenerator'] },
  Component: { apiVersion: 'kustomize.config.k8s.io/v1alpha1', fields: ['apiVersion', 'kind', 'resources', 'configMapGenerator'] },
}
const GENERATOR_FIELDS = ['name', 'files']

interface Generated {
  name: string
  hashedName: string
}

/** What `kustomize build dir` prints, as objects (kustomize's output order aside). */
export function renderKustomization(dir: string): Rendering {
  const rendering: Rendering = { objects: [], files: [] }
  const generated: Generated[] = []
  accumulate(dir, dir, 'Kustomization', rendering, generated)
  for (const object of rendering.objects) {
    if (object.kind === 'Deployment') rewriteConfigMapNames(object.spec?.template?.spec ?? {}, generated)
  }
  const ids = rendering.objects.map((o) => `${o.kind}/${o.metadata.name}`)
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i)
  if (twice.length > 0) throw new Error(`kustomize: may not add resource with an already registered id: ${twice.join(', ')}`)
  return rendering
}

function accumulate(root: string, dir: string, expectedKind: string, rendering: Rendering, generated: Generated[]): void {
  const file = join(dir, 'kustomization.yaml')
  rendering.files.push(relative(root, file))
  const kustomization = parse(readFileSync(file, 'utf8')) as Record<string, any>
  const where = relative(root, file)
  if (kustomization.kind !== expectedKind) throw new Error(`${where}: kind ${kustomization.kind}, expected ${expectedKind}`)
  const { apiVersion, fields } = FIELDS[expectedKind]
  if (kustomization.apiVersion !== apiVersion) throw new Error(`${where}: apiVersion ${kustomization.apiVersion}, expected ${apiVersion}`)
  const unknown = Object.keys(kustomization).filter((key) => !fields.includes(key))
  if (unknown.length > 0) throw new Error(`${where}: this renderer does not know ${unknown.join(', ')}`)

  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource)
    rendering.files.push(relative(root, path))
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${relative(root, path)}: ${doc.errors[0].message}`)
      const object = doc.toJS() as KubeObject | null
      if (object !== null) rendering.objects.push(object)
    }
  }
  for (const component of kustomization.components ?? []) accumulate(root, join(dir, component), 'Component', rendering, generated)
  for (const generator of kustomization.configMapGenerator ?? []) {
    const extra = Object.keys(generator).filter((key) => !GENERATOR_FIELDS.includes(key))
    if (extra.length > 0) throw new Error(`${where}: configMapGenerator ${generator.name}: this renderer does not know ${extra.join(', ')}`)
    const data: Record<string, string> = {}
    for (const source of generator.files as string[]) {
      // kustomize's `key=path`, or the file's base name as the key.
      const [key, path] = source.includes('=') ? source.split('=', 2) : [basename(source), source]
      rendering.files.push(relative(root, join(dir, path)))
      data[key] = readFileSync(join(dir, path), 'utf8')
    }
    const hashedName = `${generator.name}-${kustomizeHash({ name: generator.name, data })}`
    generated.push({ name: generator.name, hashedName })
    rendering.objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: hashedName }, data })
  }
}

/** kustomize's ConfigMap name suffix: sha256 of Go's json.Marshal of {data, kind, name}, 10 hex digits with vowel-like ones swapped. */
export function kustomizeHash(configMap: { name: string; data: Record<string, string> }): string {
  const data = Object.fromEntries(Object.entries(configMap.data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  // Go's encoder escapes these for HTML, and kustomize keeps that default.
  const encoded = JSON.stringify({ data, kind: 'ConfigMap', name: configMap.name }).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  const swaps: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' }
  return [...createHash('sha256').update(encoded, 'utf8').digest('hex').slice(0, 10)].map((c) => swaps[c] ?? c).join('')
}

function rewriteConfigMapNames(pod: Record<string, any>, generated: Generated[]): void {
  const rename = (ref: { name?: string } | undefined) => {
    const found = generated.find((g) => g.name === ref?.name)
    if (ref !== undefined && found !== undefined) ref.name = found.hashedName
  }
  for (const volume of pod.volumes ?? []) {
    rename(volume.configMap)
    for (const source of volume.projected?.sources ?? []) rename(source.configMap)
  }
  for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    for (const from of container.envFrom ?? []) rename(from.configMapRef)
    for (const env of container.env ?? []) rename(env.valueFrom?.configMapKeyRef)
  }
}
