// deploy/kubernetes, rendered as kustomize would: every object passes its Kubernetes schema, and the
// objects agree with each other, with the configuration schema and with the Dockerfile.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Service } from 'kubernetes-models/v1/Service'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { loadConfig } from '../../src/config/load.js'
import { parseDockerfile } from '../support/dockerfile.js'
import { kustomizeHash, renderKustomization, type KubeObject } from '../support/kustomize.js'

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url))
const README = fileURLToPath(new URL('../../README.md', import.meta.url))
type Manifest = Record<string, any>
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }

const { objects, files } = renderKustomization(DIR)
const named = (kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name)
  assert.ok(found, `the rendering holds ${kind}/${name}`)
  return found
}
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind)
const runtime = parseDockerfile().at(-1)!
const deployment = named('Deployment', 'cf-signer')
const pod = deployment.spec.template.spec
const container = pod.containers[0]
const podLabels = deployment.spec.template.metadata.labels as Record<string, string>
const service = named('Service', 'cf-signer')
const redisService = named('Service', 'cf-signer-redis')
const redis = ofKind('Deployment').find((d) => selects(redisService.spec.selector, d.spec.template.metadata.labels))
const configMap = named('ConfigMap', pod.volumes.find((v: Manifest) => v.configMap)?.configMap.name)
const input = parse(configMap.data['config.yaml']) as Manifest
const envValue = (name: string) => container.env?.find((e: { name: string }) => e.name === name)?.value as string | undefined

/** A workload's container port, by name or number. */
function portOf(workload: KubeObject, ref: string | number): Manifest | undefined {
  return workload.spec.template.spec.containers.flatMap((c: Manifest) => c.ports ?? []).find((p: Manifest) => p.name === ref || p.containerPort === ref)
}

/** A label selector's verdict, as the API server gives it; a Service's selector is a bare map. */
function selects(selector: Selector | Record<string, string> | undefined, labels: Record<string, string> = {}): boolean {
  if (selector === undefined) return false
  const { matchLabels, matchExpressions } =
    'matchLabels' in selector || 'matchExpressions' in selector ? (selector as Selector) : { matchLabels: selector as Record<string, string>, matchExpressions: [] }
  const byLabel = Object.entries(matchLabels ?? {}).every(([key, value]) => labels[key] === value)
  const byExpression = (matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return values.includes(labels[key])
    if (operator === 'NotIn') return !values.includes(labels[key])
    if (operator === 'Exists') return key in labels
    if (operator === 'DoesNotExist') return !(key in labels)
    throw new Error(`unknown selector operator ${operator}`)
  })
  return byLabel && byExpression
}

/** The pod templates a selector picks among the rendered Deployments. */
const workloadsSelected = (selector: Selector | Record<string, string>) => ofKind('Deployment').filter((d) => selects(selector, d.spec.template.metadata.labels)).map((d) => d.metadata.name)

interface Traffic {
  port: number
  protocol: 'TCP' | 'UDP'
  /** The destination workload (a pod in the namespace); none for a destination outside the cluster. */
  to?: KubeObject
}

/** Whether cf-signer's NetworkPolicies, together, let its pods send this traffic. */
function egressAllows({ port, protocol, to }: Traffic): boolean {
  const policies = ofKind('NetworkPolicy').filter((p) => selects(p.spec.podSelector, podLabels) && p.spec.policyTypes.includes('Egress'))
  return policies.some((policy) =>
    (policy.spec.egress ?? []).some((rule: Manifest) => {
      const peers: Manifest[] = rule.to ?? []
      const peerMatches =
        peers.length === 0 ||
        peers.some((peer) =>
          to === undefined ? peer.ipBlock !== undefined : peer.podSelector !== undefined && peer.namespaceSelector === undefined && selects(peer.podSelector, to.spec.template.metadata.labels),
        )
      const ports: Manifest[] = rule.ports ?? []
      const portMatches =
        ports.length === 0 ||
        ports.some((p) => {
          if ((p.protocol ?? 'TCP') !== protocol) return false
          if (p.port === undefined) return true
          const number = typeof p.port === 'number' ? p.port : to !== undefined ? portOf(to, p.port)?.containerPort : undefined
          return number === port || (p.endPort !== undefined && number <= port && port <= p.endPort)
        })
      return peerMatches && portMatches
    }),
  )
}

const DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/
const seconds = (duration: string) => {
  const [, value, unit] = /^([0-9]+)(s|m|h)$/.exec(duration) ?? []
  assert.ok(value !== undefined, `a duration this test reads (s, m or h): ${duration}`)
  return Number(value) * { s: 1, m: 60, h: 3600 }[unit]!
}

