// The whole gateway against a Kubernetes API: what `zlh gateway` runs and tests start in-process.
//
// Expected flow
//  1. Signing key from its Secret (created with 32 random bytes when absent).
//  2. API token store follows its Secret; a bootstrap admin token is registered from a file, or
//     issued when no admin token exists (returned once as `bootstrapAdminToken`, for printing).
//  3. Tenant namespaces of the stored tokens are checked (namespace and the gateway's agent-token
//     RoleBinding, portal/tenant-namespaces.ts); a failure is logged, the gateway still starts
//     (calls into that namespace then answer 403 naming what is missing).
//  4. GameServer/DevServer informers list and watch; the IDE route table is filled before the
//     gateway listens, so no IDE request after start sees an empty table.
//  5. The gateway listens with the portal API and the web console on its main host; IDE sessions are checked against
//     the route table (DevServer uid) and the token store (revocation) on every request.
// Guarantees: nothing the gateway holds is lost by a restart except in-flight connections;
// everything else is re-read from the API, and redeemed IDE tokens are recorded there as Leases
// (portal/lease-claims.ts), so a token is single use across restarts and replicas.
// close() stops the listeners, the watches and every proxied socket.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import type { FastifyBaseLogger } from 'fastify'
import type { Client } from '../runtime/index.ts'
import { ideSleepWakeFor, InMemoryRouteTable } from './ide/index.ts'
import { createGateway, type Gateway, type GatewayOptions } from './server.ts'
import { ConsoleSessions, registerConsole } from './console/index.ts'
import { ApiTokenStore, hasScope } from './portal/api-tokens.ts'
import { ServerInformers } from './portal/informers.ts'
import { LeaseClaims } from './portal/lease-claims.ts'
import { registerPortal, type Portal } from './portal/portal.ts'
import { TenantNamespaces } from './portal/tenant-namespaces.ts'
import type { AgentLocatorOptions } from './portal/agent-access.ts'
import { DEFAULT_SYSTEM_NAMESPACE, loadSigningKey, SIGNING_KEY_SECRET } from './portal/system-secrets.ts'

export interface GatewayServiceOptions
  extends Pick<
    GatewayOptions,
    'listen' | 'ideSuffix' | 'tls' | 'publicScheme' | 'publicPort' | 'sessionTtlSeconds' | 'workspaceFolder' | 'connectTimeoutMs' | 'clock'
  > {
  client: Client
  /** Where the portal's game and dev servers live (default "default"). */
  namespace?: string
  /** Where the gateway's Secrets live (default zlh-system). */
  systemNamespace?: string
  signingKeySecret?: string
  apiTokensSecret?: string
  /** Bootstrap admin token: read from this file when it exists, else generated into it (mode 0600). */
  adminTokenFile?: string
  agents?: AgentLocatorOptions
  logger?: FastifyBaseLogger
  /** How long to wait for the first list of GameServers/DevServers (default 60 s). */
  syncTimeoutMs?: number
}

export interface GatewayService {
  gateway: Gateway
  routes: InMemoryRouteTable
  informers: ServerInformers
  tokens: ApiTokenStore
  portal: Portal
  /** Set only when this start issued a new admin token and wrote it nowhere: show it once. */
  bootstrapAdminToken?: string
  close(): Promise<void>
}

