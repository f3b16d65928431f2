// TEST DOUBLE of the Proxmox VE REST API (/api2/json) — not a provider, never shipped. It serves
// the subset the proxmox provider uses, over HTTPS on loopback with a per-run test CA, with PVE's
// behaviour as read from pve-manager/pve-container: API-token auth (401 otherwise), errors as an
// HTTP status whose reason phrase is the message plus `{"data":null,"message":…}` (parameter
// errors: 400 "Parameter verification failed." with `errors`), asynchronous tasks returning UPIDs,
// config locks held during tasks, "already running" / "not running" / "does not exist" texts.
// Fault injection: nextid races, locked CTs, failing create tasks with a log. See README.md.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { DoubleCluster, type DoubleCt } from './cluster.ts'
import { makeTestTls, type TestTls } from './test-ca.ts'

export interface ProxmoxDoubleOptions {
  nodes?: string[]
  /** The one API token accepted, USER@REALM!TOKENID=SECRET. */
  apiToken: string
  /** How long every task runs. Default 150 ms. */
  taskMs?: number
  /** Called inside a start task when the CT "boots": tests start the real agent here. */
  onCtStart?: (ct: DoubleCt) => Promise<void> | void
  /** Called inside stop/shutdown/destroy of a running CT: tests stop the agent here. */
  onCtStop?: (ct: DoubleCt) => Promise<void> | void
}

export interface ProxmoxDouble {
  url: string
  tls: TestTls
  cluster: DoubleCluster
  /** The next `count` nextid answers are raced: another client creates that vmid right after. */
  raceNextId(count: number): void
  /** The next create task fails with `error` after writing `log`. */
  failNextCreate(error: string, log: string[]): void
  /** Sets a config lock on a CT (e.g. "backup") for `ms`, as a concurrent job would. */
  lockCt(vmid: number, lock: string, ms: number): void
  /** Requests seen, newest last (method, path, authorized?). */
  requests: Array<{ method: string; path: string; authorized: boolean }>
  close(): Promise<void>
}

type Params = Record<string, string>
const TAG = /^[a-z0-9_][a-z0-9_+.-]*$/i

class PveHttpError extends Error {
  readonly status: number
  readonly errors: Record<string, string> | undefined

  constructor(status: number, message: string, errors?: Record<string, string>) {
    super(message)
    this.status = status
    this.errors = errors
  }
}

function sendPveError(reply: FastifyReply, err: PveHttpError): FastifyReply {
  // PVE puts the message in the reason phrase and (since 7.x) in the body.
  reply.raw.statusMessage = err.message.replace(/[\r\n]+/g, ' ').trim()
  return reply.code(err.status).send({ data: null, message: `${err.message}\n`, ...(err.errors ? { errors: err.errors } : {}) })
}

