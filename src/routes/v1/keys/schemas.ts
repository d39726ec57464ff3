import { Type, type Static } from '@sinclair/typebox'

export const KeyListSchema = Type.Object({
  activeKeyId: Type.String(),
  keys: Type.Array(
    Type.Object({
      keyId: Type.String(),
      algorithm: Type.Union([Type.Literal('RSA'), Type.Literal('ECDSA')]),
      publicKeyPem: Type.String(),
      fingerprintSha256: Type.String(),
      active: Type.Boolean(),
    }),
  ),
}, { title: 'KeyList' })
export type KeyList = Static<typeof KeyListSchema>
