// Where each dev server's IDE is: the seam between the IDE proxy and whatever knows the
// DevServers. The proxy only reads (`lookup`); the DevServer status informer writes
// (`set`/`delete`) as statuses change. InMemoryRouteTable is that store: the proxy's tests and
// the informer fill the same class.
//
// Guarantees: `lookup` is a Map read that returns a stored object (no allocation per request);
// an entry's upstream target is parsed once, when it is set. Every route carries the DevServer's
// `metadata.uid`: IDE tokens and sessions are bound to it, so a DevServer recreated under the same
// vmid is a different route. Change listeners run synchronously after each set/delete (the gateway
// closes the WebSockets of sessions whose DevServer went away there). A route's workspace folder
// comes from the DevServer's status: `set` keeps it only if it is a plain absolute path
// (`ideFolderOf`), so the proxy never builds a redirect from a hostile value.

import { CODE_SERVER_PORT, ideFolderOf } from '../../api/index.ts'

/** What the proxy needs to know about one dev server. */
export interface DevServerRoute {
  /** Container address from the DevServer's status: a host or IP, optionally with `:port`. */
  readonly address: string
  /** Whether the DevServer reports its IDE ready (Ready / CodeServerReady condition true). */
  readonly ready: boolean
  readonly name: string
  readonly namespace: string
  /** The DevServer's `metadata.uid`: what tells a recreated DevServer from the one it replaced. */
  readonly uid: string
  /** The workspace folder code-server opens (`status.ide.folder`); absent from an older agent. */
  readonly folder?: string
}

/** A route as stored: the status fields plus the parsed upstream. */
export interface ResolvedRoute extends DevServerRoute {
  readonly vmid: number
  /** code-server's host and port, parsed once. */
  readonly target: UpstreamTarget
}

export interface UpstreamTarget {
  readonly protocol: 'http:'
  /** Host name or IP (IPv6 without brackets). */
  readonly host: string
  readonly port: number
}

export interface RouteTable {
  lookup(vmid: number): ResolvedRoute | undefined
  /** Calls `listener(vmid)` after the route of `vmid` was set, replaced or deleted. */
  onChange?(listener: (vmid: number) => void): void
}

export class InMemoryRouteTable implements RouteTable {
  private readonly routes = new Map<number, ResolvedRoute>()
  private readonly defaultPort: number
  private readonly listeners: Array<(vmid: number) => void> = []

  constructor(opts: { defaultPort?: number } = {}) {
    this.defaultPort = opts.defaultPort ?? CODE_SERVER_PORT
  }

  lookup(vmid: number): ResolvedRoute | undefined {
    return this.routes.get(vmid)
  }

  /** Stores or replaces the route of `vmid`; throws on an address that is not host[:port]. */
  set(vmid: number, route: DevServerRoute): ResolvedRoute {
    if (!Number.isSafeInteger(vmid) || vmid < 1) throw new Error(`invalid vmid ${vmid}: expected a positive integer`)
    if (typeof route.uid !== 'string' || !route.uid)
      throw new Error(`route of vmid ${vmid} has no DevServer uid: IDE sessions are bound to it`)
    const { folder, ...rest } = route
    const safeFolder = ideFolderOf(folder)
    const resolved: ResolvedRoute = {
      ...rest,
      ...(safeFolder === undefined ? {} : { folder: safeFolder }),
      vmid,
      target: parseUpstream(route.address, this.defaultPort),
    }
    this.routes.set(vmid, resolved)
    this.changed(vmid)
    return resolved
  }

  delete(vmid: number): boolean {
    const deleted = this.routes.delete(vmid)
    if (deleted) this.changed(vmid)
    return deleted
  }

  onChange(listener: (vmid: number) => void): void {
    this.listeners.push(listener)
  }

  get size(): number {
    return this.routes.size
  }

  private changed(vmid: number): void {
    for (const listener of this.listeners) listener(vmid)
  }
}

function parseUpstream(address: string, defaultPort: number): UpstreamTarget {
  const bad = () => new Error(`invalid DevServer address ${JSON.stringify(address)}: expected host, IP, host:port or [IPv6]:port`)
  let host = address
  let port = defaultPort
  const bracket = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(address)
  if (bracket) {
    host = bracket[1]!
    if (bracket[2]) port = Number(bracket[2])
  } else if (address.split(':').length === 2) {
    const [h, p] = address.split(':') as [string, string]
    if (!/^\d{1,5}$/.test(p)) throw bad()
    host = h
    port = Number(p)
  } else if (address.includes(':')) {
    if (!/^[0-9a-fA-F:.]+$/.test(address)) throw bad() // bare IPv6
  }
  if (!host || !(port >= 1 && port <= 65535)) throw bad()
  if (!host.includes(':') && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) throw bad()
  return { protocol: 'http:', host, port }
}
