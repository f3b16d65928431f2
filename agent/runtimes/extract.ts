// Safe tar extraction into a staging directory, as a Node Writable the fetcher streams into.
//
// Guarantees: an archive is refused as a whole (ARCHIVE_UNSAFE_ENTRY, naming the entry) if any
// entry has an absolute path, a `..` segment or a NUL byte, is a device/FIFO/other special file,
// or is a link whose target resolves outside the extraction root. Nothing is written outside
// `dir`; on refusal the caller discards `dir`. Owners in the archive are ignored.
// An entry that would be written through a symbolic link the archive made earlier (`l -> .`,
// then `l/m -> ..`, then `l/m/x`) is refused too (tar's own check, reported as unsafe).
// Assumptions: `dir` is a fresh, empty, agent-private directory.
// Why this is not the uploads extractor (agent/uploads/archive.ts): a runtime tarball is pinned by
// its catalog sha256 and needs links inside itself (node's bin/npm -> ../lib/...), so links that
// stay inside are kept; uploads come from people into a live game root, so they refuse every link
// and device, take zip too, have entry/size budgets and merge into an existing tree. Same
// confinement of names (absolute, "..", NUL, devices), different policies: two modules.
import path from 'node:path'
import { Writable } from 'node:stream'
import zlib from 'node:zlib'
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

/** tar's own refusal to write through a symbolic link is an unsafe entry, not an unreadable archive. */
function fromTarError(err: Error & { code?: string; path?: string }, label: string): AgentError {
  if (err.code === 'TAR_SYMLINK_ERROR') {
    return new AgentError(
      'ARCHIVE_UNSAFE_ENTRY',
      `${label}: an entry is refused because it would be written through a symbolic link (${err.message})`,
      err.path === undefined ? undefined : { entry: err.path },
    )
  }
  return new AgentError('ARCHIVE_INVALID', `${label}: ${err.message}`)
}

type Reservations = tar.Unpack['reservations']
type ReservedJob = Parameters<Reservations['reserve']>[1]

/**
 * Runs node-tar's per-entry jobs one after another, in archive order, keeping nothing once a job
 * is done. node-tar's own path reservations keep every finished entry (its header, path strings,
 * closures) until the extraction ends: ≈2.7 MiB per 1,000 entries, 20 MiB more at the peak of a
 * 7,000-file game package (bench/footprint.ts --install-files). Reservations only order jobs that
 * touch the same paths, and archive order is such an order, so the result is the same; the
 * extraction is a few percent slower, since file jobs no longer overlap.
 */
function inArchiveOrder(onError: (err: Error) => void): Reservations {
  let last: Promise<void> = Promise.resolve()
  const reserve = (_paths: string[], job: ReservedJob): boolean => {
    last = last.then(
      () =>
        new Promise<void>((done) => {
          try {
            job(() => done())
          } catch (err) {
            // The next jobs still run (and fail fast on the aborted unpack): no extraction hangs.
            done()
            onError(err as Error)
          }
        }),
    )
    return false
  }
  return { reserve, check: () => false } as unknown as Reservations
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
        refusal = new AgentError(
          'ARCHIVE_UNSAFE_ENTRY',
          `${opts.label}: entry ${JSON.stringify(e.path ?? entryPath)} is refused because ${reason}`,
          { entry: e.path ?? entryPath },
        )
        unpack.abort(refusal)
        return false
      }
      opts.onEntry?.(entryPath)
      return true
    },
  })
  unpack.reservations = inArchiveOrder((err) => unpack.abort(err))
  let finished = false
  let pendingFinal: ((err?: Error | null) => void) | undefined
  // gzip is decompressed by zlib on the thread pool (tar's own gunzip runs on the main thread),
  // so decompression overlaps with hashing and tar parsing. Decided on the first bytes.
  let gunzipStream: zlib.Gunzip | undefined
  let input: { write(chunk: Buffer): boolean; end(): void; once(ev: 'drain', cb: () => void): unknown } | undefined
  const pickInput = (first: Buffer): typeof input => {
    if (first[0] !== 0x1f || first[1] !== 0x8b) return unpack
    const gunzip = zlib.createGunzip({ chunkSize: 256 * 1024 })
    gunzipStream = gunzip
    gunzip.on('data', (chunk: Buffer) => {
      if (!unpack.write(chunk)) {
        gunzip.pause()
        unpack.once('drain', () => gunzip.resume())
      }
    })
    gunzip.on('end', () => unpack.end())
    gunzip.on('error', (err) => unpack.abort(new AgentError('ARCHIVE_INVALID', `${opts.label}: not valid gzip (${err.message})`)))
    return gunzip
  }
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (refusal) return cb(refusal)
      input ??= pickInput(chunk)
      if (input!.write(chunk)) cb()
      else input!.once('drain', () => cb(refusal ?? null))
    },
    final(cb) {
      if (finished) return cb()
      pendingFinal = cb
      if (input) input.end()
      else unpack.end()
    },
    destroy(err, cb) {
      gunzipStream?.destroy()
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
    const mapped = refusal ?? (err instanceof AgentError ? err : fromTarError(err, opts.label))
    if (pendingFinal) pendingFinal(mapped)
    else sink.destroy(mapped)
  })
  return sink
}
