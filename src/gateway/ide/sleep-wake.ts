// Sleep and wake on the IDE side: what the IDE proxy asks once a request or upgrade passed the
// session checks (a valid cookie for this dev host, bound to this DevServer, Origin where needed).
//
// Expected flow (a browser opening the IDE of a DevServer the controller put to sleep)
// 1. `handleRequest`: GET on a sleeping DevServer → the wake is asked for (wake-request.ts: one
//    annotation write per sleep) and the starting page is answered (wake-page.ts). A waking one
//    (asleep, asked, not Ready yet) gets the page too, without another write. Other methods →
//    503 ZLH_GW_IDE_DEVSERVER_SLEEPING. WAKE_STATUS_PATH is answered here in every state.
// 2. The page polls WAKE_STATUS_PATH: phase, the Ready message, and `landing` once the DevServer
//    is Ready and its code-server answers an HTTP request; then it reloads into the workbench.
// 3. `upgradeRefusal`: a WebSocket upgrade while asleep or waking is refused with
//    ZLH_GW_IDE_DEVSERVER_SLEEPING (503, Retry-After); the page reconnects after landing.
// 4. Activity: every request that reaches code-server (`touch`), every chunk either way on a
//    proxied IDE WebSocket (`watchTraffic`) and console use through the portal (`touchByName`)
//    feed activity.ts, which writes LAST_ACTIVITY_ANNOTATION, coalesced.
//
// Guarantees: nothing here runs before the proxy's session checks, so a request without a valid
// session learns nothing about sleep (it gets the refusal it always got); the DevServer is read
// from the informer cache and must carry the route's uid; no API call happens per request except
// the coalesced writes; the upstream check is cached for a second per route.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { request } from 'node:http'
import type { Duplex } from 'node:stream'
import { DEVSERVER, LAST_ACTIVITY_ANNOTATION, WAKE_REQUESTED_ANNOTATION, type DevServer } from '../../api/index.ts'
import { realBackgroundClock, type Clock } from '../../platform/clock.ts'
import { PatchType, type Client } from '../../runtime/index.ts'
import type { GatewayErrorCode } from '../errors.ts'
import { IdeActivity, type DevServerRef } from './activity.ts'
import { sendErrorPage } from './pages.ts'
import type { ResolvedRoute, UpstreamTarget } from './route-table.ts'
import { progressOf, sleepingRef, sleepStateOf } from './sleep-state.ts'
import { sendWakePage, sendWakeStatus, WAKE_STATUS_PATH } from './wake-page.ts'
import { WakeRequests } from './wake-request.ts'

export const SLEEPING_RETRY_SECONDS = 5
const PROBE_TIMEOUT_MS = 2000
const PROBE_CACHE_MS = 1000

export interface IdeSleepWakeOptions {
  /** The DevServer as the gateway's informer cache has it. */
  devServer(namespace: string, name: string): DevServer | undefined
  activity: IdeActivity
  wake: WakeRequests
  /** Whether code-server answers at `target` (default: an HTTP GET / that gets any answer). */
  probe?: (target: UpstreamTarget) => Promise<boolean>
  clock?: Clock
}

export class IdeSleepWake {
  private readonly opts: IdeSleepWakeOptions
  private readonly clock: Clock
  private readonly probe: (target: UpstreamTarget) => Promise<boolean>
  private readonly probes = new WeakMap<ResolvedRoute, { atMs: number; answer: Promise<boolean> }>()

  constructor(opts: IdeSleepWakeOptions) {
    this.opts = opts
    this.clock = opts.clock ?? realBackgroundClock
    this.probe = opts.probe ?? httpAnswers
  }

  /** Answers the request when the DevServer sleeps or wakes, or for WAKE_STATUS_PATH; false leaves it to the proxy. */
  handleRequest(req: IncomingMessage, res: ServerResponse, route: ResolvedRoute): boolean {
    const url = req.url ?? '/'
    const method = req.method ?? 'GET'
    if (url === WAKE_STATUS_PATH || url.startsWith(`${WAKE_STATUS_PATH}?`)) {
      if (method !== 'GET' && method !== 'HEAD') sendErrorPage(res, 'ZLH_GW_IDE_METHOD_NOT_ALLOWED')
      else void this.sendStatus(res, route)
      return true
    }
    // Asleep and waking DevServers are never Ready (the controller says Ready False from going to
    // sleep until woken and up): a ready route is the hot path and looks at nothing else.
    if (route.ready) return false
    const dev = this.devOf(route)
    if (!dev) return false
    const state = sleepStateOf(dev)
    if (state === 'awake') return false
    if (method === 'GET' || method === 'HEAD') {
      if (state === 'asleep' && method === 'GET') this.opts.wake.request(sleepingRef(dev))
      sendWakePage(res, route.name, progressOf(dev), method === 'HEAD')
    } else {
      sendErrorPage(res, 'ZLH_GW_IDE_DEVSERVER_SLEEPING', { retryAfterSeconds: SLEEPING_RETRY_SECONDS })
    }
    return true
  }

