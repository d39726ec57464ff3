import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

/**
 * CPUs a container's cgroup quota allows, from cgroup v2's `cpu.max` ("<quota> <period>" or "max <period>")
 * or v1's quota and period files; undefined when there is no quota.
 */
export function parseCpuQuota(cpuMax: string | undefined, v1: { quotaUs?: string; periodUs?: string } = {}): number | undefined {
  const [quota, period] = cpuMax?.trim().split(/\s+/) ?? [v1.quotaUs?.trim(), v1.periodUs?.trim()]
  const cpus = Number(quota) / Number(period)
  return Number.isFinite(cpus) && cpus > 0 ? cpus : undefined
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * The signer's default pool size: the cores this process may use, capped by the container's CPU limit
 * (node's availableParallelism counts the node's cores, so a pod limited to 2 CPUs on a 64-core node
 * would start 64 workers). At least one.
 */
export function defaultWorkerCount(read: (path: string) => string | undefined = readOptional): number {
  const quota = parseCpuQuota(read('/sys/fs/cgroup/cpu.max'), {
    quotaUs: read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'),
    periodUs: read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'),
  })
  const cores = availableParallelism()
  return Math.max(1, quota === undefined ? cores : Math.min(cores, Math.ceil(quota)))
}
