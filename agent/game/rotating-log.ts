// A size-rotated log file: `<file>`, then `<file>.1` … `<file>.<keep>` (oldest dropped).
// Written synchronously by the game wrapper so output is on disk even when no agent is attached.
//
// Guarantees: the live file never exceeds maxBytes by more than one write; rotation is a chain
// of renames, so a reader sees either the old or the new file, never a torn one.
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync, statSync } from 'node:fs'
import path from 'node:path'
import { runMarker } from './wrapper-protocol.ts'

export class RotatingLog {
  private fd: number
  private size: number
  private readonly file: string
  private readonly maxBytes: number
  private readonly keep: number

  constructor(file: string, maxBytes = 8 * 1024 * 1024, keep = 3) {
    this.file = file
    this.maxBytes = maxBytes
    this.keep = keep
    mkdirSync(path.dirname(file), { recursive: true })
    this.fd = openSync(file, 'a', 0o640)
    this.size = fstatSync(this.fd).size
  }

  write(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (this.size > 0 && this.size + buf.length > this.maxBytes) this.rotate()
    writeSync(this.fd, buf)
    this.size += buf.length
  }

  private rotate(): void {
    closeSync(this.fd)
    rmSync(`${this.file}.${this.keep}`, { force: true })
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`)
      } catch {
        /* gap in the chain */
      }
    }
    if (this.keep >= 1) renameSync(this.file, `${this.file}.1`)
    else rmSync(this.file, { force: true })
    this.fd = openSync(this.file, 'a', 0o640)
    this.size = 0
  }

  close(): void {
    closeSync(this.fd)
  }
}

/** The last `n` lines of a log file (reads at most `maxBytes` from its end). */
export function readLogTail(file: string, n: number, maxBytes = 256 * 1024): string[] {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return []
  }
  try {
    const size = statSync(file).size
    const len = Math.min(size, maxBytes)
    const buf = Buffer.alloc(len)
    readSync(fd, buf, 0, len, size - len)
    const lines = buf.toString('utf8').split('\n')
    if (len < size) lines.shift()
    if (lines.at(-1) === '') lines.pop()
    return lines.slice(-n)
  } finally {
    closeSync(fd)
  }
}

/** The last `n` lines a run wrote: the lines after its start marker (the log is shared by all runs). */
export function runLogTail(file: string, runId: string, n: number): string[] {
  const lines = readLogTail(file, n + 400)
  const marker = runMarker(runId)
  let i = lines.length - 1
  while (i >= 0 && !lines[i]!.startsWith(marker)) i--
  return (i >= 0 ? lines.slice(i + 1) : lines).slice(-n)
}
