// Progress display for steps that may take more than a second. On a TTY a step shows a spinner
// with elapsed seconds and ends as one "✓ label (1.2s)" line; when stdout is not a TTY the output
// is plain (a progress line every 15 s while a step runs, one line when it ends); with json every
// step's progress and end are JSON lines ({"msg":"step progress"|"step done"|"step failed", step, ms, …}).
// Steps never print anything that is a secret; callers pass labels only.

export interface ProgressOptions {
  json?: boolean
  /** Defaults to process.stdout.isTTY. */
  tty?: boolean
  out?: NodeJS.WritableStream
  /** Without a TTY: how often a running step prints a progress line (default 15 s). */
  heartbeatMs?: number
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export class Progress {
  readonly json: boolean
  readonly #tty: boolean
  readonly #out: NodeJS.WritableStream
  readonly #heartbeatMs: number

  constructor(opts: ProgressOptions = {}) {
    this.json = opts.json === true
    this.#out = opts.out ?? process.stdout
    this.#heartbeatMs = opts.heartbeatMs ?? 15_000
    this.#tty = !this.json && (opts.tty ?? process.stdout.isTTY === true)
  }

  /** Runs fn as a named step; `detail(text)` updates the live line (e.g. bytes downloaded). */
  async step<T>(label: string, fn: (detail: (text: string) => void) => Promise<T>): Promise<T> {
    const started = Date.now()
    let detailText = ''
    let frame = 0
    const render = (): void => {
      const secs = ((Date.now() - started) / 1000).toFixed(0)
      this.#out.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}${detailText ? ` — ${detailText}` : ''} (${secs}s)`)
    }
    // Only steps that last more than a second get a live line; without a TTY, a long step prints a
    // progress line every heartbeatMs (JSON with --json) instead of staying silent until it ends.
    const heartbeat = (): void => {
      const ms = Date.now() - started
      this.#out.write(
        this.json
          ? `${JSON.stringify({ msg: 'step progress', step: label, ms, ...(detailText ? { detail: detailText } : {}) })}\n`
          : `… ${label}${detailText ? ` — ${detailText}` : ''} (${(ms / 1000).toFixed(0)}s)\n`,
      )
    }
    const timer = this.#tty ? setInterval(render, 120) : setInterval(heartbeat, this.#heartbeatMs)
    timer.unref()
    try {
      const result = await fn((text) => {
        detailText = text
      })
      this.#end(label, started, true)
      return result
    } catch (err) {
      this.#end(label, started, false, (err as Error).message)
      throw err
    } finally {
      clearInterval(timer)
    }
  }

  #end(label: string, started: number, ok: boolean, error?: string): void {
    const ms = Date.now() - started
    if (this.json) {
      this.#out.write(`${JSON.stringify({ msg: ok ? 'step done' : 'step failed', step: label, ms, ...(error ? { error } : {}) })}\n`)
      return
    }
    const line = `${ok ? '✓' : '✗'} ${label} (${(ms / 1000).toFixed(1)}s)${error ? `: ${error}` : ''}`
    this.#out.write(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`)
  }

  /** A plain message (or a JSON event with --json). */
  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.#out.write(this.json ? `${JSON.stringify({ msg, ...fields })}\n` : `${msg}\n`)
  }
}
