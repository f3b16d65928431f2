// What the LXC backend writes into a container: its config block (network, cgroup limits, the
// read-only bind mounts of the project and Node), its init (busybox init respawning the agent)
// and the agent's token file.
//
// The block is delimited by markers and rewritten whole on every ensure, so repeating it is a
// no-op and a crash mid-write is repaired by the next ensure (the file is replaced by rename).

import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdir, readFile } from 'node:fs/promises'
import { writeFileDurable } from '../../platform/durable-file.ts'
import { join } from 'node:path'
import { ProviderError } from '../errors.ts'
import type { ContainerResources } from '../types.ts'

const BEGIN = '# ---- zlh managed: begin (rewritten by the lxc provider) ----'
const END = '# ---- zlh managed: end ----'
/** Lines of the template's config that our block replaces. */
const REPLACED = /^\s*lxc\.(net\.|mount\.auto|cgroup2?\.|signal\.halt|init\.cmd)/

/** Where things live inside the container. */
export const IN_CONTAINER = {
  project: '/opt/zlh/project',
  node: '/opt/zlh/node',
  tokenFile: '/etc/zlh/agent-token',
  runScript: '/etc/zlh/run-agent',
  pidFile: '/etc/zlh/agent.pid',
  /** The agent's own log, which it rotates (--log-file). */
  log: '/var/log/zlh-agent.log',
  /** What reaches the agent's stdout/stderr outside its logger (a crash's last words). */
  stdioLog: '/var/log/zlh-agent.stderr.log',
}

/** Host binaries bind-mounted read-only into the container: [host path, path in the rootfs]. */
const HOST_TOOLS: Array<[string, string]> = [
  ['/usr/sbin/useradd', 'usr/sbin/useradd'],
  ['/usr/bin/bash', 'bin/bash'],
]

export type CgroupLayout = 'v2' | 'v1'

/** v2 when the unified hierarchy has the cpu and memory controllers, else the legacy hierarchies. */
export function detectCgroupLayout(root = '/sys/fs/cgroup'): CgroupLayout {
  const controllers = join(root, 'cgroup.controllers')
  if (existsSync(controllers)) {
    const list = readFileSync(controllers, 'utf8').split(/\s+/)
    if (list.includes('memory') && list.includes('cpu')) return 'v2'
  }
  if (existsSync(join(root, 'memory')) && existsSync(join(root, 'cpu'))) return 'v1'
  throw new ProviderError(
    'HostUnsupported',
    `no cgroup cpu/memory controllers under ${root}; the lxc provider needs them to apply resource limits`,
    {},
  )
}

export interface ConfigBlockInput {
  bridge: string
  address: string
  prefix: number
  gateway: string
  veth: string
  netUpScript: string
  resources: ContainerResources
  cgroup: CgroupLayout
  projectDir: string
  nodeBinary: string
}

/** The cgroup settings for `resources`, as [key, value] (config key = `lxc.<prefix>.<key>`). */
export function cgroupLimits(layout: CgroupLayout, resources: ContainerResources): Array<[string, string]> {
  const memoryBytes = String(resources.memoryMiB * 1024 * 1024)
  const period = 100_000
  return layout === 'v2'
    ? [
        ['memory.max', memoryBytes],
        ['cpu.max', `${resources.cores * period} ${period}`],
      ]
    : [
        ['memory.limit_in_bytes', memoryBytes],
        ['cpu.cfs_period_us', String(period)],
        ['cpu.cfs_quota_us', String(resources.cores * period)],
      ]
}

