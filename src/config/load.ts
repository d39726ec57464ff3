import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Value } from '@sinclair/typebox/value'
import { parse as parseYaml } from 'yaml'
import { ensureDevelopmentMaterial } from '../dev/defaults.js'
import { loadEdgeKeys } from '../edge/keys.js'
import { ConfigSchema, DistributionSchema, type Config, type ConfigInput } from './schema.js'

export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.yaml', import.meta.url))

/** Bad configuration: every problem found, each naming its field. */
export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export interface LoadConfigOptions {
  /** A YAML file; the embedded `config/default.yaml` when absent. */
  file?: string
  /** Parsed configuration, instead of a file (tests). */
  input?: unknown
  /** NODE_ENV=production: no development defaults, ever. */
  production?: boolean
  /** Where development keys and secrets live (default `.dev` in the working directory). */
  devDir?: string
  /** From the environment (HOST, PORT, KEYS_DIR); they win over the file. */
  overrides?: { host?: string; port?: number; keysDir?: string }
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const file = options.file ?? DEFAULT_CONFIG_FILE
  const raw = options.input ?? readYaml(file)
  const input = Value.Default(ConfigSchema, structuredClone(raw ?? {})) as ConfigInput
  // TypeBox does not descend into Record values for defaults, so each distribution gets its own.
  if (input.distributions !== null && typeof input.distributions === 'object') {
    for (const [name, dist] of Object.entries(input.distributions)) input.distributions[name] = Value.Default(DistributionSchema, dist) as never
  }
  const problems = [...Value.Errors(ConfigSchema, input)].map(
    (e) => `${e.path.slice(1).replaceAll('/', '.') || '(root)'}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`,
  )
  if (problems.length > 0) throw new ConfigError(problems)

  if (options.overrides?.host !== undefined) input.server.host = options.overrides.host
  const port = options.overrides?.port
  if (port !== undefined) {
    // PORT comes from the environment, past the schema: checked here rather than failing at listen.
    if (Number.isInteger(port) && port >= 0 && port <= 65535) input.server.port = port
    else problems.push(`PORT: must be a whole number from 0 to 65535 (got ${port})`)
  }
  if (options.overrides?.keysDir !== undefined) input.keys.dir = options.overrides.keysDir

  let development = false
  const jwt = input.auth.jwt
  const jwtSources = (['secret', 'secretFile', 'publicKeyFile', 'jwksUrl'] as const).filter((k) => jwt[k] !== undefined)
  if (!options.production && jwtSources.length === 0 && input.keys.dir === undefined) {
    const dev = ensureDevelopmentMaterial(resolve(options.devDir ?? '.dev'))
    jwt.secret = dev.jwtSecret
    input.keys.dir = dev.keysDir
    input.keys.activeKeyId = dev.keyId
    jwtSources.push('secret')
    development = true
  }

  if (jwtSources.length === 0) problems.push('auth.jwt: one of secret, secretFile, publicKeyFile or jwksUrl is required (NODE_ENV=production never falls back to development defaults)')
  if (jwtSources.length > 1) problems.push(`auth.jwt: give only one of ${jwtSources.join(', ')}`)
  if (input.keys.dir === undefined && input.keys.kms.length === 0) problems.push('keys.dir: required: the directory holding <KEY_ID>.pem signing keys (or keys.kms)')

  const algorithms = jwt.algorithms ?? defaultAlgorithms(jwtSources[0], jwt.publicKeyFile, problems)
  const symmetric = jwtSources[0] === 'secret' || jwtSources[0] === 'secretFile'
  // With no source, or several, the problem is already named above.
  for (const alg of jwtSources.length === 1 ? algorithms : []) {
    if (alg.startsWith('HS') !== symmetric) {
      problems.push(`auth.jwt.algorithms: ${alg} does not fit ${jwtSources[0]} (HS* algorithms need a secret, the others a public key or JWKS)`)
    }
  }
  const secret = jwt.secretFile !== undefined ? readSecret(jwt.secretFile, 'auth.jwt.secretFile', problems) : jwt.secret
  if (secret !== undefined && secret.length < 32) problems.push('auth.jwt.secretFile: the secret must be at least 32 characters')
  const passphrase = input.keys.passphraseFile !== undefined ? readSecret(input.keys.passphraseFile, 'keys.passphraseFile', problems) : undefined

  checkDistributions(input, problems)
  const edgeKeys = readEdgeKeys(input, problems)
  checkAws(input, problems)
  checkKmsKeys(input, problems)
  checkServerTimeouts(input, problems)
  if (problems.length > 0) throw new ConfigError(problems)

  return deepFreeze({
    ...input,
    auth: { jwt: { ...jwt, secret, secretFile: undefined, algorithms } },
    keys: { ...input.keys, dir: input.keys.dir, passphrase },
    edge: { ...input.edge, keys: edgeKeys, activeKey: edgeKeys.find((key) => key.id === input.edge.activeKeyId) },
    development,
  }) as Config
}

