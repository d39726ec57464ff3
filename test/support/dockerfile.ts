import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const DOCKERFILE = fileURLToPath(new URL('../../Dockerfile', import.meta.url))

export interface Instruction {
  keyword: string
  args: string
}

export interface Stage {
  name: string
  from: string
  instructions: Instruction[]
  /** Instruction arguments by keyword, in order. */
  all(keyword: string): string[]
  /** The last one, as Docker applies it (WORKDIR, USER, CMD, EXPOSE...). */
  last(keyword: string): string | undefined
  /** Every `ENV` of the stage, `KEY=value` pairs merged. */
  env: Record<string, string>
}

/** The Dockerfile's stages: comments dropped, continuation lines joined. Enough for this project's file. */
export function parseDockerfile(text = readFileSync(DOCKERFILE, 'utf8')): Stage[] {
  const lines = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  const stages: Stage[] = []
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line) ?? []
    if (keyword === undefined) throw new Error(`Dockerfile: cannot read "${line}"`)
    if (keyword.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? []
      const instructions: Instruction[] = []
      stages.push({
        name: name ?? String(stages.length),
        from,
        instructions,
        all: (k) => instructions.filter((i) => i.keyword === k).map((i) => i.args),
        last: (k) => instructions.filter((i) => i.keyword === k).at(-1)?.args,
        env: {},
      })
      continue
    }
    const stage = stages.at(-1)
    if (stage === undefined) throw new Error('Dockerfile: an instruction before FROM')
    stage.instructions.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') })
    if (keyword.toUpperCase() === 'ENV') {
      for (const pair of args.trim().split(/\s+/)) {
        const [key, ...value] = pair.split('=')
        stage.env[key] = value.join('=')
      }
    }
  }
  return stages
}

/** A JSON-array (exec form) argument, e.g. CMD ["node", "dist/server.js"]. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`not an exec-form array: ${args}`)
  return parsed
}
