import type { AwsAccounts } from '../aws/accounts.js'
import type { TrustReader } from '../aws/distribution-trust.js'
import { findKeyValueStore, getKvsKey } from '../aws/keyvaluestore.js'
import type { Config } from '../config/schema.js'
import { edgeResourceName } from '../edge/naming.js'
import {
  countQueryValues,
  decodeEdgePayload,
  EDGE_KVS_REVOKED_GRANT_PREFIX,
  EDGE_KVS_REVOKED_SUB_PREFIX,
  EDGE_TOKEN_COOKIE,
  EDGE_TOKEN_PARAMETER,
  NO_REVOCATIONS,
  parseRevocationValue,
  revocationsFromStore,
  SIGNATURE_COOKIE,
  SIGNATURE_PARAMETER,
  verifyEdgeToken,
  type EdgeDenyReason,
  type EdgeTokenPayload,
  type EdgeViewer,
} from '../edge/token.js'
import { CodedError } from '../http/errors.js'
import { inspectSignedRequest, type Check, type CheckName, type DenialReason, type Inspection, type VerificationKey } from '../signing/inspect.js'
import { judgeKeyTrust, type TrustJudgement, type TrustReason } from '../signing/trust.js'

export interface InspectQuestion {
  url: string
  cookies?: Record<string, string>
  ip?: string
  /** Request time, epoch seconds. */
  at: number
  /** For an edge distribution: the Referer and CloudFront-Viewer-Country the viewer would send, and its address. */
  referer?: string
  country?: string
  viewerIp?: string
}

/** The edge check's reason when the viewer-request function would refuse the request. */
export const EDGE_DENIED = 'EDGE_DENIED'
type AnswerReason = DenialReason | TrustReason | typeof EDGE_DENIED

/** A check of the pure inspector, `trust` (the distribution's behaviour trusts the key) or `edge` (the edge token). */
export type InspectionCheck = Omit<Check, 'name' | 'reason'> & { name: CheckName | 'trust' | 'edge'; reason?: AnswerReason }

/** The edge token judged as the distribution's viewer-request function would. */
export interface EdgeReport {
  verdict: 'allow' | 'deny'
  reason?: EdgeDenyReason
  /** From the token's payload, when it has one (it holds no secret; its HMAC is never echoed). */
  grantId?: string
  issuedAt?: number
  expires?: number
  /** Whether the token is bound to the CloudFront signature it was issued with. */
  bound?: boolean
  rules?: { referrers?: string[]; allowEmptyReferrer?: boolean; countries?: { allow?: string[]; deny?: string[] }; ipRanges?: string[] }
  /** `checked`: read from the distribution's KeyValueStore; `unknown`: not read (see detail). */
  revocations: 'checked' | 'unknown'
  detail: string
}

/** Reads an edge distribution's revocation values: undefined when its KeyValueStore does not exist. */
export interface EdgeRevocationReader {
  read(account: string | undefined, distributionId: string, keys: readonly string[]): Promise<Array<string | undefined> | undefined>
}

export function createEdgeRevocationReader(accounts: AwsAccounts): EdgeRevocationReader {
  return {
    async read(accountName, distributionId, keys) {
      const account = accounts.resolve(accountName)
      const store = await findKeyValueStore(account, edgeResourceName(distributionId))
      if (store === undefined) return undefined
      return Promise.all(keys.map((key) => getKvsKey(account, store.arn, key)))
    },
  }
}

/** What the distribution says, when the URL's host is a configured distribution with a distributionId. */
export type DistributionReport = { name: string; error: string | null } & Omit<TrustJudgement, 'behaviour'> & { behaviour: string | null }

export type InspectionAnswer = Omit<Inspection, 'reason' | 'checks'> & {
  reason: AnswerReason | null
  checks: InspectionCheck[]
  distribution?: DistributionReport
  edge?: EdgeReport
}

export interface InspectorDependencies {
  config: Config
  lookupKey: (id: string) => VerificationKey | undefined
  /** Absent without AWS accounts: the distribution's trust is then not read. */
  trust?: TrustReader
  /** Absent without AWS accounts: an edge token's revocations are then unknown. */
  edgeRevocations?: EdgeRevocationReader
}