function readYaml(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the configuration file (${(err as NodeJS.ErrnoException).code})`])
  }
  try {
    return parseYaml(text)
  } catch (err) {
    throw new ConfigError([`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`])
  }
}

function readSecret(file: string, field: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim()
  } catch (err) {
    problems.push(`${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`)
    return undefined
  }
}

function defaultAlgorithms(source: string | undefined, publicKeyFile: string | undefined, problems: string[]): string[] {
  if (source === 'publicKeyFile' && publicKeyFile !== undefined) {
    try {
      return createPublicKey(readFileSync(publicKeyFile)).asymmetricKeyType === 'ec' ? ['ES256'] : ['RS256']
    } catch (err) {
      problems.push(`auth.jwt.publicKeyFile: cannot load a public key from ${publicKeyFile} (${(err as Error).message.split('\n')[0]})`)
      return ['RS256']
    }
  }
  return source === 'jwksUrl' ? ['RS256'] : ['HS256']
}

function checkAws(input: ConfigInput, problems: string[]): void {
  const aws = input.aws
  if (aws === undefined) return
  const names = Object.keys(aws.accounts)
  if (names.length === 0) problems.push('aws.accounts: name at least one account (or leave the aws section out)')
  if (aws.defaultAccount !== undefined && !names.includes(aws.defaultAccount)) {
    problems.push(`aws.defaultAccount: ${aws.defaultAccount} is not one of aws.accounts (${names.join(', ') || 'none'})`)
  }
  if (aws.defaultAccount === undefined && names.length > 1) problems.push(`aws.defaultAccount: required when several accounts are configured (${names.join(', ')})`)
  if (aws.wait.defaultTimeoutSeconds > aws.wait.maxTimeoutSeconds) {
    problems.push(`aws.wait.defaultTimeoutSeconds: ${aws.wait.defaultTimeoutSeconds} exceeds maxTimeoutSeconds (${aws.wait.maxTimeoutSeconds})`)
  }
  if (aws.wait.firstPollDelayMs > aws.wait.maxPollDelayMs) {
    problems.push(`aws.wait.firstPollDelayMs: ${aws.wait.firstPollDelayMs} exceeds maxPollDelayMs (${aws.wait.maxPollDelayMs})`)
  }
}

function checkKmsKeys(input: ConfigInput, problems: string[]): void {
  const accounts = Object.keys(input.aws?.accounts ?? {})
  const seen = new Set<string>()
  input.keys.kms.forEach((entry, index) => {
    const field = `keys.kms[${index}]`
    if (seen.has(entry.keyId)) problems.push(`${field}.keyId: ${entry.keyId} is already another keys.kms entry's`)
    seen.add(entry.keyId)
    if (accounts.length === 0) problems.push(`${field}: a KMS key needs an AWS account (aws.accounts)`)
    else if (entry.account !== undefined && !accounts.includes(entry.account)) problems.push(`${field}.account: ${entry.account} is not one of aws.accounts (${accounts.join(', ')})`)
    else if (entry.account === undefined && input.aws?.defaultAccount === undefined && accounts.length > 1) problems.push(`${field}.account: required when several accounts are configured (${accounts.join(', ')})`)
  })
}