/**
 * kubernetes-models ships no prometheus-operator models: the shape its CRD (monitoring.coreos.com_servicemonitors.yaml)
 * requires, for the fields used here, with any other field refused so a typo cannot pass.
 */
function validateServiceMonitor(monitor: KubeObject): void {
  assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1')
  assert.ok(typeof monitor.metadata?.name === 'string' && monitor.metadata.name.length > 0, 'ServiceMonitor metadata.name')
  assert.deepEqual(Object.keys(monitor).filter((k) => !['apiVersion', 'kind', 'metadata', 'spec'].includes(k)), [], 'ServiceMonitor top-level fields')
  const spec = monitor.spec
  assert.deepEqual(Object.keys(spec).filter((k) => !['selector', 'endpoints', 'namespaceSelector', 'jobLabel'].includes(k)), [], 'ServiceMonitor spec fields')
  assert.ok(spec.selector !== null && typeof spec.selector === 'object', 'spec.selector is required')
  for (const [key, value] of Object.entries(spec.selector.matchLabels ?? {})) assert.equal(typeof value, 'string', `spec.selector.matchLabels.${key}`)
  assert.ok(Array.isArray(spec.endpoints) && spec.endpoints.length > 0, 'spec.endpoints is required')
  for (const endpoint of spec.endpoints) {
    assert.deepEqual(Object.keys(endpoint).filter((k) => !['port', 'path', 'scheme', 'interval', 'scrapeTimeout'].includes(k)), [], 'endpoint fields')
    assert.equal(typeof endpoint.port, 'string', 'endpoint.port names a Service port')
    assert.ok(endpoint.path === undefined || endpoint.path.startsWith('/'), `endpoint.path ${endpoint.path}`)
    assert.ok(endpoint.scheme === undefined || ['http', 'https'].includes(endpoint.scheme), `endpoint.scheme ${endpoint.scheme}`)
    for (const field of ['interval', 'scrapeTimeout']) assert.ok(endpoint[field] === undefined || DURATION.test(endpoint[field]), `endpoint.${field} ${endpoint[field]}`)
    // The operator refuses a scrape timeout above the interval.
    if (endpoint.interval && endpoint.scrapeTimeout) assert.ok(seconds(endpoint.scrapeTimeout) <= seconds(endpoint.interval), 'scrapeTimeout <= interval')
  }
}

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
}

