// Test fixture for the portal: the real embedded API server in-process with our CRDs, the whole
// gateway service against it (informers, token store, portal API), and helpers to call /api with
// a token of chosen scopes.

import { join } from 'node:path'
import type { Test } from 'tap'
import { startTestEnv, type TestEnv } from '../../../src/runtime/envtest/index.ts'
import { PatchType, type KObject } from '../../../src/runtime/index.ts'
import { startGatewayService, type GatewayService, type GatewayServiceOptions } from '../../../src/gateway/service.ts'
import type { Scope } from '../../../src/gateway/portal/api-tokens.ts'
import { SUFFIX } from '../fixtures.ts'

export const CRDS = join(import.meta.dirname, '..', '..', '..', 'crds')
export const NS = 'default'

export interface PortalEnv {
  env: TestEnv
  svc: GatewayService
  /** A fresh token with these scopes. */
  token(...scopes: Scope[]): Promise<string>
  /** fetch against the gateway's main host. */
  api(
    path: string,
    init?: { method?: string; token?: string; json?: unknown; body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; text: string; json: any }>
  /** Writes a server's status subresource the way the controller does. */
  setStatus(kind: 'GameServer' | 'DevServer', name: string, status: Record<string, unknown>): Promise<void>
}

export async function startPortal(t: Test, extra: Partial<GatewayServiceOptions> = {}): Promise<PortalEnv> {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  const svc = await startGatewayService({
    client: env.client,
    listen: '127.0.0.1:0',
    ideSuffix: SUFFIX,
    publicScheme: 'https',
    publicPort: 'listen',
    ...extra,
  })
  t.teardown(() => svc.close())
  return {
    env,
    svc,
    async token(...scopes) {
      return (await svc.tokens.issue('alice', scopes)).token
    },
    async api(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers }
      if (init.token) headers.authorization = `Bearer ${init.token}`
      let body: string | Buffer | undefined = init.body
      if (init.json !== undefined) {
        headers['content-type'] = 'application/json'
        body = JSON.stringify(init.json)
      }
      const res = await fetch(`${svc.gateway.url}${path}`, { method: init.method ?? 'GET', headers, body, redirect: 'manual' })
      const text = await res.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: res.status, headers: res.headers, text, json }
    },
    async setStatus(kind, name, status) {
      await env.client.patch({ apiVersion: 'zerolaghub.dev/v1alpha1', kind }, name, NS, { status }, PatchType.merge, {
        subresource: 'status',
        fieldManager: 'zlh-controller',
      })
    },
  }
}

export const gameSpec = (over: Record<string, unknown> = {}) => ({
  game: 'minecraft',
  runtime: { name: 'node', channel: 'stable' },
  server: { command: ['flying-squid'], port: 25565 },
  running: true,
  ...over,
})

export function readyConditions(ready: boolean): Array<Record<string, unknown>> {
  return [
    {
      type: 'Ready',
      status: ready ? 'True' : 'False',
      reason: ready ? 'Running' : 'Starting',
      message: ready ? 'up' : 'starting',
      lastTransitionTime: new Date().toISOString(),
    },
  ]
}

export type { KObject }
