// Safe tar extraction into a staging directory, as a Node Writable the fetcher streams into.
//
// Guarantees: an archive is refused as a whole (ARCHIVE_UNSAFE_ENTRY, naming the entry) if any
// entry has an absolute path, a `..` segment or a NUL byte, is a device/FIFO/other special file,
// or is a link whose target resolves outside the extraction root. Nothing is written outside
// `dir`; on refusal the caller discards `dir`. Owners in the archive are ignored.
// Assumptions: `dir` is a fresh, empty, agent-private directory.
import path from 'node:path'
import { Writable } from 'node:stream'
import * as tar from 'tar'
import { AgentError } from '../errors.ts'

const allowedTypes = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'])

interface EntryLike {
  path: string
  type?: string
  linkpath?: string
}

/** Why this entry is unsafe, or null when it is fine. Paths are as written in the archive. */
export function unsafeEntryReason(entry: EntryLike): string | null {
  const p = entry.path
  if (p.includes('\0')) return 'its path contains a NUL byte'
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.startsWith('\\')) return 'its path is absolute'
  if (p.split(/[\\/]/).includes('..')) return 'its path contains ".."'
  const type = entry.type ?? 'File'
  if (!allowedTypes.has(type)) return `it is a ${type} (only files, directories and links inside the archive are allowed)`
  if (type === 'SymbolicLink' || type === 'Link') {
    const target = entry.linkpath ?? ''
    if (target === '' || target.includes('\0')) return 'its link target is empty or contains a NUL byte'
    if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return `it links to the absolute path ${target}`
    // Symlinks resolve from the entry's directory, hard links from the archive root.
    const base = type === 'SymbolicLink' ? path.posix.dirname(p) : '.'
    const resolved = path.posix.normalize(path.posix.join(base, target))
    if (resolved === '..' || resolved.startsWith('../')) return `it links to ${target}, outside the archive`
    if (type === 'Link' && target.split('/').includes('..')) return `its hard link target ${target} contains ".."`
  }
  return null
}

export interface SafeExtractOptions {
  /** extraction root (must exist) */
  dir: string
  /** archive name for error messages */
  label: string
  onEntry?: (path: string) => void
}

/** A Writable that extracts a (possibly gzipped) tar stream into `dir`, refusing unsafe entries. */
export function safeExtractor(opts: SafeExtractOptions): Writable {
  let refusal: AgentError | undefined
  const unpack = new tar.Unpack({
    cwd: opts.dir,
    strict: true,
    preserveOwner: false,
    noMtime: false,
    filter: (entryPath, entry) => {
      if (refusal) return false
      const e = entry as unknown as EntryLike
      const reason = unsafeEntryReason({ path: e.path ?? entryPath, type: e.type, linkpath: e.linkpath })
      if (reason) {
        refusal = new AgentError('ARCHIVE_UNSAFE_ENTRY', `${opts.label}: entry ${JSON.stringify(e.path ?? entryPath)} is refused because ${reason}`, { entry: e.path ?? entryPath })
        unpack.abort(refusal)
        return false
      }
      opts.onEntry?.(entryPath)
      return true
    },
  })
  let finished = false
  let pendingFinal: ((err?: Error | null) => void) | undefined
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (refusal) return cb(refusal)
      if (unpack.write(chunk)) cb()
      else unpack.once('drain', () => cb(refusal ?? null))
    },
    final(cb) {
      if (finished) return cb()
      pendingFinal = cb
      unpack.end()
    },
    destroy(err, cb) {
      if (!finished) unpack.abort(err ?? new Error('extraction cancelled'))
      cb(err)
    },
  })
  unpack.on('finish', () => {
    finished = true
    pendingFinal?.(refusal ?? null)
  })
  unpack.on('error', (err: Error) => {
    finished = true
    const mapped = refusal ?? (err instanceof AgentError ? err : new AgentError('ARCHIVE_INVALID', `${opts.label}: ${err.message}`))
    if (pendingFinal) pendingFinal(mapped)
    else sink.destroy(mapped)
  })
  return sink
}