describe('deploy/kubernetes', () => {
  describe('the kustomization', () => {
    it('uses every YAML file under deploy/kubernetes (a resource, a component or a generator\'s source)', () => {
      const onDisk = readdirSync(DIR, { recursive: true }).map(String).filter((f) => f.endsWith('.yaml')).sort()
      assert.deepEqual([...files].sort(), onDisk)
    })

    it('renders objects that each pass their Kubernetes schema', () => {
      for (const object of objects) {
        const where = `${object.kind}/${object.metadata.name}`
        if (object.kind === 'ServiceMonitor') {
          validateServiceMonitor(object)
          continue
        }
        const Model = MODELS[`${object.apiVersion}/${object.kind}`]
        assert.ok(Model, `${where}: a model for ${object.apiVersion} ${object.kind}`)
        assert.doesNotThrow(() => new Model(object).validate(), `${where} is a valid ${object.kind}`)
      }
      assert.deepEqual(
        [...new Set(objects.map((o) => o.kind))].sort(),
        ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceMonitor'],
      )
    })

    it('names the generated ConfigMap with kustomize\'s content hash, so a config change rolls the pods', () => {
      // kubectl's own vectors (staging/src/k8s.io/kubectl/pkg/util/hash/hash_test.go).
      assert.equal(kustomizeHash({ name: '', data: {} }), '42745tchd9')
      assert.equal(kustomizeHash({ name: '', data: { one: '' } }), '9g67k2htb6')
      assert.equal(kustomizeHash({ name: '', data: { two: '2', one: '', three: '3' } }), 'f5h7t85m9b')
      const text = readFileSync(join(DIR, 'config.yaml'), 'utf8')
      assert.equal(configMap.metadata.name, `cf-signer-config-${kustomizeHash({ name: 'cf-signer-config', data: { 'config.yaml': text } })}`)
      assert.equal(configMap.data['config.yaml'], text)
      assert.notEqual(kustomizeHash({ name: 'cf-signer-config', data: { 'config.yaml': `${text}\n` } }), kustomizeHash({ name: 'cf-signer-config', data: { 'config.yaml': text } }))
      assert.deepEqual(ofKind('ConfigMap').map((c) => c.metadata.name), [configMap.metadata.name], 'the Deployment mounts the one generated ConfigMap')
    })
  })

  describe('cf-signer', () => {
    it('runs two or more replicas, scaled by an HPA that never goes below two', () => {
      // A replicas field would reset the HPA's count on every apply.
      assert.equal(deployment.spec.replicas, undefined, 'the HPA alone sets the replica count')
      assert.deepEqual(deployment.spec.selector.matchLabels, podLabels)
      const hpa = named('HorizontalPodAutoscaler', 'cf-signer')
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
      assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas, 'hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas')
      assert.ok(hpa.spec.metrics.some((m: Manifest) => m.resource?.name === 'cpu'), 'the HPA scales on CPU')
    })

    it('keeps a pod serving through a drain: the PDB selects the pods and lets one go at a time', () => {
      const budgets = ofKind('PodDisruptionBudget')
      assert.equal(budgets.length, 1, 'one PodDisruptionBudget')
      assert.deepEqual(workloadsSelected(budgets[0].spec.selector), ['cf-signer'])
      const minReplicas = named('HorizontalPodAutoscaler', 'cf-signer').spec.minReplicas
      const { maxUnavailable, minAvailable } = budgets[0].spec
      // Both ways a budget can block a drain forever, or let every pod go.
      if (maxUnavailable !== undefined) assert.ok(maxUnavailable >= 1 && maxUnavailable < minReplicas, `maxUnavailable ${maxUnavailable} within 1..${minReplicas - 1}`)
      else assert.ok(minAvailable >= 1 && minAvailable < minReplicas, `minAvailable ${minAvailable} within 1..${minReplicas - 1}`)
    })

    it('serves on the image\'s port, probed on /readyz and /healthz, behind a Service that selects only its pods', () => {
      const port = portOf(deployment, 'http')!
      assert.equal(String(port.containerPort), runtime.last('EXPOSE'))
      assert.equal(String(port.containerPort), runtime.env.PORT)
      assert.equal(container.readinessProbe.httpGet.path, '/readyz')
      assert.equal(container.livenessProbe.httpGet.path, '/healthz')
      for (const probe of [container.readinessProbe, container.livenessProbe]) assert.ok(portOf(deployment, probe.httpGet.port), `probe port ${probe.httpGet.port}`)
      assert.deepEqual(workloadsSelected(service.spec.selector), ['cf-signer'])
      for (const p of service.spec.ports) assert.ok(portOf(deployment, p.targetPort), `service targetPort ${p.targetPort} is a container port`)
    })

    it('mounts the key secret read-only, as a whole volume, at the image\'s KEYS_DIR, under the name the README creates', () => {
      const mount = container.volumeMounts.find((m: Manifest) => m.mountPath === runtime.env.KEYS_DIR)
      assert.ok(mount, `a volume at ${runtime.env.KEYS_DIR}`)
      assert.equal(mount.readOnly, true)
      // A subPath mount would never see the kubelet's atomic ..data swap, so rotations would not arrive.
      assert.equal(mount.subPath, undefined)
      const volume = pod.volumes.find((v: Manifest) => v.name === mount.name)
      assert.equal(volume.secret.defaultMode & 0o007, 0, 'keys unreadable by others')
      // The secret is the operator's to create (keys stay out of git): the documented command must name it.
      const created = [...readFileSync(README, 'utf8').matchAll(/kubectl create secret generic (\S+)/g)].map((m) => m[1])
      assert.ok(created.length > 0, 'the README shows how to create the key secret')
      assert.ok(created.includes(volume.secret.secretName), 'the README creates the secret the Deployment mounts')
      const mounted = pod.volumes.filter((v: Manifest) => v.secret !== undefined).map((v: Manifest) => v.secret.secretName)
      for (const name of created) assert.ok(mounted.includes(name), `the README creates ${name}, which the Deployment mounts`)
    })

    it('mounts the edge layer\'s HMAC key secret as an optional whole volume at the edge.keysDir config.yaml names', () => {
      const volume = pod.volumes.find((v: Manifest) => v.secret?.secretName === 'cf-signer-edge-keys')
      assert.ok(volume, 'a cf-signer-edge-keys secret volume')
      assert.equal(volume.secret.optional, true, 'a deployment without the edge layer has no such secret')
      assert.equal(volume.secret.defaultMode & 0o007, 0, 'keys unreadable by others')
      const mount = container.volumeMounts.find((m: Manifest) => m.name === volume.name)
      assert.equal(mount.readOnly, true)
      assert.equal(mount.subPath, undefined, 'a whole volume: a rotated secret arrives')
      assert.ok(configMap.data['config.yaml'].includes(`keysDir: ${mount.mountPath}`), 'config.yaml shows edge.keysDir at the mount')
    })

    it('mounts the generated ConfigMap\'s config.yaml at the image\'s CONFIG_FILE', () => {
      const mount = container.volumeMounts.find((m: Manifest) => m.mountPath === runtime.env.CONFIG_FILE)
      assert.ok(mount, `a volume at ${runtime.env.CONFIG_FILE}`)
      assert.equal(mount.readOnly, true)
      const volume = pod.volumes.find((v: Manifest) => v.name === mount.name)
      assert.equal(volume.configMap.name, configMap.metadata.name)
      assert.ok(typeof configMap.data[mount.subPath] === 'string', `the ConfigMap holds ${mount.subPath}`)
    })

    it('holds a production configuration that passes the service\'s validation, with the image\'s paths', () => {
      // What the container does: KEYS_DIR from the image. No file is read: the JWT keys come from a JWKS URL.
      const config = loadConfig({ input, production: true, overrides: { keysDir: runtime.env.KEYS_DIR } })
      assert.equal(config.development, false)
      assert.equal(config.keys.dir, runtime.env.KEYS_DIR)
      assert.ok(input.keys?.dir === undefined || input.keys.dir === runtime.env.KEYS_DIR, 'keys.dir, if given, is the mount point')
      assert.ok(input.server?.port === undefined || String(input.server.port) === runtime.env.PORT, 'server.port, if given, is the container port')
      assert.ok(Object.keys(config.distributions).length > 0, 'a distribution to sign for')
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

  describe('the network policy', () => {
    const policies = ofKind('NetworkPolicy').filter((p) => selects(p.spec.podSelector, podLabels))

    it('lets in only the service port', () => {
      const ingress = policies.filter((p) => p.spec.policyTypes.includes('Ingress'))
      assert.ok(ingress.length > 0, 'a policy isolates cf-signer\'s pods for ingress')
      const rules: Manifest[] = ingress.flatMap((p) => p.spec.ingress ?? [])
      assert.ok(rules.length > 0, 'something may reach the pods')
      for (const rule of rules) {
        assert.ok(rule.ports?.length > 0, 'an ingress rule names its ports')
        for (const p of rule.ports) {
          assert.equal(p.protocol ?? 'TCP', 'TCP')
          assert.equal(portOf(deployment, p.port)?.containerPort, portOf(deployment, service.spec.ports[0].targetPort)?.containerPort, `ingress port ${p.port} is the Service's`)
        }
      }
    })

    it('lets out DNS, 443 (the JWKS host and AWS) and Redis, and nothing else', () => {
      assert.ok(policies.some((p) => p.spec.policyTypes.includes('Egress')), 'a policy isolates cf-signer\'s pods for egress')
      assert.ok(redis, 'a Redis Deployment behind the Redis Service')
      const redisPort = portOf(redis!, redisService.spec.ports[0].targetPort)!.containerPort as number
      for (const traffic of [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
        { port: 443, protocol: 'TCP' },
        { port: redisPort, protocol: 'TCP', to: redis! },
      ] satisfies Traffic[]) {
        assert.ok(egressAllows(traffic), `egress to ${traffic.to?.metadata.name ?? 'outside'} on ${traffic.port}/${traffic.protocol}`)
      }
      const allowedPorts = policies.flatMap((p) => p.spec.egress ?? []).flatMap((rule: Manifest) => {
        assert.ok(rule.ports?.length > 0, 'an egress rule names its ports')
        return rule.ports.map((p: Manifest) => `${p.port}/${p.protocol ?? 'TCP'}`)
      })
      assert.deepEqual(allowedPorts.sort(), ['443/TCP', '53/TCP', '53/UDP', `${redisPort}/TCP`].sort())
      for (const traffic of [
        { port: 80, protocol: 'TCP' },
        { port: 6379, protocol: 'TCP' },
        { port: 443, protocol: 'UDP' },
        { port: 3000, protocol: 'TCP', to: deployment },
      ] satisfies Traffic[]) {
        assert.ok(!egressAllows(traffic), `no egress to ${traffic.to?.metadata.name ?? 'outside'} on ${traffic.port}/${traffic.protocol}`)
      }
    })
  })

  describe('Redis (components/redis)', () => {
    it('is what rateLimit.redisUrl names: the Redis Service\'s name and port, which reach the Redis container', () => {
      const url = new URL(input.rateLimit.redisUrl)
      assert.equal(url.hostname, redisService.metadata.name)
      assert.equal(Number(url.port || 6379), redisService.spec.ports[0].port)
      assert.ok(redis, 'the Redis Service selects a Deployment')
      assert.deepEqual(workloadsSelected(redisService.spec.selector), [redis.metadata.name])
      assert.ok(portOf(redis, redisService.spec.ports[0].targetPort), `the Redis Service's targetPort ${redisService.spec.ports[0].targetPort} is a container port`)
    })

    it('admits only cf-signer\'s pods, on the Redis port', () => {
      const guarding = ofKind('NetworkPolicy').filter((p) => selects(p.spec.podSelector, redis!.spec.template.metadata.labels))
      assert.equal(guarding.length, 1, 'one policy isolates Redis')
      const [policy] = guarding
      assert.deepEqual([...policy.spec.policyTypes].sort(), ['Egress', 'Ingress'])
      assert.deepEqual(policy.spec.egress, [], 'Redis calls nobody')
      const redisPort = portOf(redis!, redisService.spec.ports[0].targetPort)!.containerPort
      for (const rule of policy.spec.ingress) {
        assert.ok(rule.from?.length > 0, 'an ingress rule names who')
        for (const peer of rule.from) assert.deepEqual(workloadsSelected(peer.podSelector), ['cf-signer'], 'only cf-signer reaches Redis')
        assert.deepEqual(rule.ports.map((p: Manifest) => portOf(redis!, p.port)?.containerPort ?? p.port), [redisPort])
      }
    })

    it('runs non-root on a read-only root, without persistence, with maxmemory under its memory limit', () => {
      const { spec } = redis!.spec.template
      const [redisContainer] = spec.containers
      assert.equal(spec.securityContext.runAsNonRoot, true)
      assert.equal(redisContainer.securityContext.readOnlyRootFilesystem, true)
      assert.equal(redis!.spec.replicas, 1, 'one Redis: a second would split the counts')
      assert.equal(redis!.spec.strategy.type, 'Recreate', 'never two Redis at once during a rollout')
      const args: string[] = redisContainer.args
      const option = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined)
      assert.equal(option('save'), '', 'no RDB snapshots')
      assert.equal(option('appendonly'), 'no', 'no append-only file')
      const maxmemory = /^([0-9]+)mb$/.exec(option('maxmemory') ?? '')
      const limit = /^([0-9]+)Mi$/.exec(redisContainer.resources.limits.memory)
      assert.ok(maxmemory && limit, `maxmemory ${option('maxmemory')} and limits.memory ${redisContainer.resources.limits.memory} in mb and Mi`)
      assert.ok(Number(maxmemory[1]) * 1e6 < Number(limit[1]) * 2 ** 20 * 0.75, 'maxmemory leaves Redis room under its memory limit')
    })
  })

  describe('metrics', () => {
    it('asks for a scrape of /metrics on the container port, which the configuration serves', () => {
      const annotations = deployment.spec.template.metadata.annotations ?? {}
      assert.equal(annotations['prometheus.io/scrape'], 'true')
      assert.equal(annotations['prometheus.io/port'], String(portOf(deployment, 'http')!.containerPort))
      assert.equal(annotations['prometheus.io/path'], '/metrics')
      assert.notEqual(input.metrics?.enabled, false, 'metrics.enabled')
    })

    it('has a ServiceMonitor that selects the cf-signer Service and names its port', () => {
      const [monitor, ...more] = ofKind('ServiceMonitor')
      assert.equal(more.length, 0, 'one ServiceMonitor')
      const selected = ofKind('Service').filter((s) => selects(monitor.spec.selector, s.metadata.labels))
      assert.deepEqual(selected.map((s) => s.metadata.name), [service.metadata.name])
      for (const endpoint of monitor.spec.endpoints) {
        const servicePort = service.spec.ports.find((p: Manifest) => p.name === endpoint.port)
        assert.ok(servicePort, `the Service has a port named ${endpoint.port}`)
        assert.equal(portOf(deployment, servicePort.targetPort)?.containerPort, Number(deployment.spec.template.metadata.annotations['prometheus.io/port']), 'it scrapes the annotated port')
        assert.equal(endpoint.path, '/metrics')
      }
    })
  })
})
