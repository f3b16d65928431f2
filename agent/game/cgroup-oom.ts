// Reads the kernel's OOM-kill counter of the memory cgroup a process lives in, on cgroup v2
// (`memory.events`, `oom_kill N`) and v1 (`memory.oom_control`, `oom_kill N`).
//
// Assumptions: cgroup filesystems are mounted where /proc/self/mountinfo says; inside a container
// with a cgroup namespace the process's cgroup path is relative to the namespace root, which is
// what the mount shows. Any failure (no /proc, no memory controller) yields null: callers then
// fall back to log evidence only.
import { readFileSync } from 'node:fs'
import path from 'node:path'

interface CgroupMount {
  mountPoint: string
  root: string
  version: 1 | 2
}

function memoryMounts(): CgroupMount[] {
  const out: CgroupMount[] = []
  let text: string
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return out
  }
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ')
    if (!left || !right) continue
    const fields = left.split(' ')
    const [fsType, , superOpts = ''] = right.split(' ')
    const root = fields[3] ?? '/'
    const mountPoint = (fields[4] ?? '').replace(/\\040/g, ' ')
    if (fsType === 'cgroup2') out.push({ mountPoint, root, version: 2 })
    else if (fsType === 'cgroup' && superOpts.split(',').includes('memory')) out.push({ mountPoint, root, version: 1 })
  }
  return out
}

/** The file holding the oom_kill counter for `pid`'s memory cgroup, or null when there is none. */
export function oomCounterFile(pid: number | 'self' = 'self'): string | null {
  let cg: string
  try {
    cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
  } catch {
    return null
  }
  const mounts = memoryMounts()
  for (const line of cg.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line)
    if (!m) continue
    const [, , controllers = '', cgPath = '/'] = m
    const v1 = controllers.split(',').includes('memory')
    const v2 = controllers === ''
    for (const mount of mounts) {
      if ((v1 && mount.version === 1) || (v2 && mount.version === 2)) {
        const rel = mount.root !== '/' && cgPath.startsWith(mount.root) ? cgPath.slice(mount.root.length) : cgPath
        const file = path.join(mount.mountPoint, rel, mount.version === 2 ? 'memory.events' : 'memory.oom_control')
        if (readOomKills(file) !== null) return file
      }
    }
  }
  return null
}

/** The oom_kill counter in a memory.events / memory.oom_control file, or null when unreadable. */
export function readOomKills(file: string | null): number | null {
  if (!file) return null
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}
