import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { createServer } from 'node:net'
import type { TestContext } from 'node:test'
import { waitForOutput } from './wait.js'

/** The tsx loader, resolved here so a child finds it whatever its working directory. */
export const TSX = import.meta.resolve('tsx')

export interface RunningProcess {
  child: ChildProcess
  /** Everything the process wrote so far (stdout and stderr). */
  output: () => string
  stdout: () => string
  stderr: () => string
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>
}

export interface ServiceProcess extends RunningProcess {
  /** `http://127.0.0.1:<port>` once the service listens. */
  baseUrl: string
}

/** A port free on 127.0.0.1 right now, for a process that must be told its port before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Spawns a command with its output captured: the one way the tests start a process of the service. */
export function spawnProcess(
  command: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number; /** Leads its own process group, as a terminal's job does. */ detached?: boolean },
): RunningProcess {
  const child = spawn(command[0], command.slice(1), {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    detached: options.detached,
  })
  let output = ''
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    output += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    output += chunk.toString()
  })
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  return { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Stops the process when the test ends: SIGTERM, then SIGKILL after 5 s. */
export function stopWhenDone(t: TestContext, running: RunningProcess): void {
  t.after(async () => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) return
    running.child.kill('SIGTERM')
    const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000)
    await running.exited
    clearTimeout(timer)
  })
}

/** The exit code or signal once the process has exited, else undefined (for waitForOutput). */
export function exitStatus(running: RunningProcess): () => string | undefined {
  return () => {
    const { exitCode, signalCode } = running.child
    return exitCode !== null ? String(exitCode) : (signalCode ?? undefined)
  }
}

/** Spawns the service and waits for its "Server listening at" log line (PORT=0 picks a free port). */
export async function startService(
  command: string[],
  options: { cwd: string; env: Record<string, string>; startTimeoutMs?: number; uid?: number; gid?: number },
): Promise<ServiceProcess> {
  const running = spawnProcess(command, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...options.env },
    uid: options.uid,
    gid: options.gid,
  })
  const [, baseUrl] = await waitForOutput(running.output, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/, options.startTimeoutMs ?? 30_000, exitStatus(running))
  return { ...running, baseUrl }
}

/** One request on its own connection (no keep-alive pool); `null` when the connection is refused. */
export async function fetchFresh(url: string): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve(null) : reject(err)))
    req.end()
  })
}

/**
 * Polls `/readyz` the way a kubelet's readiness probe does, until it answers 200 or `timeoutMs` passes: a service
 * is ready only once its first JWKS fetch (and the like) has finished, which a loaded machine may take a while to do.
 * Answers the last reply (null when nothing listened).
 */
export async function probeReady(baseUrl: string, timeoutMs = 10_000): Promise<{ status: number; body: string } | null> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const answer = await fetchFresh(`${baseUrl}/readyz`)
    if (answer?.status === 200 || performance.now() > deadline) return answer
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
