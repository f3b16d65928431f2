// `zlh up --json` as a person runs it, as a child process in a test's state directory: started
// until its ready event, stopped with a signal (SIGKILL after 60 s), and the commands a person
// types next — kubectl with the printed kubeconfig (its own HOME and cache) and `zlh …`.
// Progress events go to `comment` (one per change of step, at most one per 15 s within a step).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { REPO } from '../apiserver/harness.ts'

export interface UpReady {
  kubeconfig: string
  gatewayUrl: string
  caFile: string
}
export interface RunResult {
  code: number
  out: string
  err: string
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeout = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout, cwd: REPO, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: stdout, err: stderr }),
    )
  })
}

export class UpProcess {
  readonly #stateDir: string
  readonly #home: string
  readonly #args: string[]
  readonly #comment: (s: string) => void
  #child: ChildProcess | undefined
  #output = ''
  kubeconfig = ''

  /** `args`: after `zlh up --state-dir <stateDir> --json`; `home`: kubectl's HOME (a temp dir). */
  constructor(opts: { stateDir: string; home: string; args?: string[]; comment?: (s: string) => void }) {
    this.#stateDir = opts.stateDir
    this.#home = opts.home
    this.#args = opts.args ?? []
    this.#comment = opts.comment ?? (() => {})
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null
  }
  /** The last 20 kB of its stdout and stderr. */
  output(): string {
    return this.#output
  }

  /** `comment`: where progress goes for this start (default: the constructor's). */
  start(comment = this.#comment): Promise<UpReady> {
    const child = spawn(process.execPath, [join(REPO, 'bin/zlh.js'), 'up', '--state-dir', this.#stateDir, '--json', ...this.#args], {
      cwd: REPO,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.#child = child
    let pending = ''
    let lastShown = ''
    let lastShownAt = 0
    const keep = (b: Buffer): void => {
      this.#output = (this.#output + b.toString()).slice(-20_000)
    }
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        keep(b)
        pending += b.toString()
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          let ev: Record<string, unknown>
          try {
            ev = JSON.parse(line) as Record<string, unknown>
          } catch {
            comment(`zlh up: ${line}`)
            continue
          }
          if (ev.msg === 'zlh ready') {
            this.kubeconfig = String(ev.kubeconfig)
            resolve({ kubeconfig: this.kubeconfig, gatewayUrl: String(ev.gatewayUrl), caFile: String(ev.caFile) })
            continue
          }
          const shown = `${String(ev.step ?? ev.msg ?? '')}`
          if (shown !== lastShown || Date.now() - lastShownAt > 15_000) {
            comment(`zlh up: ${line}`)
            lastShown = shown
            lastShownAt = Date.now()
          }
        }
      })
      child.stderr!.on('data', keep)
      child.once('exit', (code) => reject(new Error(`zlh up exited (${code}) before ready:\n${this.#output}`)))
    })
  }

  /** `signal` (SIGINT is what Ctrl-C sends) and the exit code; SIGKILL after 60 s. */
  stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    const child = this.#child
    if (!child || !this.running) return Promise.resolve(child?.exitCode ?? null)
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.once('exit', (code) => {
        clearTimeout(kill)
        resolve(code)
      })
      child.kill(signal)
    })
  }

  kubectl(...args: string[]): Promise<RunResult> {
    return run(
      'kubectl',
      [`--cache-dir=${join(this.#home, 'kube-cache')}`, ...args],
      { ...process.env, HOME: this.#home, KUBECONFIG: this.kubeconfig },
      300_000,
    )
  }

  zlh(...args: string[]): Promise<RunResult> {
    return run(process.execPath, [join(REPO, 'bin/zlh.js'), ...args], process.env, 120_000)
  }
}
