// Reading an uploaded tar or tar.gz in two passes over the same decoded stream: first every
// header with the data skipped (a counting pre-pass: a tar has no index, so this is the only way
// to know the entry count and the total size before writing), then again with the data.
//
// Guarantees:
//  - Every stream of a pass (the file, gunzip, tar's parser, each entry) has its errors handled;
//    a truncated or corrupt archive (gzip's "unexpected end of file", a bad crc or block, a
//    truncated entry) becomes ARCHIVE_INVALID, never an unhandled 'error' event.
//  - A pass settles only after the entry being consumed has settled, so a caller cleaning up
//    after a failure never races a write still in progress.
// Caveats: gzip is decoded by node:zlib (it reports truncation; tar's own decoder does not), so
// the archive is decompressed twice; the pre-pass stops at the first refused entry.
import { createReadStream } from 'node:fs'
import fsp from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import { Readable } from 'node:stream'
import { Parser, type ReadEntry } from 'tar'
import { FileError } from '../files/errors.ts'
import { sizeLimit } from '../files/confined-fs.ts'
import type { ArchiveReader, RawEntry } from './reader.ts'

const invalid = (err: unknown): FileError =>
  err instanceof FileError ? err : new FileError('ARCHIVE_INVALID', (err as Error)?.message ?? String(err))

function describe(entry: ReadEntry): RawEntry {
  const t = entry.type
  const kind: RawEntry['kind'] =
    t === 'Directory' ? 'directory' : t === 'File' || t === 'OldFile' || t === 'ContiguousFile' ? 'file' : 'other'
  const detail = t === 'SymbolicLink' ? 'a symbolic link' : t === 'Link' ? 'a hard link' : kind === 'other' ? `a ${t} entry` : kind
  return { name: entry.path, kind, detail, size: entry.size }
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r')
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0)
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b
  } finally {
    await fh.close()
  }
}

/** One pass: `onEntry` gets each entry in order (the next waits for it); the entry's data must be consumed or resumed. */
async function parseTar(
  file: string,
  gzip: boolean,
  maxDecodedBytes: number,
  onEntry: (raw: RawEntry, entry: ReadEntry) => Promise<void> | void,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const src = createReadStream(file)
    const gunzip = gzip ? createGunzip() : null
    // The decoded stream is bounded too: a gzip bomb hiding gigabytes after the last entry (or
    // in blocks no header accounts for) ends the pass instead of keeping it busy.
    const decoded = sizeLimit(maxDecodedBytes, 'the decompressed archive')
    const parser = new Parser({ strict: true })
    let chain: Promise<void> = Promise.resolve()
    let current: ReadEntry | null = null
    let failed = false
    const fail = (err: unknown): void => {
      if (failed) return
      failed = true
      src.destroy()
      gunzip?.destroy()
      decoded.destroy()
      // The entry being written stops with the error (its reader, if any, sees it; the listener
      // keeps an unread entry from throwing it); the pass settles once that write has.
      if (current) {
        current.on('error', () => undefined)
        current.destroy(invalid(err) as unknown as undefined)
      }
      void chain.catch(() => undefined).finally(() => reject(invalid(err)))
    }
    parser.on('entry', (entry: ReadEntry) => {
      if (failed) {
        entry.resume()
        return
      }
      chain = chain.then(async () => {
        if (failed) {
          entry.resume()
          return
        }
        current = entry
        await onEntry(describe(entry), entry)
        current = null
      })
      chain.catch(fail)
    })
    parser.on('error', (err: Error) => fail(err))
    parser.on('abort', (err: Error) => fail(err))
    parser.on('end', () => {
      void chain.then(
        () => {
          if (!failed) resolve()
        },
        () => undefined,
      )
    })
    src.on('error', fail)
    decoded.on('error', (err: FileError) =>
      fail(err.code === 'FILE_TOO_LARGE' ? new FileError('ARCHIVE_TOO_LARGE', `${err.message.replace(/:.*$/, '')}`) : err),
    )
    if (gunzip) {
      gunzip.on('error', fail)
      src
        .pipe(gunzip)
        .pipe(decoded)
        .pipe(parser as unknown as NodeJS.WritableStream)
    } else {
      src.pipe(decoded).pipe(parser as unknown as NodeJS.WritableStream)
    }
  })
}

/** `maxDecodedBytes`: the most the decoded tar stream may hold (entries, headers, padding). */
export async function openTar(file: string, maxDecodedBytes: number): Promise<ArchiveReader> {
  const gzip = await isGzip(file).catch((err: unknown) => {
    throw invalid(err)
  })
  return {
    scan: async (admit) => {
      await parseTar(file, gzip, maxDecodedBytes, (raw, entry) => {
        admit(raw)
        entry.resume()
      })
    },
    extract: async (onEntry) => {
      await parseTar(file, gzip, maxDecodedBytes, async (raw, entry) => {
        const hasData = raw.kind === 'file' && raw.size > 0
        if (!hasData) entry.resume()
        await onEntry(raw, raw.kind !== 'file' ? null : async () => (hasData ? (entry as unknown as Readable) : Readable.from([])))
        // An entry the caller skipped is drained, or the parser would wait for it forever.
        entry.resume()
      })
    },
    close: async () => undefined,
  }
}
