import { appError, CodedError } from '../http/errors.js'
import { buildPolicy, hasWildcard, type Policy } from '../signing/policy.js'
import { checkRawPath, matchesWildcard } from '../signing/resource.js'
import { resolveConditions, type ConditionsInput } from './conditions.js'
import type { IssueContext } from './context.js'
import { resolveDistribution, type Distribution } from './distributions.js'
import { refuseViewerRules } from './edge-grant.js'
import { checkPathAllowed, checkPatternAllowed } from './narrowing.js'

export const STREAM_PREFIXES = ['mp4', 'mp3', 'flv'] as const

export interface StreamRequest extends ConditionsInput {
  distribution: string
  /** The stream name exactly as the player requests it: `videos/clip.mp4`, `videos/clip`, `mp4:videos/clip`. */
  stream: string
  /** A custom-policy stream-name pattern such as `videos/*`; it must cover the stream name. */
  resource?: string
  /** Drop the file extension of the last segment: `videos/clip.mp4` → `videos/clip`. */
  stripExtension?: boolean
  /** Add a Flash Media Server type prefix: `videos/clip` → `mp4:videos/clip`. */
  prefix?: (typeof STREAM_PREFIXES)[number]
}

export interface StreamPlan {
  /** The final stream name, as signed and as the player must request it. */
  name: string
  /** `rtmp://<rtmpDomain>/cfx/st`: the server and application the player connects to. */
  streamer: string
  policy: Policy
  distribution: Distribution
}

// A Flash Media Server type prefix (`mp4:`, `mp3:`, `flv:`): part of the name the player sends.
const TYPE_PREFIX = /^[A-Za-z0-9]{2,8}:/

/**
 * Turns a signed-stream request into the stream name and policy to sign. The resource is the stream
 * name alone, signed as given (never percent-encoded, never with the cfx/st application or a host);
 * allowedPaths and the token's paths apply to `/` + the name without its type prefix.
 */
export function planSignedStream(request: StreamRequest, ctx: IssueContext): StreamPlan {
  const distribution = resolveDistribution(ctx, request.distribution)
  if (distribution.rtmpDomain === undefined) {
    throw appError('NO_RTMP_DOMAIN', `distribution "${distribution.name}" has no rtmpDomain: it serves no RTMP streams`)
  }
  const name = applyOptions(checkStreamName(request.stream, 'stream'), request)
  checkPathAllowed(distribution, ctx.caller, withoutPrefix(name))
  // CloudFront Functions never run on RTMP: a stream carries no edge token, whatever the distribution's edge layer.
  refuseViewerRules(request, ctx.caller, 'RTMP streams')
  const { policy: conditions } = resolveConditions(request, distribution, ctx, false)
  const streamer = `rtmp://${distribution.rtmpDomain}/cfx/st`
  if (request.resource === undefined) return { name, streamer, policy: buildPolicy(name, conditions), distribution }

  const resource = checkStreamName(request.resource, 'resource')
  const wildcard = hasWildcard(resource)
  // Scope, limits and narrowing first: until they pass, the pattern is a hostile caller's input.
  if (wildcard) checkPatternAllowed(distribution, ctx.caller, resource, withoutPrefix(resource))
  if (!matchesWildcard(resource, name)) throw appError('RESOURCE_NOT_COVERING', `resource ${resource} does not cover the stream name ${name}`)
  return { name, streamer, policy: buildPolicy(resource, conditions, wildcard), distribution }
}

function checkStreamName(value: string, field: 'stream' | 'resource'): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^\/|^cfx\/st\//.test(value)) {
    throw appError('INVALID_STREAM', `${field} is the stream name alone (videos/clip.mp4), without rtmp://, a host or the cfx/st application`)
  }
  if (field === 'stream' && /[?#]/.test(value)) throw appError('INVALID_STREAM', 'stream must not contain "?" or "#": the signing parameters follow the name')
  // The exact name is signed as the resource: a `*` there would be a wildcard resource nobody checked.
  if (field === 'stream' && value.includes('*')) throw appError('INVALID_STREAM', 'stream is the exact name being signed, without "*"; a stream-name pattern goes in resource')
  try {
    checkRawPath(withoutPrefix(value))
  } catch (err) {
    if (err instanceof CodedError) throw appError('INVALID_STREAM', `${field}: ${err.message.replace(/^path/, 'the name')}`)
    throw err
  }
  return value
}

function applyOptions(name: string, request: StreamRequest): string {
  let result = name
  if (request.stripExtension) result = result.replace(/\.[^./:]+$/, '')
  if (request.prefix !== undefined) {
    if (TYPE_PREFIX.test(result)) throw appError('INVALID_STREAM', 'stream already has a type prefix; leave out prefix')
    result = `${request.prefix}:${result}`
  }
  return result
}

/** `/` + the name without its type prefix: the path allowedPaths are checked against. */
function withoutPrefix(name: string): string {
  return `/${name.replace(TYPE_PREFIX, '')}`
}
