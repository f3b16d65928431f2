// TEST DOUBLE — the state behind the Proxmox VE API double (see README.md): CTs, their config
// locks and asynchronous tasks (UPIDs), modelled on pve-container / pve-manager behaviour:
// - a create holds lock `create` for its task's duration, a destroy lock `destroyed`;
// - start/stop/shutdown hold the CT's config file lock while their task runs, so a concurrent
//   call fails with PVE's "can't lock file ... got timeout";
// - tasks run for `taskMs` before they stop, with exitstatus "OK" or an error text and a log.

export interface DoubleCt {
  vmid: number
  node: string
  status: 'running' | 'stopped'
  /** Config lock (create, destroyed, backup, …), shown as `lock` in config and status. */
  lock?: string
  /** A task currently holds the config file lock. */
  busy: boolean
  config: Record<string, string | number>
  firewallRules: Array<Record<string, string | number>>
  firewallOptions: Record<string, string | number>
  /** Loopback address the double reports for eth0: 127.<vmid>… unique per CT. */
  address: string
}

export interface DoubleTask {
  upid: string
  node: string
  type: string
  id: string
  status: 'running' | 'stopped'
  exitstatus?: string
  log: string[]
  starttime: number
}

export interface TaskOutcome {
  /** Lines for the task log. */
  log?: string[]
  /** Error text; absent means OK. */
  error?: string
}

let pidCounter = 0x4000

export class DoubleCluster {
  readonly cts = new Map<number, DoubleCt>()
  readonly tasks = new Map<string, DoubleTask>()
  readonly #pending = new Set<Promise<void>>()

  readonly taskMs: number
  readonly user: string

  constructor(taskMs: number, user: string) {
    this.taskMs = taskMs
    this.user = user
  }

  addressFor(vmid: number): string {
    return `127.${(vmid >> 16) & 255}.${(vmid >> 8) & 255}.${vmid & 255}`
  }

  usedVmid(vmid: number): boolean {
    return this.cts.has(vmid)
  }

  nextFree(from = 100): number {
    let vmid = from
    while (this.cts.has(vmid)) vmid++
    return vmid
  }

  /**
   * Starts an asynchronous task: `work` runs after `taskMs`, its outcome decides the exit status.
   * Returns the UPID at once, like the API does.
   */
  startTask(node: string, type: string, id: string, work: () => Promise<TaskOutcome> | TaskOutcome): string {
    const starttime = Math.floor(Date.now() / 1000)
    const pid = pidCounter++
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0')
    const upid = `UPID:${node}:${hex(pid)}:${hex(pid * 7)}:${hex(starttime)}:${type}:${id}:${this.user}:`
    const task: DoubleTask = { upid, node, type, id, status: 'running', log: [], starttime }
    this.tasks.set(upid, task)
    const run = (async () => {
      await new Promise((resolve) => setTimeout(resolve, this.taskMs))
      let outcome: TaskOutcome
      try {
        outcome = await work()
      } catch (err) {
        outcome = { error: (err as Error).message }
      }
      task.log.push(...(outcome.log ?? []))
      if (outcome.error) task.log.push(`TASK ERROR: ${outcome.error}`)
      else task.log.push('TASK OK')
      task.exitstatus = outcome.error ?? 'OK'
      task.status = 'stopped'
    })()
    this.#pending.add(run)
    void run.finally(() => this.#pending.delete(run))
    return upid
  }

  /** Waits for every running task (so a test's teardown leaves no timers behind). */
  async drain(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending])
  }
}
