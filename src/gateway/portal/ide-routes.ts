// POST /api/dev/:name/ide-token → {url, expiresAt}: a one-time link (≤ 60 s) that signs the caller
// in to that dev server's IDE. Needs the `ide` scope; the DevServer must exist, have a vmid and
// be Ready, or asleep (spec.idle: opening the link wakes it, ../ide/sleep-wake.ts). The token is
// bound to the DevServer this handler read (vmid and metadata.uid), the
// caller's user and the caller's API token id: the IDE session it opens ends when that DevServer
// is deleted or replaced, or that API token is revoked. The IDE proxy redeems it. Only for a
// DevServer the caller may reach (tenancy.ts): one in another tenant's namespace is a 404 exactly
// like one that does not exist, and nothing is minted.

import type { FastifyPluginAsync } from 'fastify'
import type { Client } from '../../runtime/index.ts'
import { PortalError } from './api-reply.ts'
import { principalOf } from './auth.ts'
import { getReachableServer, namespaceQuery } from './server-routes.ts'
import { isConditionTrue } from './status-view.ts'

export interface IdeRoutesDeps {
  client: Client
  /** The portal's namespace: home of tokens issued without namespaces. */
  namespace: string
  mintIdeToken(vmid: number, user: string, link: { uid: string; apiTokenId: string | null }): { url: string; expiresAt: Date }
}

/** The route above, as a fastify plugin the portal registers under its /api prefix. */
export const ideRoutes: FastifyPluginAsync<IdeRoutesDeps> = async (app, deps) => {
  app.post<{ Params: { name: string } }>(
    '/dev/:name/ide-token',
    {
      config: { scope: 'ide' },
      schema: {
        tags: ['dev servers'],
        summary: 'A one-time link that opens the hosted IDE of a dev server',
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: namespaceQuery,
        response: { 200: { type: 'object', properties: { url: { type: 'string' }, expiresAt: { type: 'string' } } } },
      },
    },
    async (req) => {
      const dev = await getReachableServer(deps.client, req, deps.namespace, 'DevServer', req.params.name)
      if (!dev) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no DevServer named "${req.params.name}"`)
      const vmid = dev.status?.vmid
      const asleep = dev.status?.phase === 'Sleeping' || dev.status?.sleep !== undefined
      if (typeof vmid !== 'number' || !(isConditionTrue(dev, 'Ready') || asleep)) {
        throw new PortalError('ZLH_GW_API_NOT_READY', `DevServer "${req.params.name}" is ${dev.status?.phase ?? 'Pending'}, not Ready`)
      }
      const uid = dev.metadata?.uid
      if (!uid) throw new PortalError('ZLH_GW_API_NOT_READY', `DevServer "${req.params.name}" has no uid yet`)
      const principal = principalOf(req)
      const minted = deps.mintIdeToken(vmid, principal.user, { uid, apiTokenId: principal.tokenId })
      return { url: minted.url, expiresAt: minted.expiresAt.toISOString() }
    },
  )
}
