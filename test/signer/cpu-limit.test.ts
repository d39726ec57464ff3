import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { defaultWorkerCount, parseCpuQuota } from '../../src/signer/cpu-limit.js'
import { loadConfig } from '../../src/config/load.js'

describe('signer pool size', () => {
  it('reads the CPU quota of cgroup v2 and v1, and none where there is no limit', () => {
    assert.equal(parseCpuQuota('200000 100000\n'), 2)
    assert.equal(parseCpuQuota('50000 100000'), 0.5)
    assert.equal(parseCpuQuota('max 100000'), undefined)
    assert.equal(parseCpuQuota(undefined, { quotaUs: '150000\n', periodUs: '100000\n' }), 1.5)
    assert.equal(parseCpuQuota(undefined, { quotaUs: '-1', periodUs: '100000' }), undefined)
    assert.equal(parseCpuQuota(undefined), undefined)
  })

  it('defaults to the cores the container may use: capped by its limit, rounded up, at least one', () => {
    const cgroupV2 = (cpuMax: string) => (path: string) => (path === '/sys/fs/cgroup/cpu.max' ? cpuMax : undefined)
    assert.equal(defaultWorkerCount(cgroupV2('100000 100000')), 1)
    assert.equal(defaultWorkerCount(cgroupV2('50000 100000')), 1, 'half a CPU still gets one worker')
    assert.equal(defaultWorkerCount(cgroupV2(`${(availableParallelism() + 8) * 100000} 100000`)), availableParallelism(), 'never more than the cores')
    assert.equal(defaultWorkerCount(cgroupV2('max 100000')), availableParallelism())
    assert.equal(defaultWorkerCount(() => undefined), availableParallelism(), 'no cgroup files: the cores')
  })

  it('takes signer.workers from the configuration, a whole number from 1 to 64', () => {
    assert.equal(loadConfig({ input: { signer: { workers: 3 } } }).signer.workers, 3)
    assert.equal(loadConfig({ input: {} }).signer.workers, undefined)
    for (const workers of [0, 65, 1.5, '2']) assert.throws(() => loadConfig({ input: { signer: { workers } } }), /signer\/workers|signer\.workers/, String(workers))
  })
})
