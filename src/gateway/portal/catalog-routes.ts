// GET /api/runtimes: the runtime catalog as the portal shows it — every runtime, its versions
// (verified or not, from the RuntimeCatalog status the controller writes), and its channels.

import type { FastifyPluginAsync } from 'fastify'
import { RUNTIMECATALOG, type RuntimeCatalog } from '../../api/index.ts'
import type { Client, KObject } from '../../runtime/index.ts'
import { translateApiError } from './server-writes.ts'

export interface CatalogVersionView {
  version: string
  /** The controller downloaded and checked this version (servers are only pointed at verified ones). */
  verified: boolean
  /** Why verification failed or is pending, when it did not succeed. */
  message: string | null
  checkedAt: string | null
  sha256: string | null
  sizeBytes: number | null
  arches: string[]
  /** Channels currently pointing at this version. */
  channels: string[]
}

export interface CatalogRuntimeView {
  name: string
  channels: Record<string, string>
  versions: CatalogVersionView[]
}

export function catalogView(c: RuntimeCatalog): CatalogRuntimeView {
  const channels = c.spec.channels ?? {}
  const verification = new Map((c.status?.versions ?? []).map((v) => [v.version, v]))
  return {
    name: c.metadata.name ?? '',
    channels,
    versions: c.spec.versions.map((v) => {
      const st = verification.get(v.version)
      return {
        version: v.version,
        verified: st?.verified === true,
        message: st?.message ?? (st ? null : 'not checked yet'),
        checkedAt: st?.checkedAt ?? null,
        sha256: st?.sha256 ?? null,
        sizeBytes: st?.sizeBytes ?? null,
        arches: v.artifacts.map((a) => a.arch),
        channels: Object.entries(channels)
          .filter(([, ver]) => ver === v.version)
          .map(([ch]) => ch),
      }
    }),
  }
}

export const catalogRoutes: FastifyPluginAsync<{ client: Client }> = async (app, { client }) => {
  app.get(
    '/runtimes',
    {
      config: { scope: 'servers:read' },
      schema: { tags: ['catalog'], summary: 'Runtimes, their versions (with verified state) and channels' },
    },
    async () => {
      const items: RuntimeCatalog[] = []
      let cont: string | undefined
      try {
        do {
          const page = await client.list<RuntimeCatalog & KObject>(RUNTIMECATALOG, { limit: 500, continue: cont })
          items.push(...page.items)
          cont = page.metadata?.continue || undefined
        } while (cont)
      } catch (err) {
        throw translateApiError(err)
      }
      return { runtimes: items.map(catalogView).sort((a, b) => a.name.localeCompare(b.name)) }
    },
  )
}