function checkServerTimeouts(input: ConfigInput, problems: string[]): void {
  const { headersTimeoutSeconds, requestTimeoutSeconds, connectionTimeoutSeconds } = input.server
  // Node refuses a headers timeout above the request timeout.
  if (headersTimeoutSeconds > requestTimeoutSeconds) {
    problems.push(`server.headersTimeoutSeconds: ${headersTimeoutSeconds} exceeds requestTimeoutSeconds (${requestTimeoutSeconds})`)
  }
  // An admin call is silent while the SDK tries AWS; the connection timeout must not cut it short.
  const awsCallMs = input.aws === undefined ? 0 : input.aws.requestTimeoutMs * input.aws.maxAttempts
  if (connectionTimeoutSeconds > 0 && connectionTimeoutSeconds * 1000 <= awsCallMs) {
    problems.push(`server.connectionTimeoutSeconds: ${connectionTimeoutSeconds} would cut admin calls short: make it above aws.requestTimeoutMs × aws.maxAttempts (${awsCallMs} ms), or 0`)
  }
}

function checkDistributions(input: ConfigInput, problems: string[]): void {
  const hostOwner = new Map<string, string>()
  for (const [name, dist] of Object.entries(input.distributions)) {
    const field = `distributions.${name}`
    if (dist.defaultTtlSeconds > dist.maxTtlSeconds) {
      problems.push(`${field}.defaultTtlSeconds: ${dist.defaultTtlSeconds} exceeds maxTtlSeconds (${dist.maxTtlSeconds})`)
    }
    for (const host of [dist.domain, ...dist.aliases].map((h) => h.toLowerCase())) {
      const owner = hostOwner.get(host)
      if (owner !== undefined && owner !== name) problems.push(`${field}: host ${host} is also configured for distributions.${owner}`)
      hostOwner.set(host, name)
    }
    const accounts = Object.keys(input.aws?.accounts ?? {})
    if (dist.account !== undefined && !accounts.includes(dist.account)) {
      problems.push(`${field}.account: ${dist.account} is not one of aws.accounts (${accounts.join(', ') || 'none'})`)
    }
    if (dist.account !== undefined && dist.distributionId === undefined) problems.push(`${field}.account: names the account of distributionId, which is missing`)
    if (dist.distributionId !== undefined && accounts.length === 0) problems.push(`${field}.distributionId: reading it needs an AWS account (aws.accounts)`)
    if (dist.cookies !== undefined) {
      const domain = dist.cookies.domain.toLowerCase()
      const reached = dist.aliases.some((alias) => alias.toLowerCase() === domain || alias.toLowerCase().endsWith(`.${domain}`))
      if (!reached) {
        problems.push(`${field}.cookies.domain: ${dist.cookies.domain} is not one of the aliases nor a parent of one (${dist.aliases.join(', ') || 'no aliases'}): the browser would never send the cookies to the distribution`)
      }
    }
  }
}

/** The edge HMAC keys, when a distribution has the edge layer on or edge.keysDir is given. */
function readEdgeKeys(input: ConfigInput, problems: string[]): Array<{ id: string; secret: string }> {
  const edgeDistributions = Object.entries(input.distributions).filter(([, dist]) => dist.edge)
  for (const [name, dist] of edgeDistributions) {
    if (dist.distributionId === undefined) problems.push(`distributions.${name}.edge: the edge layer is deployed to a CloudFront distribution: give distributionId`)
  }
  const { keysDir, activeKeyId } = input.edge
  if (keysDir === undefined) {
    if (edgeDistributions.length > 0) problems.push(`edge.keysDir: required by the edge layer of distributions.${edgeDistributions[0]![0]}: the directory holding one HMAC key per file`)
    return []
  }
  let keys: Array<{ id: string; secret: string }> = []
  try {
    keys = loadEdgeKeys(keysDir)
  } catch (err) {
    problems.push(`edge.keysDir: ${(err as Error).message}`)
    return []
  }
  if (activeKeyId === undefined) problems.push(`edge.activeKeyId: required with edge.keysDir: one of ${keys.map((key) => key.id).join(', ')}`)
  else if (!keys.some((key) => key.id === activeKeyId)) problems.push(`edge.activeKeyId: ${activeKeyId} is not a key in ${keysDir} (${keys.map((key) => key.id).join(', ')})`)
  return keys
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