export async function startProxmoxDouble(options: ProxmoxDoubleOptions): Promise<ProxmoxDouble> {
  const tls = makeTestTls()
  const nodes = options.nodes ?? ['pve']
  const user = options.apiToken.split('=')[0]!
  const cluster = new DoubleCluster(options.taskMs ?? 150, user)
  const requests: ProxmoxDouble['requests'] = []
  let races = 0
  let createFailure: { error: string; log: string[] } | undefined

  const app: FastifyInstance = Fastify({ https: { key: tls.keyPem, cert: tls.certPem }, logger: false })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.addHook('onRequest', async (req, reply) => {
    const authorized = req.headers.authorization === `PVEAPIToken=${options.apiToken}`
    requests.push({ method: req.method, path: req.url.split('?')[0]!, authorized })
    if (!req.headers.authorization) return sendPveError(reply, new PveHttpError(401, 'No ticket'))
    if (!authorized) return sendPveError(reply, new PveHttpError(401, 'authentication failure'))
  })
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof PveHttpError) return sendPveError(reply, err)
    return sendPveError(reply, new PveHttpError(500, (err as Error).message))
  })
  app.setNotFoundHandler((req, reply) =>
    sendPveError(
      reply,
      new PveHttpError(501, `Method '${req.method} ${req.url.split('?')[0]!.replace('/api2/json', '')}' not implemented`),
    ),
  )

  const params = (req: FastifyRequest): Params => ({ ...(req.query as Params), ...((req.body as Params) ?? {}) })
  const nodeOf = (req: FastifyRequest): string => {
    const node = (req.params as Params).node!
    if (!nodes.includes(node)) throw new PveHttpError(595, `no such cluster node '${node}'`)
    return node
  }
  const ctOf = (req: FastifyRequest): DoubleCt => {
    const node = nodeOf(req)
    const vmid = Number((req.params as Params).vmid)
    const ct = cluster.cts.get(vmid)
    if (!ct || ct.node !== node) throw new PveHttpError(500, `Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist`)
    return ct
  }
  const checkLock = (ct: DoubleCt) => {
    if (ct.lock) throw new PveHttpError(500, `CT is locked (${ct.lock})`)
    if (ct.busy) throw new PveHttpError(500, `can't lock file '/run/lock/lxc/pve-config-${ct.vmid}.lock' - got timeout`)
  }
  /** Runs `work` as a task holding the CT's config file lock. */
  const lockedTask = (ct: DoubleCt, type: string, work: () => Promise<void> | void): string => {
    checkLock(ct)
    ct.busy = true
    return cluster.startTask(ct.node, type, String(ct.vmid), async () => {
      try {
        await work()
        return {}
      } finally {
        ct.busy = false
      }
    })
  }
  const statusView = (ct: DoubleCt) => ({
    vmid: ct.vmid,
    type: 'lxc',
    status: ct.status,
    name: ct.config.hostname,
    tags: ct.config.tags,
    cpus: Number(ct.config.cores ?? 1),
    maxmem: Number(ct.config.memory ?? 512) * 1024 * 1024,
    maxdisk: Number(/size=(\d+)G/.exec(String(ct.config.rootfs))?.[1] ?? 8) * 1024 ** 3,
    uptime: 0,
    ...(ct.lock ? { lock: ct.lock } : {}),
  })

  const api = '/api2/json'
  app.get(`${api}/version`, async () => ({ data: { version: '8.4.1', release: '8.4', repoid: 'double' } }))

  app.get(`${api}/cluster/nextid`, async (req) => {
    const p = params(req)
    if (p.vmid !== undefined) {
      const vmid = Number(p.vmid)
      if (!Number.isInteger(vmid) || vmid < 100 || vmid > 999999999)
        throw new PveHttpError(400, 'Parameter verification failed.', { vmid: 'invalid format - value does not look like a valid VM ID\n' })
      if (cluster.usedVmid(vmid)) throw new PveHttpError(400, 'Parameter verification failed.', { vmid: `VM ${vmid} already exists\n` })
      raceFor(vmid)
      return { data: vmid }
    }
    const vmid = cluster.nextFree()
    raceFor(vmid)
    return { data: String(vmid) }
  })

  const raceFor = (vmid: number) => {
    if (races > 0) {
      races--
      // Another client wins the race for this vmid right after our answer.
      setImmediate(() => {
        if (!cluster.usedVmid(vmid)) cluster.cts.set(vmid, foreignCt(vmid, nodes[0]!))
      })
    }
  }

  const foreignCt = (vmid: number, node: string): DoubleCt => ({
    vmid,
    node,
    status: 'stopped',
    busy: false,
    firewallRules: [],
    firewallOptions: {},
    address: cluster.addressFor(vmid),
    config: { hostname: `other-${vmid}`, cores: 1, memory: 512, rootfs: `local-lvm:vm-${vmid}-disk-0,size=4G`, tags: 'someone-else' },
  })

  app.get(`${api}/nodes/:node/lxc`, async (req) => {
    const node = nodeOf(req)
    return { data: [...cluster.cts.values()].filter((ct) => ct.node === node).map(statusView) }
  })

  app.post(`${api}/nodes/:node/lxc`, async (req) => {
    const node = nodeOf(req)
    const p = params(req)
    const errors: Record<string, string> = {}
    const vmid = Number(p.vmid)
    if (!p.vmid) errors.vmid = 'property is missing and it is not optional'
    else if (!Number.isInteger(vmid) || vmid < 100) errors.vmid = 'invalid format - value does not look like a valid VM ID'
    if (!p.ostemplate) errors.ostemplate = 'property is missing and it is not optional'
    if (p.tags !== undefined && !p.tags.split(/[;, ]+/).every((t) => TAG.test(t))) errors.tags = 'invalid format - invalid tag'
    if (p.rootfs !== undefined && !/^[a-z][a-z0-9_.-]*:\d+(\.\d+)?$/i.test(p.rootfs))
      errors.rootfs = 'invalid format - unable to parse volume'
    if (p.memory !== undefined && !(Number(p.memory) >= 16)) errors.memory = 'value must have a minimum value of 16'
    if (p.cores !== undefined && !(Number(p.cores) >= 1 && Number(p.cores) <= 8192)) errors.cores = 'value must have a minimum value of 1'
    if (Object.keys(errors).length) throw new PveHttpError(400, 'Parameter verification failed.', errors)
    // An API token without Sys.Modify (ours) may only create unprivileged CTs.
    if (p.unprivileged !== '1') throw new PveHttpError(403, 'Permission check failed (/, Sys.Modify)')
    if (cluster.usedVmid(vmid)) throw new PveHttpError(500, `CT ${vmid} already exists on node '${cluster.cts.get(vmid)!.node}'`)
    const [storage, size] = p.rootfs?.split(':') ?? ['local', '4']
    const { vmid: _v, ostemplate: _o, start: _s, storage: _st, ...rest } = p
    const ct: DoubleCt = {
      vmid,
      node,
      status: 'stopped',
      lock: 'create',
      busy: false,
      firewallRules: [],
      firewallOptions: {},
      address: cluster.addressFor(vmid),
      config: { ...rest, rootfs: `${storage}:vm-${vmid}-disk-0,size=${size}G`, arch: 'amd64', ostype: 'debian', unprivileged: 1 },
    }
    cluster.cts.set(vmid, ct)
    const failure = createFailure
    createFailure = undefined
    const upid = cluster.startTask(node, 'vzcreate', String(vmid), () => {
      const log = [`extracting archive '${p.ostemplate}'`, `Total bytes read: 10240000 (9.8MiB, 50MiB/s)`]
      if (failure) {
        cluster.cts.delete(vmid) // PVE removes the half-made CT when its create fails
        return { log: [...log, ...failure.log], error: `unable to create CT ${vmid} - ${failure.error}` }
      }
      delete ct.lock
      return { log: [...log, `Detected container architecture: amd64`] }
    })
    return { data: upid }
  })

  app.get(`${api}/nodes/:node/lxc/:vmid/config`, async (req) => {
    const ct = ctOf(req)
    return { data: { ...ct.config, ...(ct.lock ? { lock: ct.lock } : {}), digest: 'double' } }
  })
  app.put(`${api}/nodes/:node/lxc/:vmid/config`, async (req) => {
    const ct = ctOf(req)
    checkLock(ct)
    const p = params(req)
    if (p.memory !== undefined && !(Number(p.memory) >= 16))
      throw new PveHttpError(400, 'Parameter verification failed.', { memory: 'value must have a minimum value of 16' })
    for (const key of ['cores', 'memory', 'description', 'tags', 'hostname'] as const) if (p[key] !== undefined) ct.config[key] = p[key]
    return { data: null }
  })
  app.put(`${api}/nodes/:node/lxc/:vmid/resize`, async (req) => {
    const ct = ctOf(req)
    const p = params(req)
    if (p.disk !== 'rootfs' || !/^\+?\d+G$/.test(p.size ?? ''))
      throw new PveHttpError(400, 'Parameter verification failed.', { size: 'value does not match the regex pattern' })
    const current = Number(/size=(\d+)G/.exec(String(ct.config.rootfs))![1])
    const wanted = p.size!.startsWith('+') ? current + Number(p.size!.slice(1, -1)) : Number(p.size!.slice(0, -1))
    if (wanted < current) throw new PveHttpError(500, 'unable to shrink disk size')
    if (wanted === current) throw new PveHttpError(500, 'disk is already at specified size')
    return {
      data: lockedTask(ct, 'resize', () => {
        ct.config.rootfs = String(ct.config.rootfs).replace(/size=\d+G/, `size=${wanted}G`)
      }),
    }
  })
  app.get(`${api}/nodes/:node/lxc/:vmid/status/current`, async (req) => ({ data: statusView(ctOf(req)) }))

  app.post(`${api}/nodes/:node/lxc/:vmid/status/start`, async (req) => {
    const ct = ctOf(req)
    if (ct.status === 'running') throw new PveHttpError(500, `CT ${ct.vmid} already running`)
    return {
      data: lockedTask(ct, 'vzstart', async () => {
        await options.onCtStart?.(ct)
        ct.status = 'running'
      }),
    }
  })
  const stopper = (type: string) => async (req: FastifyRequest) => {
    const ct = ctOf(req)
    if (ct.status !== 'running') throw new PveHttpError(500, `CT ${ct.vmid} not running`)
    return {
      data: lockedTask(ct, type, async () => {
        await options.onCtStop?.(ct)
        ct.status = 'stopped'
      }),
    }
  }
  app.post(`${api}/nodes/:node/lxc/:vmid/status/shutdown`, stopper('vzshutdown'))
  app.post(`${api}/nodes/:node/lxc/:vmid/status/stop`, stopper('vzstop'))

  app.delete(`${api}/nodes/:node/lxc/:vmid`, async (req) => {
    const ct = ctOf(req)
    const p = params(req)
    checkLock(ct)
    if (ct.status === 'running' && p.force !== '1') throw new PveHttpError(500, `unable to destroy CT ${ct.vmid} - container is running`)
    ct.lock = 'destroyed'
    return {
      data: cluster.startTask(ct.node, 'vzdestroy', String(ct.vmid), async () => {
        if (ct.status === 'running') await options.onCtStop?.(ct)
        cluster.cts.delete(ct.vmid)
        return { log: [`Logical volume "vm-${ct.vmid}-disk-0" successfully removed.`] }
      }),
    }
  })

  app.get(`${api}/nodes/:node/lxc/:vmid/interfaces`, async (req) => {
    const ct = ctOf(req)
    if (ct.status !== 'running') return { data: null }
    return {
      data: [
        {
          name: 'lo',
          hwaddr: '00:00:00:00:00:00',
          'hardware-address': '00:00:00:00:00:00',
          inet: '127.0.0.1/8',
          'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'inet', prefix: 8 }],
        },
        {
          name: 'eth0',
          hwaddr: 'BC:24:11:00:00:01',
          'hardware-address': 'BC:24:11:00:00:01',
          inet: `${ct.address}/8`,
          'ip-addresses': [{ 'ip-address': ct.address, 'ip-address-type': 'inet', prefix: 8 }],
        },
      ],
    }
  })

  app.get(`${api}/nodes/:node/lxc/:vmid/firewall/rules`, async (req) => ({
    data: ctOf(req).firewallRules.map((r, pos) => ({ ...r, pos })),
  }))
  app.post(`${api}/nodes/:node/lxc/:vmid/firewall/rules`, async (req) => {
    const ct = ctOf(req)
    const p = params(req)
    if (!['in', 'out', 'group'].includes(p.type ?? '') || !p.action)
      throw new PveHttpError(400, 'Parameter verification failed.', { type: 'property is missing and it is not optional' })
    ct.firewallRules.unshift({ ...p }) // PVE inserts new rules at position 0
    return { data: null }
  })
  app.get(`${api}/nodes/:node/lxc/:vmid/firewall/options`, async (req) => ({ data: ctOf(req).firewallOptions }))
  app.put(`${api}/nodes/:node/lxc/:vmid/firewall/options`, async (req) => {
    const ct = ctOf(req)
    Object.assign(ct.firewallOptions, params(req))
    return { data: null }
  })

  app.get(`${api}/nodes/:node/tasks/:upid/status`, async (req) => {
    const task = cluster.tasks.get((req.params as Params).upid!)
    if (!task) throw new PveHttpError(500, 'unable to parse worker upid')
    return {
      data: {
        upid: task.upid,
        node: task.node,
        type: task.type,
        id: task.id,
        user,
        status: task.status,
        starttime: task.starttime,
        pid: 1,
        ...(task.exitstatus ? { exitstatus: task.exitstatus } : {}),
      },
    }
  })
  app.get(`${api}/nodes/:node/tasks/:upid/log`, async (req) => {
    const task = cluster.tasks.get((req.params as Params).upid!)
    if (!task) throw new PveHttpError(500, 'unable to parse worker upid')
    const p = params(req)
    const start = Number(p.start ?? 0)
    const limit = Number(p.limit ?? 50)
    return { data: task.log.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t })), total: task.log.length }
  })

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address() as { port: number }
  return {
    url: `https://127.0.0.1:${address.port}`,
    tls,
    cluster,
    requests,
    raceNextId: (count) => {
      races += count
    },
    failNextCreate: (error, log) => {
      createFailure = { error, log }
    },
    lockCt: (vmid, lock, ms) => {
      const ct = cluster.cts.get(vmid)
      if (!ct) throw new Error(`double: no CT ${vmid}`)
      ct.lock = lock
      setTimeout(() => {
        if (ct.lock === lock) delete ct.lock
      }, ms)
    },
    close: async () => {
      await cluster.drain()
      await app.close()
    },
  }
}