/**
 * The inspector: the signature and policy judged as an edge does (signing/inspect.ts) and, for a
 * configured distribution with a distributionId, whether the cache behaviour serving the path
 * trusts the key, read from CloudFront.
 */
export function createInspector({ config, lookupKey, trust, edgeRevocations }: InspectorDependencies) {
  const withId = Object.entries(config.distributions).filter(([, d]) => d.distributionId !== undefined)
  const withEdge = withId.filter(([, d]) => d.edge)
  const edgeKeys = new Map(config.edge.keys.map((key) => [key.id, key.secret]))

  function edgeDistributionFor(url: string) {
    if (withEdge.length === 0 || !/^https?:\/\//i.test(url) || !URL.canParse(url)) return undefined
    const host = new URL(url).hostname.toLowerCase()
    const found = withEdge.find(([, d]) => [d.domain, ...d.aliases].some((h) => h.toLowerCase() === host))
    return found === undefined ? undefined : { name: found[0], id: found[1].distributionId!, account: found[1].account }
  }

  /** The token judged as the function would, revocations read from the distribution's store when they matter. */
  async function judgeEdge(question: InspectQuestion, target: { id: string; account: string | undefined }): Promise<EdgeReport> {
    const token = queryValue(question.url, EDGE_TOKEN_PARAMETER) || question.cookies?.[EDGE_TOKEN_COOKIE] || undefined
    const signature = queryValue(question.url, SIGNATURE_PARAMETER) || question.cookies?.[SIGNATURE_COOKIE] || undefined
    // edgeDistributionFor checked that the URL parses.
    const { searchParams, pathname } = new URL(question.url)
    const viewer: EdgeViewer = {
      ip: question.viewerIp ?? question.ip ?? '',
      ...(question.referer !== undefined && { referer: question.referer }),
      ...(question.country !== undefined && { country: question.country }),
      ...(signature !== undefined && { signature }),
      queryValueCount: countQueryValues(searchParams),
      uri: pathname,
    }
    const unrevoked = verifyEdgeToken(token, edgeKeys, viewer, question.at, NO_REVOCATIONS)
    const payload = decodeEdgePayload(token)
    const facts = payload === undefined ? {} : payloadFacts(payload)
    if (!unrevoked.allowed && NOT_GENUINE.has(unrevoked.reason)) {
      return { verdict: 'deny', reason: unrevoked.reason, ...facts, revocations: 'unknown', detail: explainEdge(unrevoked.reason, payload, viewer, question, edgeKeys) }
    }
    // Genuine: the store decides the revocations (read even when another rule refuses, to report them).
    const p = payload!
    const keys = [EDGE_KVS_REVOKED_GRANT_PREFIX + p.g, EDGE_KVS_REVOKED_SUB_PREFIX + p.s]
    let values: Array<string | undefined> | undefined
    let unknown: string | undefined
    if (edgeRevocations === undefined) unknown = 'no AWS account is configured'
    else {
      try {
        values = await edgeRevocations.read(target.account, target.id, keys)
        if (values === undefined) unknown = `the distribution has no KeyValueStore ${edgeResourceName(target.id)}`
      } catch (err) {
        if (!(err instanceof CodedError)) throw err
        unknown = `could not read the KeyValueStore ${edgeResourceName(target.id)} (${err.code})`
      }
    }
    const stored = new Map(values === undefined ? [] : keys.map((key, index) => [key, values[index]] as const))
    const verdict = verifyEdgeToken(token, edgeKeys, viewer, question.at, revocationsFromStore((key) => stored.get(key)))
    const revocations = unknown === undefined ? 'checked' : 'unknown'
    const note = unknown === undefined ? '' : `; revocations not checked: ${unknown}`
    if (verdict.allowed) {
      return { verdict: 'allow', ...facts, revocations, detail: `the edge token (grant ${p.g}) passes every check of the viewer-request function${note}` }
    }
    const values2 = { grant: stored.get(keys[0]!), sub: stored.get(keys[1]!) }
    return { verdict: 'deny', reason: verdict.reason, ...facts, revocations, detail: explainEdge(verdict.reason, p, viewer, question, edgeKeys, values2) + note }
  }

  function distributionFor(url: string) {
    if (trust === undefined || withId.length === 0 || !URL.canParse(url)) return undefined
    const parsed = new URL(url)
    const host = parsed.hostname.toLowerCase()
    const found = withId.find(([, d]) => [d.domain, ...d.aliases].some((h) => h.toLowerCase() === host))
    return found === undefined ? undefined : { name: found[0], id: found[1].distributionId!, account: found[1].account, path: parsed.pathname }
  }

  return {
    async inspect(question: InspectQuestion): Promise<InspectionAnswer> {
      const inspection = inspectSignedRequest({ ...question, lookupKey })
      const answer = await withTrust(inspection, question)
      const edgeTarget = edgeDistributionFor(question.url)
      return edgeTarget === undefined ? answer : withEdgeCheck(answer, await judgeEdge(question, edgeTarget))
    },
  }

  async function withTrust(inspection: Inspection, question: InspectQuestion): Promise<InspectionAnswer> {
    const target = distributionFor(question.url)
    if (target === undefined) return inspection
    let report: DistributionReport
    try {
      const judged = judgeKeyTrust(await trust!.read(target.account, target.id), target.path, inspection.keyId)
      report = { name: target.name, error: null, ...judged }
    } catch (err) {
      if (!(err instanceof CodedError)) throw err
      const detail = `could not read distribution ${target.id} from CloudFront (${err.code}): the key's trust is not judged`
      report = { name: target.name, error: err.code, distributionId: target.id, behaviour: null, trusted: null, reason: null, keyGroups: [], trustedSigners: [], detail }
    }
    return withTrustCheck(inspection, report)
  }
}

export type Inspector = ReturnType<typeof createInspector>

/**
 * The trust check goes before keyId: CloudFront looks the key up in the behaviour's key groups
 * before anything else about it; the verdict is the first failure again.
 */
function withTrustCheck(inspection: Inspection, report: DistributionReport): InspectionAnswer {
  const check: InspectionCheck =
    report.trusted === false
      ? { name: 'trust', outcome: 'fail', reason: report.reason!, detail: report.detail }
      : { name: 'trust', outcome: report.trusted ? 'pass' : 'skipped', detail: report.detail }
  const at = inspection.checks.findIndex((c) => c.name === 'keyId')
  const checks: InspectionCheck[] = [...inspection.checks.slice(0, at), check, ...inspection.checks.slice(at)]
  const firstFailure = checks.find((c) => c.outcome === 'fail')
  return { ...inspection, verdict: firstFailure === undefined ? 'allow' : 'deny', reason: firstFailure?.reason ?? null, checks, distribution: report }
}

/** Reasons that mean the payload cannot be trusted: the store is not read for them. */
const NOT_GENUINE = new Set<EdgeDenyReason>(['missing', 'malformed', 'version', 'key', 'signature'])

/** A query parameter's first value as CloudFront hands it to a function (not decoded); '' when absent. */
function queryValue(url: string, name: string): string {
  const target = url.split('#')[0] ?? ''
  const q = target.indexOf('?')
  if (q === -1) return ''
  for (const pair of target.slice(q + 1).split('&')) {
    if (pair === name) return ''
    if (pair.startsWith(`${name}=`)) return pair.slice(name.length + 1)
  }
  return ''
}

function payloadFacts(p: EdgeTokenPayload): Pick<EdgeReport, 'grantId' | 'issuedAt' | 'expires' | 'bound' | 'rules'> {
  const countries = { ...(p.ca !== undefined && { allow: p.ca }), ...(p.cd !== undefined && { deny: p.cd }) }
  const rules = {
    ...(p.r !== undefined && { referrers: p.r }),
    ...(p.re === 1 && { allowEmptyReferrer: true }),
    ...((p.ca !== undefined || p.cd !== undefined) && { countries }),
    ...(p.ip !== undefined && { ipRanges: p.ip }),
  }
  return { grantId: p.g, issuedAt: p.i, expires: p.e, bound: p.b !== undefined, rules }
}

function revocationNote(value: string | undefined): string {
  const parsed = value === undefined ? undefined : parseRevocationValue(value)
  if (parsed === undefined) return value === undefined ? '' : ' (its value is unreadable, which the function reads as revoked)'
  return ` at ${parsed.t}${parsed.r === undefined ? '' : ` (${JSON.stringify(parsed.r)})`}`
}

function explainEdge(
  reason: EdgeDenyReason,
  p: EdgeTokenPayload | undefined,
  viewer: EdgeViewer,
  question: InspectQuestion,
  keys: ReadonlyMap<string, string>,
  stored: { grant?: string; sub?: string } = {},
): string {
  const list = (values: readonly string[]) => values.join(', ')
  switch (reason) {
    case 'missing':
      return `no edge token: the viewer-request function needs the ${EDGE_TOKEN_PARAMETER} query parameter or the ${EDGE_TOKEN_COOKIE} cookie`
    case 'malformed':
      return 'the edge token is not v1.<base64url JSON payload>.<HMAC> with the fields the function reads'
    case 'version':
      return 'the edge token is not version v1, the only one the function reads'
    case 'key':
      return `the edge token names key ${p?.k ?? '?'}, not among the edge keys (${list([...keys.keys()]) || 'none'}): it was rotated out, or the token was made elsewhere`
    case 'signature':
      return `the edge token's HMAC does not match its payload with key ${p?.k ?? '?'}: the token was changed after it was made`
    case 'expired':
      return `the edge token expired at ${p?.e}: request time ${question.at} is not before it`
    case 'binding':
      return viewer.signature === undefined
        ? `the edge token is bound to a CloudFront signature and the request carries none (${SIGNATURE_PARAMETER} or the ${SIGNATURE_COOKIE} cookie)`
        : 'the edge token is bound to another CloudFront signature: it only works beside the signature it was issued with'
    case 'query':
      return `the URL carries ${viewer.queryValueCount} query values besides CloudFront's signing parameters and the edge token allows exactly ${p?.n}: a parameter was added, repeated or removed`
    case 'revoked-grant':
      return `grant ${p?.g} is revoked${revocationNote(stored.grant)}`
    case 'revoked-sub':
      return `the subject's grants issued at or before the revocation are revoked${revocationNote(stored.sub)}; this one was issued at ${p?.i}`
    case 'referrer':
      return viewer.referer === undefined || viewer.referer === ''
        ? 'the request has no Referer and the edge token does not allow an empty one (give referer to judge one)'
        : `Referer ${JSON.stringify(viewer.referer.slice(0, 200))} does not match ${list(p?.r ?? [])}`
    case 'country': {
      const country = viewer.country?.toUpperCase()
      if (country === undefined || country === '') return `no country given: the allow list ${list(p?.ca ?? [])} refuses a request without CloudFront-Viewer-Country (give country to judge one)`
      return p?.cd?.includes(country) ? `country ${country} is in the deny list ${list(p.cd)}` : `country ${country} is not in the allow list ${list(p?.ca ?? [])}`
    }
    case 'ip':
      return `viewer ${viewer.ip}${question.ip === undefined ? ' (the caller\'s own address: give ip to judge another)' : ''} is outside ${list(p?.ip ?? [])}`
  }
}

/** The edge check goes last: the function's verdict after CloudFront's; the answer's verdict is the first failure again. */
function withEdgeCheck(answer: InspectionAnswer, edge: EdgeReport): InspectionAnswer {
  const check: InspectionCheck =
    edge.verdict === 'deny' ? { name: 'edge', outcome: 'fail', reason: EDGE_DENIED, detail: `${edge.reason}: ${edge.detail}` } : { name: 'edge', outcome: 'pass', detail: edge.detail }
  const checks = [...answer.checks, check]
  const firstFailure = checks.find((c) => c.outcome === 'fail')
  return { ...answer, verdict: firstFailure === undefined ? 'allow' : 'deny', reason: firstFailure?.reason ?? null, checks, edge }
}
