// Test fixture for IDE sleep and wake: the embedded API server in-process with our CRDs, the whole
// gateway service against it through a client that counts the gateway's patches, a code-server
// stand-in, and helpers that write DevServers and their status the way the controller does.

import { join } from 'node:path'
import type { Test } from 'tap'
import { DEVSERVER, LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION, type DevServer } from '../../../src/api/index.ts'
import { startTestEnv, type TestEnv } from '../../../src/runtime/envtest/index.ts'
import { PatchType, type Client, type KObject } from '../../../src/runtime/index.ts'
import { startGatewayService, type GatewayService } from '../../../src/gateway/service.ts'
import { send, sessionCookieOf, startUpstream, SUFFIX, waitFor, type Upstream } from '../fixtures.ts'

export const CRDS = join(import.meta.dirname, '..', '..', '..', 'crds')
export const NS = 'default'

export interface PatchCall {
  name: string
  namespace: string | undefined
  body: { metadata?: { uid?: string; annotations?: Record<string, string> } }
}

export interface SleepEnv {
  env: TestEnv
  svc: GatewayService
  upstream: Upstream
  /** Every patch the gateway sent, oldest first. */
  patches: PatchCall[]
  wakeWrites(name: string): PatchCall[]
  activityWrites(name: string): PatchCall[]
  /** Creates a DevServer (spec.idle when stopAfterSeconds is given), routed Ready at `vmid`; returns its uid. */
  devServer(name: string, vmid: number, stopAfterSeconds?: number): Promise<string>
  setStatus(name: string, status: Record<string, unknown>): Promise<void>
  /** Writes the status of a DevServer the controller put to sleep; returns status.sleep.since. */
  sleep(name: string, vmid: number): Promise<string>
  get(name: string): Promise<DevServer>
  host(vmid: number): string
  origin(vmid: number): string
  /** A session cookie for `vmid` (token → cookie). */
  signIn(vmid: number): Promise<string>
}

export function condition(type: string, status: 'True' | 'False', reason: string, message: string, at = new Date()) {
  return { type, status, reason, message, lastTransitionTime: at.toISOString().replace(/\.\d+Z$/, 'Z') }
}

export async function startSleepEnv(t: Test): Promise<SleepEnv> {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  const upstream = await startUpstream()
  t.teardown(() => upstream.close())
  const patches: PatchCall[] = []
  const counting = new Proxy(env.client, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target)
      if (prop === 'patch') {
        return (...args: Parameters<Client['patch']>) => {
          if (args[0].kind === 'DevServer') patches.push({ name: args[1], namespace: args[2], body: args[3] as PatchCall['body'] })
          return target.patch(...args)
        }
      }
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const svc = await startGatewayService({
    client: counting,
    listen: '127.0.0.1:0',
    ideSuffix: SUFFIX,
    publicScheme: 'https',
    publicPort: 'listen',
  })
  t.teardown(() => svc.close())
  const writesOf = (key: string) => (name: string) => patches.filter((p) => p.name === name && p.body.metadata?.annotations?.[key])
  const setStatus = async (name: string, status: Record<string, unknown>): Promise<void> => {
    await env.client.patch(DEVSERVER, name, NS, { status }, PatchType.merge, { subresource: 'status', fieldManager: 'zlh-controller' })
  }
  const self: SleepEnv = {
    env,
    svc,
    upstream,
    patches,
    wakeWrites: writesOf(WAKE_REQUESTED_ANNOTATION),
    activityWrites: writesOf(LAST_ACTIVITY_ANNOTATION),
    async devServer(name, vmid, stopAfterSeconds) {
      const created = await env.client.create<KObject>({
        apiVersion: 'zerolaghub.dev/v1alpha1',
        kind: 'DevServer',
        metadata: { name, namespace: NS },
        spec: { runtimes: [], codeServer: { enabled: true }, ...(stopAfterSeconds === undefined ? {} : { idle: { stopAfterSeconds } }) },
      })
      await setStatus(name, {
        phase: 'Running',
        vmid,
        address: upstream.address,
        conditions: [condition('Ready', 'True', 'Running', 'IDE up')],
      })
      await waitFor(() => svc.routes.lookup(vmid)?.ready === true, `the route of ${name}`)
      return created.metadata!.uid!
    },
    setStatus,
    async sleep(name, vmid) {
      const since = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z')
      await setStatus(name, {
        phase: 'Sleeping',
        sleep: { level: 'container', since, reason: 'no IDE traffic' },
        conditions: [condition('Ready', 'False', 'Sleeping', 'asleep: no IDE traffic', new Date(Date.parse(since)))],
      })
      await waitFor(
        () => svc.informers.devs.store.getByName(name, NS)?.status?.phase === 'Sleeping' && svc.routes.lookup(vmid)?.ready === false,
        `${name} to be seen asleep`,
      )
      return since
    },
    get: async (name) => (await env.client.get<KObject>(DEVSERVER, name, NS)) as unknown as DevServer,
    host: (vmid) => `dev-${vmid}.${SUFFIX}:${svc.gateway.port}`,
    origin: (vmid) => `https://dev-${vmid}.${SUFFIX}:${svc.gateway.port}`,
    async signIn(vmid) {
      const { token } = svc.gateway.mintIdeToken(vmid, 'alice', { apiTokenId: null })
      const r = await send(svc.gateway, { host: self.host(vmid), path: `/?token=${token}` })
      const cookie = sessionCookieOf(r)
      if (r.status !== 302 || !cookie) throw new Error(`sign-in failed: ${r.status} ${r.body}`)
      return cookie
    },
  }
  return self
}
