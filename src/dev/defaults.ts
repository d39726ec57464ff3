// What development runs on without configuration: a generated key and JWT secret, and the local
// CloudFront emulator as the one AWS account.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { AwsSchema, type Config } from '../config/schema.js'

/** Creates (once) and reuses a development key pair and JWT secret. */
export function ensureDevelopmentMaterial(devDir: string): { keysDir: string; keyId: string; jwtSecret: string } {
  const keysDir = join(devDir, 'keys')
  mkdirSync(keysDir, { recursive: true, mode: 0o700 })
  let keyFile = readdirSync(keysDir).find((name) => name.endsWith('.pem'))
  if (keyFile === undefined) {
    const keyId = `KDEV${randomBytes(8).toString('hex').toUpperCase().slice(0, 10)}`
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    keyFile = `${keyId}.pem`
    writeFileSync(join(keysDir, keyFile), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  }
  const secretFile = join(devDir, 'jwt-secret')
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('base64url'), { mode: 0o600 })
  return { keysDir, keyId: keyFile.replace(/\.pem$/, ''), jwtSecret: readFileSync(secretFile, 'utf8').trim() }
}

/** How long a change stays InProgress on the development emulator: long enough to see the wait route work. */
export const DEV_DEPLOY_SECONDS = 5

/** Dummy credentials for the local CloudFront emulator: development never sends real ones anywhere. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'AKIDLOCALEMULATOR', secretAccessKey: 'local-emulator-dummy-secret' }

/** The configuration with one AWS account, `local`, on the in-process emulator (development without an aws section). */
export function withLocalCloudFront(config: Config, endpoint: string): Config {
  return Object.freeze({ ...config, aws: Value.Default(AwsSchema, { accounts: { local: { region: 'us-east-1', endpoint } } }) }) as Config
}
