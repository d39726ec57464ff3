import type { TrustReader } from '../aws/distribution-trust.js'
import type { Config } from '../config/schema.js'
import { CodedError } from '../http/errors.js'
import { inspectSignedRequest, type Check, type CheckName, type DenialReason, type Inspection, type VerificationKey } from '../signing/inspect.js'
import { judgeKeyTrust, type TrustJudgement, type TrustReason } from '../signing/trust.js'

export interface InspectQuestion {
  url: string
  cookies?: Record<string, string>
  ip?: string
  /** Request time, epoch seconds. */
  at: number
}

/** A check of the pure inspector, or `trust`: whether the distribution's behaviour trusts the key. */
export type InspectionCheck = Omit<Check, 'name' | 'reason'> & { name: CheckName | 'trust'; reason?: DenialReason | TrustReason }

/** What the distribution says, when the URL's host is a configured distribution with a distributionId. */
export type DistributionReport = { name: string; error: string | null } & Omit<TrustJudgement, 'behaviour'> & { behaviour: string | null }

export type InspectionAnswer = Omit<Inspection, 'reason' | 'checks'> & {
  reason: DenialReason | TrustReason | null
  checks: InspectionCheck[]
  distribution?: DistributionReport
}

export interface InspectorDependencies {
  config: Config
  lookupKey: (id: string) => VerificationKey | undefined
  /** Absent without AWS accounts: the distribution's trust is then not read. */
  trust?: TrustReader
}

/**
 * The inspector: the signature and policy judged as an edge does (signing/inspect.ts) and, for a
 * configured distribution with a distributionId, whether the cache behaviour serving the path
 * trusts the key, read from CloudFront.
 */
export function createInspector({ config, lookupKey, trust }: InspectorDependencies) {
  const withId = Object.entries(config.distributions).filter(([, d]) => d.distributionId !== undefined)

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
    },
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
