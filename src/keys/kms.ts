import type { KmsKeyConfig } from '../config/schema.js'
import type { Kms, KmsKeyDescription } from '../aws/kms.js'
import { appError, CodedError } from '../http/errors.js'
import { createKmsSigningKey, KeyLoadError, type KmsKeySpec, type KmsSigningKey } from '../signing/keys.js'

const SPECS: readonly string[] = ['RSA_2048', 'ECC_NIST_P256'] satisfies KmsKeySpec[]

/** The checks DescribeKey's answer must pass for CloudFront to verify what the key signs; throws KMS_KEY_UNSUPPORTED naming `entry`. */
export function checkKmsKey(description: KmsKeyDescription, entry: string): KmsKeySpec {
  if (!SPECS.includes(description.keySpec)) {
    throw appError('KMS_KEY_UNSUPPORTED', `${entry}: key spec ${description.keySpec}: CloudFront accepts RSA_2048 or ECC_NIST_P256`)
  }
  if (description.keyUsage !== 'SIGN_VERIFY') {
    throw appError('KMS_KEY_UNSUPPORTED', `${entry}: an ${description.keyUsage} key (for encryption): CloudFront needs a SIGN_VERIFY key`)
  }
  if (description.keyState !== 'Enabled') throw appError('KMS_KEY_UNSUPPORTED', `${entry}: the key is ${description.keyState}, not Enabled`)
  return description.keySpec as KmsKeySpec
}

/** Describes a KMS key, checks it, fetches its public key and builds the signing key that publishes it; errors name `entry`. */
export async function describeKmsKey(kms: Pick<Kms, 'describeKey' | 'getPublicKey'>, id: string, kmsKeyId: string, account: string, entry: string): Promise<KmsSigningKey> {
  const named = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      if (err instanceof CodedError) throw new CodedError(err.code, `${entry}: ${err.message}`, err.details)
      throw err
    }
  }
  const description = await named(() => kms.describeKey(account, kmsKeyId))
  const keySpec = checkKmsKey(description, entry)
  const publicKeyDer = await named(() => kms.getPublicKey(account, description.keyArn))
  try {
    return createKmsSigningKey(id, publicKeyDer, { kmsKeyId, keyArn: description.keyArn, account, keySpec }, description.createdMs, entry)
  } catch (err) {
    if (err instanceof KeyLoadError) throw appError('KMS_KEY_UNSUPPORTED', err.message)
    throw err
  }
}

/**
 * The configured KMS keys, each described and its public key fetched, all at once. Any entry that
 * cannot serve (unreachable, unknown, wrong spec, an encryption key) stops the start, named.
 */
export async function loadKmsKeys(entries: readonly KmsKeyConfig[], kms: Pick<Kms, 'describeKey' | 'getPublicKey' | 'resolveAccount'>): Promise<Map<string, KmsSigningKey>> {
  const keys = await Promise.all(
    entries.map((entry, index) => describeKmsKey(kms, entry.keyId, entry.kmsKeyId, kms.resolveAccount(entry.account), `keys.kms[${index}] (${entry.keyId}, ${entry.kmsKeyId})`)),
  )
  return new Map(keys.map((key) => [key.id, key]))
}
