import type { TestContext } from 'node:test'
import { after } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from './build.js'

/**
 * One app per test file for the many tests that only need `build()`'s defaults (starting an app,
 * signer workers included, costs a few hundred milliseconds). Tests must not change its state;
 * anything with its own configuration or clock builds its own app.
 */
export function sharedApp(options: Parameters<typeof build>[1] = {}): () => Promise<FastifyInstance> {
  const cleanups: Array<() => unknown> = []
  const fileScope = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext
  let app: Promise<FastifyInstance> | undefined
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })
  return () => (app ??= build(fileScope, options))
}
