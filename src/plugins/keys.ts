import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config/schema.js'
import { CodedError } from '../errors.js'
import { loadKeyDirectory, type SigningKey } from '../signing/keys.js'

/** Loads the keys directory once at start; any key that cannot serve stops the start. */
export function createKeyStore(config: Config) {
  const { keys, errors } = loadKeyDirectory(config.keys.dir, config.keys.passphrase)
  if (errors.length > 0) throw new CodedError(errors[0].code, `keys.dir: ${errors.map((e) => e.message).join('; ')}`)
  if (keys.size === 0) throw new CodedError('KEY_FILE_MISSING', `keys.dir: no <KEY_ID>.pem file in ${config.keys.dir}`)
  const activeId = config.keys.activeKeyId ?? (keys.size === 1 ? [...keys.keys()][0] : undefined)
  if (activeId === undefined) {
    throw new CodedError('KEY_FILE_MISSING', `keys.activeKeyId: required when ${config.keys.dir} holds several keys (${[...keys.keys()].join(', ')})`)
  }
  const active = keys.get(activeId)
  if (active === undefined) throw new CodedError('KEY_FILE_MISSING', `keys.activeKeyId: ${activeId}.pem not found in ${config.keys.dir}`)

  return {
    active: (): SigningKey => active,
    /** Any loaded key by ID, for signing; undefined when none. */
    get: (id: string): SigningKey | undefined => keys.get(id),
    /** A key whose public half can check signatures (the inspector): loaded keys, and retired ones while kept. */
    verificationKey: (id: string): SigningKey | undefined => keys.get(id),
    list: (): SigningKey[] => [...keys.values()],
  }
}

export type KeyStore = ReturnType<typeof createKeyStore>

declare module 'fastify' {
  interface FastifyInstance {
    keyStore: KeyStore
  }
}

async function keysPlugin(app: FastifyInstance) {
  app.decorate('keyStore', createKeyStore(app.config))
}

export default fp(keysPlugin, { name: 'keys', dependencies: ['config'] })
