// System tools some tests drive for real (a browser, a Redis server, the AWS CLI, curl). On a machine
// without one, those tests are skipped with the command that installs it, and the runner's closing
// lines name them; with CI set they never skip (.ci/run installs everything), so a missing tool fails.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Each tool's executable and the Debian package that provides it. */
export const SYSTEM_TOOLS = {
  chromium: { executable: '/usr/bin/chromium', apt: 'chromium' },
  'redis-server': { executable: 'redis-server', apt: 'redis-server' },
  aws: { executable: 'aws', apt: 'awscli' },
  curl: { executable: 'curl', apt: 'curl' },
} as const

export type SystemTool = keyof typeof SYSTEM_TOOLS

/** The one command that installs every tool the suite drives. */
export const INSTALL_ALL_TOOLS = `sudo apt-get install -y --no-install-recommends ${Object.values(SYSTEM_TOOLS)
  .map((tool) => tool.apt)
  .join(' ')}`

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export function hasTool(tool: SystemTool): boolean {
  const { executable } = SYSTEM_TOOLS[tool]
  if (executable.includes('/')) return isExecutable(executable)
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && isExecutable(join(dir, executable)))
}

/**
 * Test options for a test or suite that drives `tools`: `{ skip: reason }` when one is missing and
 * CI is not set, else `{}`. Use as `describe(name, needs('chromium'), () => ...)`.
 */
export function needs(...tools: SystemTool[]): { skip?: string } {
  if (process.env.CI) return {}
  const missing = tools.filter((tool) => !hasTool(tool))
  if (missing.length === 0) return {}
  return { skip: `needs ${missing.join(', ')}: ${INSTALL_ALL_TOOLS}` }
}
