// The last N lines of the game's output, kept in memory for crash records and for viewers that
// join a console late. Bounded in lines and in line length, whatever the process prints.
export class LineRing {
  private readonly lines: string[] = []
  private partial = ''
  private readonly maxLines: number
  private readonly maxLineLength: number

  constructor(maxLines = 1000, maxLineLength = 4096) {
    this.maxLines = maxLines
    this.maxLineLength = maxLineLength
  }

  /** Adds raw output; complete lines are kept, a trailing partial line waits for its end. */
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n')
    this.partial = (parts.pop() ?? '').slice(-this.maxLineLength)
    for (const line of parts) this.add(line.replace(/\r$/, ''))
  }

  /** Adds whole lines as they are (e.g. read back from the log file). */
  pushLines(lines: readonly string[]): void {
    for (const line of lines) this.add(line)
  }

  private add(line: string): void {
    this.lines.push(line.length > this.maxLineLength ? line.slice(0, this.maxLineLength) : line)
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines)
  }

  /** The last `n` lines, including a pending partial line. */
  tail(n = this.maxLines): string[] {
    const all = this.partial ? [...this.lines, this.partial] : this.lines
    return all.slice(-n)
  }

  /** True while the last output did not end its line. */
  get midLine(): boolean {
    return this.partial !== ''
  }

  clear(): void {
    this.lines.length = 0
    this.partial = ''
  }
}