export async function startGatewayService(opts: GatewayServiceOptions): Promise<GatewayService> {
  const systemNamespace = opts.systemNamespace ?? DEFAULT_SYSTEM_NAMESPACE
  const namespace = opts.namespace ?? 'default'
  const stop = new AbortController()
  const log = opts.logger
  try {
    const signingKey = await loadSigningKey(opts.client, systemNamespace, opts.signingKeySecret ?? SIGNING_KEY_SECRET)
    const tokens = new ApiTokenStore(opts.client, { namespace: systemNamespace, secretName: opts.apiTokensSecret })
    await tokens.start(stop.signal)
    const bootstrapAdminToken = await bootstrapAdmin(tokens, opts.adminTokenFile)
    const tenants = new TenantNamespaces(opts.client, { log })
    await checkTenants(tenants, tokens, log)
    const routes = new InMemoryRouteTable()
    const informers = new ServerInformers(opts.client, routes, {
      onError: (err, what) => log?.warn({ err: (err as Error)?.message ?? String(err) }, what),
    })
    await informers.start(stop.signal, { syncTimeoutMs: opts.syncTimeoutMs ?? 60_000 })
    // DevServers with spec.idle: IDE activity and wake requests written as annotations (ide/sleep-wake.ts).
    const ideSleep = ideSleepWakeFor({ client: opts.client, devServer: (ns, name) => informers.devs.store.getByName(name, ns), log })
    stop.signal.addEventListener('abort', () => ideSleep.close())
    const sharedClaims = new LeaseClaims(opts.client, {
      namespace: systemNamespace,
      holder: hostname(),
      onSweepError: (err) => log?.warn({ err: (err as Error)?.message ?? String(err) }, 'sweeping expired IDE token claims failed'),
    })
    sharedClaims.start()
    stop.signal.addEventListener('abort', () => sharedClaims.stop())
    let portal: Portal | undefined
    const gateway = await createGateway({
      listen: opts.listen,
      ideSuffix: opts.ideSuffix,
      tls: opts.tls,
      publicScheme: opts.publicScheme,
      publicPort: opts.publicPort,
      sessionTtlSeconds: opts.sessionTtlSeconds,
      clock: opts.clock,
      workspaceFolder: opts.workspaceFolder,
      connectTimeoutMs: opts.connectTimeoutMs,
      routes,
      ideSleep,
      signingKey,
      sharedClaims,
      logger: log,
      apiTokens: tokens,
      portal: async (app, ctx) => {
        // The web console (console/) on the same host: its session cookie stands for a portal token.
        const sessions = new ConsoleSessions(signingKey, { publicScheme: opts.publicScheme, now: opts.clock })
        await registerConsole(app, { sessions, tokens })
        portal = await registerPortal(app, {
          sessions,
          client: opts.client,
          informers,
          tokens,
          tenants,
          namespace,
          systemNamespace,
          agents: opts.agents,
          onDevConsoleActivity: (namespace, name) => ideSleep.touchByName(namespace, name),
          mintIdeToken: (vmid, user, link) => ctx.mintIdeToken(vmid, user, link),
          ideUrlFor: ctx.ideUrlFor,
        })
        return portal
      },
    })
    return {
      gateway,
      routes,
      informers,
      tokens,
      portal: portal!,
      bootstrapAdminToken,
      async close() {
        stop.abort()
        await gateway.close()
      },
    }
  } catch (err) {
    stop.abort()
    throw err
  }
}

/** Prepares every namespace a stored token names; logs (warn) what could not be done. */
async function checkTenants(tenants: TenantNamespaces, tokens: ApiTokenStore, log: FastifyBaseLogger | undefined): Promise<void> {
  const namespaces = [...new Set(tokens.list().flatMap((t) => t.namespaces))].sort()
  for (const namespace of namespaces) {
    try {
      await tenants.provision([namespace])
    } catch (err) {
      log?.warn(
        { namespace, err: (err as Error)?.message ?? String(err) },
        'a tenant namespace could not be prepared: the portal answers 403 for what is missing there',
      )
    }
  }
}

async function bootstrapAdmin(tokens: ApiTokenStore, file: string | undefined): Promise<string | undefined> {
  if (file && existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim()
    const known = tokens.authenticate(token)
    if (!known || !hasScope(known, 'admin')) await tokens.register(token, 'admin', ['admin'])
    return undefined
  }
  if (tokens.list().some((t) => t.scopes.includes('admin')) && !file) return undefined
  const { token } = await tokens.issue('admin', ['admin'])
  if (file) {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' })
    return undefined
  }
  return token
}