  /** Why a WebSocket upgrade to this DevServer is refused now (asleep or waking), or undefined. */
  upgradeRefusal(route: ResolvedRoute): GatewayErrorCode | undefined {
    if (route.ready) return undefined
    const dev = this.devOf(route)
    return dev && sleepStateOf(dev) !== 'awake' ? 'ZLH_GW_IDE_DEVSERVER_SLEEPING' : undefined
  }

  /** A use of the IDE (a request that reaches code-server). */
  touch(route: DevServerRef): void {
    this.opts.activity.touch(route)
  }

  /** Every chunk either way on a proxied IDE WebSocket is a use. */
  watchTraffic(route: DevServerRef, client: Duplex, upstream: Duplex | undefined): void {
    const activity = this.opts.activity
    const used = (): void => activity.touch(route)
    used()
    client.on('data', used)
    upstream?.on('data', used)
  }

  /** A use through the portal (a console session opened or typed in), by DevServer name. */
  touchByName(namespace: string, name: string): void {
    const dev = this.opts.devServer(namespace, name)
    const uid = dev?.metadata.uid
    if (uid) this.opts.activity.touch({ namespace, name, uid })
  }

  close(): void {
    this.opts.activity.close()
  }

  private devOf(route: { namespace: string; name: string; uid: string }): DevServer | undefined {
    const dev = this.opts.devServer(route.namespace, route.name)
    return dev && dev.metadata.uid === route.uid ? dev : undefined
  }

  private async sendStatus(res: ServerResponse, route: ResolvedRoute): Promise<void> {
    const dev = this.devOf(route)
    const progress = dev ? progressOf(dev) : { state: 'awake' as const, phase: '', message: '', ready: route.ready }
    let wakeError: string | undefined
    if (dev && progress.state === 'asleep') {
      const ref = sleepingRef(dev)
      this.opts.wake.request(ref) // a failed request is retried from here, after its backoff
      wakeError = this.opts.wake.failure(ref)
    }
    const landing = progress.state !== 'asleep' && route.ready && (await this.answers(route))
    if (res.destroyed) return
    sendWakeStatus(res, { ...progress, landing, ...(wakeError === undefined ? {} : { wakeError }) })
  }

  private answers(route: ResolvedRoute): Promise<boolean> {
    const now = this.clock.now()
    const cached = this.probes.get(route)
    if (cached && now - cached.atMs < PROBE_CACHE_MS) return cached.answer
    const answer = this.probe(route.target).catch(() => false)
    this.probes.set(route, { atMs: now, answer })
    return answer
  }
}

/** Whether an HTTP server answers GET / at `target` (any status) within PROBE_TIMEOUT_MS. */
export function httpAnswers(target: UpstreamTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: target.host, port: target.port, path: '/', method: 'GET', agent: false, timeout: PROBE_TIMEOUT_MS },
      (res) => {
        res.resume()
        resolve(true)
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
    req.end()
  })
}

export interface IdeSleepWakeForClientOptions {
  client: Client
  devServer(namespace: string, name: string): DevServer | undefined
  log?: { warn(obj: object, msg: string): void }
  clock?: Clock
  probe?: (target: UpstreamTarget) => Promise<boolean>
}

/** The gateway's wiring: activity and wake writes as merge patches by the gateway's client. */
export function ideSleepWakeFor(opts: IdeSleepWakeForClientOptions): IdeSleepWake {
  const clock = opts.clock ?? realBackgroundClock
  const annotate =
    (key: string) =>
    async (ref: DevServerRef, at: Date): Promise<void> => {
      await opts.client.patch(
        DEVSERVER,
        ref.name,
        ref.namespace,
        { metadata: { uid: ref.uid, annotations: { [key]: at.toISOString() } } },
        PatchType.merge,
        { fieldManager: 'zlh-gateway' },
      )
    }
  const failed = (what: string) => (ref: DevServerRef, err: unknown) =>
    opts.log?.warn(
      {
        server: `${ref.namespace}/${ref.name}`,
        status: (err as { statusCode?: number })?.statusCode,
        err: (err as Error)?.message ?? String(err),
      },
      what,
    )
  return new IdeSleepWake({
    devServer: opts.devServer,
    clock,
    probe: opts.probe,
    activity: new IdeActivity({
      clock,
      idleSecondsOf: (ref) => {
        const dev = opts.devServer(ref.namespace, ref.name)
        return dev?.metadata.uid === ref.uid ? dev.spec?.idle?.stopAfterSeconds : undefined
      },
      write: annotate(LAST_ACTIVITY_ANNOTATION),
      onWriteError: failed(
        `could not record IDE activity on the DevServer (${LAST_ACTIVITY_ANNOTATION}); it may sleep while in use. Retried later with backoff; logged once until a write succeeds`,
      ),
    }),
    wake: new WakeRequests({
      clock,
      write: annotate(WAKE_REQUESTED_ANNOTATION),
      onWriteError: failed(`could not ask to wake the DevServer (${WAKE_REQUESTED_ANNOTATION}); the starting page shows why and retries`),
    }),
  })
}
