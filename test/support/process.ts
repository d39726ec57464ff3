import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'

export interface ServiceProcess {
  child: ChildProcess
  /** `http://127.0.0.1:<port>` once the service listens. */
  baseUrl: string
  /** Everything the process wrote so far (stdout and stderr). */
  output: () => string
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>
}

/** Spawns the service and waits for its "Server listening at" log line (PORT=0 picks a free port). */
export async function startService(
  command: string[],
  options: { cwd: string; env: Record<string, string>; startTimeoutMs?: number; uid?: number; gid?: number },
): Promise<ServiceProcess> {
  const child = spawn(command[0], command.slice(1), {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not listen within ${options.startTimeoutMs ?? 30_000} ms:\n${output}`)), options.startTimeoutMs ?? 30_000)
    const onData = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`the service exited (${code}) before listening:\n${output}`))
    })
  })
  return { child, baseUrl, output: () => output, exited }
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
