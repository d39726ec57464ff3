// The manifests in deploy/kubernetes agree with each other, with the configuration schema and with
// the Dockerfile: ports, probe paths, mount points, users and shutdown timings.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, parseAllDocuments } from 'yaml'
import { loadConfig } from '../../src/config/load.js'
import { parseDockerfile } from '../support/dockerfile.js'

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))
type Manifest = Record<string, any>
const manifests: Manifest[] = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => doc.toJS() as Manifest))
const one = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind)
  assert.equal(found.length, 1, `one ${kind}`)
  return found[0]
}
const runtime = parseDockerfile().at(-1)!
const deployment = one('Deployment')
const pod = deployment.spec.template.spec
const container = pod.containers[0]
const envValue = (name: string) => container.env?.find((e: { name: string }) => e.name === name)?.value as string | undefined
const containerPort = (ref: string | number) => container.ports.find((p: Manifest) => p.name === ref || p.containerPort === ref)

describe('deploy/kubernetes', () => {
  it('lists every manifest in its kustomization', () => {
    const { resources } = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
    assert.deepEqual([...resources].sort(), readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort())
  })

  it('runs two or more replicas, scaled by an HPA that never goes below two', () => {
    assert.ok(deployment.spec.replicas >= 2, 'deployment.spec.replicas >= 2')
    assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)
    const hpa = one('HorizontalPodAutoscaler')
    assert.equal(hpa.apiVersion, 'autoscaling/v2')
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas, 'hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas')
    assert.ok(hpa.spec.metrics.some((m: Manifest) => m.resource?.name === 'cpu'), "hpa.spec.metrics.some((m: Manifest) => m.resource?.name === 'cpu')")
  })

  it('serves on the image\'s port, probed on /readyz and /healthz, behind a Service that selects the pods', () => {
    const port = containerPort('http')
    assert.equal(String(port.containerPort), runtime.last('EXPOSE'))
    assert.equal(String(port.containerPort), runtime.env.PORT)
    assert.equal(container.readinessProbe.httpGet.path, '/readyz')
    assert.equal(container.livenessProbe.httpGet.path, '/healthz')
    for (const probe of [container.readinessProbe, container.livenessProbe]) assert.ok(containerPort(probe.httpGet.port), `probe port ${probe.httpGet.port}`)
    const service = one('Service')
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels)
    for (const p of service.spec.ports) assert.ok(containerPort(p.targetPort), `service targetPort ${p.targetPort}`)
  })

  it('mounts the key secret read-only, as a whole volume, at the image\'s KEYS_DIR', () => {
    const mount = container.volumeMounts.find((m: Manifest) => m.mountPath === runtime.env.KEYS_DIR)
    assert.ok(mount, `a volume at ${runtime.env.KEYS_DIR}`)
    assert.equal(mount.readOnly, true)
    // A subPath mount would never see the kubelet's atomic ..data swap, so rotations would not arrive.
    assert.equal(mount.subPath, undefined)
    const volume = pod.volumes.find((v: Manifest) => v.name === mount.name)
    assert.ok(volume.secret?.secretName, 'volume.secret?.secretName')
    assert.equal(volume.secret.defaultMode & 0o007, 0, 'keys unreadable by others')
  })

  it('mounts the ConfigMap\'s config.yaml at the image\'s CONFIG_FILE', () => {
    const mount = container.volumeMounts.find((m: Manifest) => m.mountPath === runtime.env.CONFIG_FILE)
    assert.ok(mount, `a volume at ${runtime.env.CONFIG_FILE}`)
    assert.equal(mount.readOnly, true)
    const volume = pod.volumes.find((v: Manifest) => v.name === mount.name)
    const configMap = one('ConfigMap')
    assert.equal(volume.configMap.name, configMap.metadata.name)
    assert.ok(typeof configMap.data[mount.subPath] === 'string', `the ConfigMap holds ${mount.subPath}`)
  })

  it('holds a production configuration that passes the service\'s validation, with the image\'s paths', () => {
    const input = parse(one('ConfigMap').data['config.yaml']) as Manifest
    // What the container does: KEYS_DIR from the image. No file is read: the JWT keys come from a JWKS URL.
    const config = loadConfig({ input, production: true, overrides: { keysDir: runtime.env.KEYS_DIR } })
    assert.equal(config.development, false)
    assert.equal(config.keys.dir, runtime.env.KEYS_DIR)
    assert.ok(input.keys?.dir === undefined || input.keys.dir === runtime.env.KEYS_DIR, 'keys.dir, if given, is the mount point')
    assert.ok(input.server?.port === undefined || String(input.server.port) === runtime.env.PORT, 'server.port, if given, is the container port')
    assert.ok(Object.keys(config.distributions).length > 0, 'Object.keys(config.distributions).length > 0')
    assert.ok(config.rateLimit.redisUrl !== undefined, 'replicas share one rate-limit budget')
  })

  it('runs as the image\'s non-root user with a read-only root filesystem, with resource requests and limits', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true)
    assert.equal(pod.securityContext.runAsUser, 1000, `the image's USER ${runtime.last('USER')} (uid 1000)`)
    assert.equal(pod.securityContext.fsGroup, pod.securityContext.runAsGroup, 'the secret readable by the service')
    assert.equal(container.securityContext.readOnlyRootFilesystem, true)
    assert.equal(container.securityContext.allowPrivilegeEscalation, false)
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL'])
    for (const kind of ['requests', 'limits']) for (const resource of ['cpu', 'memory']) assert.ok(container.resources[kind][resource], `${kind}.${resource}`)
  })

  it('gives the service time to drain: readiness fails within the drain delay, which ends before the grace period and SIGKILL', () => {
    const graceMs = Number(envValue('SHUTDOWN_GRACE_MS') ?? 10_000)
    const delayMs = Number(envValue('SHUTDOWN_DELAY_MS') ?? 5_000)
    assert.ok(delayMs < graceMs, 'delayMs < graceMs')
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > graceMs, 'terminationGracePeriodSeconds above SHUTDOWN_GRACE_MS')
    const { periodSeconds, failureThreshold } = container.readinessProbe
    assert.ok(periodSeconds * failureThreshold * 1000 <= delayMs, 'readiness notices the shutdown within SHUTDOWN_DELAY_MS')
  })
})
