// Web and streaming distributions: one set of calls (create, get, list, update, delete, wait);
// what differs between the two kinds is data (./web.ts, ./streaming.ts).
import type { AwsAccount } from '../accounts.js'
import { pageOf, replayExisting, updateMerging, waitUntilDeployed, type Created, type Page, type PageRequest, type WaitOptions } from '../cloudfront.js'
import type { DistributionInput, DistributionKind, DistributionPatch, DistributionView } from './shapes.js'
import { STREAMING_DISTRIBUTION } from './streaming.js'
import { WEB_DISTRIBUTION } from './web.js'

type Output = Record<string, unknown> & { ETag?: string }

// The kinds' commands differ in type only; the members say where each carries the resource.
function send(account: AwsAccount, command: object): Promise<Output> {
  return account.cloudFront.send(command as never) as Promise<unknown> as Promise<Output>
}

/** The calls for one kind of distribution, each on the account a request resolved. */
export function createDistributionCalls<Config, Resource, Summary>(kind: DistributionKind<Config, Resource, Summary>) {
  const { commands, members } = kind

  async function fetch(account: AwsAccount, id: string): Promise<{ resource: Resource; etag?: string }> {
    const output = await send(account, new commands.get({ Id: id }))
    return { resource: output[members.resource] as Resource, etag: output.ETag }
  }

  async function get(account: AwsAccount, id: string): Promise<DistributionView> {
    const { resource, etag } = await fetch(account, id)
    return kind.view(resource, etag)
  }

  return {
    get,

    async list(account: AwsAccount, page: PageRequest): Promise<Page<DistributionView>> {
      const output = await send(account, new commands.list({ Marker: page.marker, MaxItems: page.maxItems }))
      return pageOf(output[members.list] as { Items?: Summary[]; NextMarker?: string; IsTruncated?: boolean } | undefined, kind.summaryView)
    },

    /** Creates one; a replay of the same CallerReference with the same fields answers the existing one. */
    async create(account: AwsAccount, input: DistributionInput, callerReference: string): Promise<Created<DistributionView>> {
      const config = kind.buildConfig(input, callerReference)
      try {
        const output = await send(account, new commands.create({ [members.config]: config }))
        return { resource: kind.view(output[members.resource] as Resource, output.ETag), created: true }
      } catch (err) {
        const replay = await replayExisting(err, kind.alreadyExistsCode, (id) => fetch(account, id), ({ resource }) => kind.createdFrom(resource, config))
        return { resource: kind.view(replay.resource.resource, replay.resource.etag), created: false }
      }
    },

    update(account: AwsAccount, id: string, patch: DistributionPatch, ifMatch?: string): Promise<DistributionView> {
      return updateMerging(
        {
          getConfig: async () => {
            const output = await send(account, new commands.getConfig({ Id: id }))
            return { config: output[members.config] as Config, etag: output.ETag ?? '' }
          },
          put: async (config, etag) => {
            const output = await send(account, new commands.update({ Id: id, IfMatch: etag, [members.config]: config }))
            return kind.view(output[members.resource] as Resource, output.ETag)
          },
          get: () => get(account, id),
        },
        (config) => kind.applyPatch(config, patch),
        ifMatch,
      )
    },

    /** Deletes with the caller's If-Match, or the current ETag; CloudFront refuses an enabled one (409 …NotDisabled). */
    async remove(account: AwsAccount, id: string, ifMatch?: string): Promise<void> {
      const etag = ifMatch ?? (await fetch(account, id)).etag
      await send(account, new commands.delete({ Id: id, IfMatch: etag }))
    },

    wait(account: AwsAccount, id: string, options: WaitOptions): Promise<DistributionView> {
      return waitUntilDeployed(() => get(account, id), options)
    },
  }
}

export type DistributionCalls = ReturnType<typeof createDistributionCalls>

/** The table: one entry per kind of distribution, the same calls on each. */
export const distributions = {
  web: createDistributionCalls(WEB_DISTRIBUTION),
  streaming: createDistributionCalls(STREAMING_DISTRIBUTION),
} satisfies Record<string, DistributionCalls>
