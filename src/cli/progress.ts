// Progress display for steps that may take more than a second. On a TTY a step shows a spinner
// with elapsed seconds and ends as one "✓ label (1.2s)" line; when stdout is not a TTY the output
// is plain (one line when a step ends); with json every step end is one JSON line.
// Steps never print anything that is a secret; callers pass labels only.

export interface ProgressOptions {
  json?: boolean
  /** Defaults to process.stdout.isTTY. */
  tty?: boolean
  out?: NodeJS.WritableStream
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export class Progress {
  readonly json: boolean
  readonly #tty: boolean
  readonly #out: NodeJS.WritableStream

  constructor(opts: ProgressOptions = {}) {
    this.json = opts.json === true
    this.#out = opts.out ?? process.stdout
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
    // Only steps that last more than a second get a live line.
    const timer = this.#tty ? setInterval(render, 120) : undefined
    timer?.unref()
    try {
      const result = await fn((text) => { detailText = text })
      this.#end(label, started, true)
      return result
    } catch (err) {
      this.#end(label, started, false, (err as Error).message)
      throw err
    } finally {
      if (timer) clearInterval(timer)
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