export function renderBlock(input: ConfigBlockInput): string {
  for (const path of [input.projectDir, input.nodeBinary, input.netUpScript]) {
    if (/\s/.test(path))
      throw new ProviderError(
        'InvalidConfig',
        `path ${JSON.stringify(path)} contains whitespace, which an LXC mount entry cannot express`,
        {},
      )
  }
  const prefix = input.cgroup === 'v2' ? 'lxc.cgroup2' : 'lxc.cgroup'
  const limits = cgroupLimits(input.cgroup, input.resources).map(([key, value]) => `${prefix}.${key} = ${value}`)
  return [
    BEGIN,
    `# zlh-resources ${JSON.stringify(input.resources)}`,
    'lxc.net.0.type = veth',
    `lxc.net.0.link = ${input.bridge}`,
    'lxc.net.0.flags = up',
    'lxc.net.0.name = eth0',
    `lxc.net.0.veth.pair = ${input.veth}`,
    `lxc.net.0.ipv4.address = ${input.address}/${input.prefix}`,
    `lxc.net.0.ipv4.gateway = ${input.gateway}`,
    `lxc.net.0.script.up = ${input.netUpScript}`,
    // :force mounts the container's cgroups even on hybrid hosts, so limits are visible inside.
    'lxc.mount.auto = cgroup:mixed:force proc:mixed sys:ro',
    `lxc.mount.entry = ${input.projectDir} ${IN_CONTAINER.project.slice(1)} none ro,bind,create=dir 0 0`,
    `lxc.mount.entry = ${input.nodeBinary} ${IN_CONTAINER.node.slice(1)} none ro,bind,create=file 0 0`,
    // The busybox rootfs lacks what the agent drives on a real container: useradd for the dev
    // user and bash for login shells. The host's binaries (its /lib is bind-mounted already).
    ...HOST_TOOLS.filter(([host]) => existsSync(host)).map(
      ([host, inside]) => `lxc.mount.entry = ${host} ${inside} none ro,bind,create=file 0 0`,
    ),
    'lxc.signal.halt = SIGUSR1',
    ...limits,
    END,
    '',
  ].join('\n')
}

/** The template's config with our block (re)placed at its end. */
export function mergeConfig(current: string, block: string): string {
  const start = current.indexOf(BEGIN)
  const end = current.indexOf(END)
  const withoutBlock = start >= 0 && end > start ? current.slice(0, start) + current.slice(end + END.length) : current
  const kept = withoutBlock
    .split('\n')
    .filter((line) => !REPLACED.test(line))
    .join('\n')
    .replace(/\n+$/, '\n')
  return `${kept}\n${block}`
}

export function resourcesFromConfig(config: string): ContainerResources | undefined {
  const match = /^# zlh-resources (\{.*\})$/m.exec(config)
  return match ? (JSON.parse(match[1]!) as ContainerResources) : undefined
}

export async function writeContainerConfig(configPath: string, block: string): Promise<void> {
  const current = await readFile(configPath, 'utf8')
  const next = mergeConfig(current, block)
  if (next !== current) await writeFileDurable(configPath, next, 0o640)
}

/**
 * The container's init: busybox init runs rcS, then keeps the agent alive (respawn). The token
 * reaches the agent as a file path; it is never on a command line or in an environment.
 */
export async function writeInit(
  rootfs: string,
  agentPort: number,
  /** what Node runs, before the agent's flags (in-container paths): the agent bundle, or `bin/zlh.js agent` */
  agentArgs: readonly string[] = [`${IN_CONTAINER.project}/bin/zlh.js`, 'agent'],
): Promise<void> {
  await mkdir(join(rootfs, 'etc/zlh'), { recursive: true, mode: 0o700 })
  await chmod(join(rootfs, 'etc/zlh'), 0o700)
  await writeFileDurable(
    join(rootfs, 'etc/inittab'),
    ['::sysinit:/etc/init.d/rcS', `::respawn:/bin/sh ${IN_CONTAINER.runScript}`, '::shutdown:/bin/sync', ''].join('\n'),
    0o644,
  )
  await mkdir(join(rootfs, 'etc/init.d'), { recursive: true })
  // No udhcpc: the address is static, set by LXC.
  await writeFileDurable(join(rootfs, 'etc/init.d/rcS'), '#!/bin/sh\n/bin/mount -a 2>/dev/null\nexit 0\n', 0o755)
  await writeFileDurable(
    join(rootfs, IN_CONTAINER.runScript.slice(1)),
    [
      '#!/bin/sh',
      '# Started and respawned by init. Node and the project are read-only bind mounts.',
      'export HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      `echo $$ > ${IN_CONTAINER.pidFile}`,
      `exec ${IN_CONTAINER.node} ${agentArgs.join(' ')} --root / --listen 0.0.0.0:${agentPort} --token-file ${IN_CONTAINER.tokenFile} --log-file ${IN_CONTAINER.log} >>${IN_CONTAINER.stdioLog} 2>&1`,
      '',
    ].join('\n'),
    0o700,
  )
}

/** Writes the token file (0600, in a 0700 directory); returns whether it changed. */
export async function writeToken(rootfs: string, token: string): Promise<boolean> {
  const path = join(rootfs, IN_CONTAINER.tokenFile.slice(1))
  await mkdir(join(rootfs, 'etc/zlh'), { recursive: true, mode: 0o700 })
  const current = await readFile(path, 'utf8').catch(() => undefined)
  if (current === token) return false
  await writeFileDurable(path, token, 0o600)
  return true
}
