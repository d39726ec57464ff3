import { Type, type Static } from '@sinclair/typebox'
import { DistributionName } from '../signing-schemas.js'

export const PlaybackQuerySchema = Type.Object(
  {
    distribution: DistributionName,
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'Raw path; each segment is percent-encoded' }),
    access_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'The bearer token, for players that cannot send headers (this route only; never logged)' })),
  },
  { additionalProperties: false },
)
export type PlaybackQuery = Static<typeof PlaybackQuerySchema>

export const PlaybackRedirectSchema = Type.Null({ description: 'Redirect to a freshly signed URL (Location header); the Grant-Id header names the grant' })
