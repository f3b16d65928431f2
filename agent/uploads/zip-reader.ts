// Reading an uploaded zip in two passes: the central directory first (every entry's name, kind
// and declared size, nothing written), then each entry's data.
//
// Guarantees:
//  - The entry count is known from the end-of-central-directory record before any entry is
//    read; scan() reads the whole central directory before extract() opens any entry's data.
//  - Every stream yauzl hands out has an error listener from the moment it exists, and every
//    failure (bad directory, bad local header, too many or too few bytes, corrupt deflate,
//    truncated data, crc32 mismatch) becomes ARCHIVE_INVALID or ARCHIVE_UNSAFE_ENTRY: nothing a
//    zip contains can raise an unhandled 'error' event.
//  - An entry's data is checked against its header: its size (yauzl validateEntrySizes) and its
//    crc32 (checked here; yauzl does not), so stored data that disagrees with its header fails.
import { PassThrough, Transform, type Readable } from 'node:stream'
import { crc32 } from 'node:zlib'
import yauzl from 'yauzl'
import { FileError } from '../files/errors.ts'
import type { ArchiveReader, RawEntry } from './reader.ts'

const invalid = (err: unknown, entry?: string): FileError =>
  err instanceof FileError
    ? err
    : new FileError(
        'ARCHIVE_INVALID',
        `${entry ? `entry ${JSON.stringify(entry.slice(0, 200))}: ` : ''}${(err as Error)?.message ?? String(err)}`,
      )

function describe(entry: yauzl.Entry): RawEntry {
  const mode = (entry.externalFileAttributes >>> 16) & 0o170000
  const isDir = entry.fileName.endsWith('/') || mode === 0o040000
  const kind: RawEntry['kind'] = isDir ? 'directory' : mode === 0 || mode === 0o100000 ? 'file' : 'other'
  const detail = mode === 0o120000 ? 'a symbolic link' : kind === 'other' ? `a special file (mode ${mode.toString(8)})` : kind
  return { name: entry.fileName, kind, detail, size: entry.uncompressedSize }
}

/** Fails the stream at its end when the bytes' crc32 is not the header's. */
function crcCheck(expected: number, name: string): Transform {
  let crc = 0
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      crc = crc32(chunk, crc)
      cb(null, chunk)
    },
    flush(cb) {
      cb(
        crc === expected >>> 0
          ? null
          : new FileError(
              'ARCHIVE_INVALID',
              `entry ${JSON.stringify(name.slice(0, 200))}: its data does not match the crc32 in its header`,
            ),
      )
    },
  })
}

export async function openZip(file: string): Promise<ArchiveReader> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true, strictFileNames: false },
      (err, z) => {
        if (err || !z) reject(invalid(err ?? new Error('unreadable zip')))
        else resolve(z)
      },
    )
  })
  // Errors after a pass ended (or while none runs) have nowhere to go but here; each pass
  // installs its own listener for the errors it waits on.
  zip.on('error', () => undefined)
  const entries: yauzl.Entry[] = []

  const scan: ArchiveReader['scan'] = async (admit, announceCount) => {
    announceCount?.(zip.entryCount)
    await new Promise<void>((resolve, reject) => {
      let failed = false
      const fail = (err: unknown): void => {
        if (failed) return
        failed = true
        cleanup()
        reject(err)
      }
      const onError = (err: Error): void => {
        // yauzl validates names itself; its refusals are unsafe entries, anything else a broken zip.
        if (/absolute path|invalid relative path|invalid characters in fileName/.test(err.message))
          fail(new FileError('ARCHIVE_UNSAFE_ENTRY', `an entry was refused: ${err.message}`))
        else fail(invalid(err))
      }
      const onEntry = (entry: yauzl.Entry): void => {
        if (failed) return
        try {
          admit(describe(entry))
        } catch (err) {
          fail(err)
          return
        }
        entries.push(entry)
        zip.readEntry()
      }
      const onEnd = (): void => {
        if (!failed) {
          cleanup()
          resolve()
        }
      }
      const cleanup = (): void => {
        zip.off('error', onError)
        zip.off('entry', onEntry)
        zip.off('end', onEnd)
      }
      zip.on('error', onError)
      zip.on('entry', onEntry)
      zip.on('end', onEnd)
      zip.readEntry()
    })
  }

  const openEntry = (entry: yauzl.Entry): Promise<Readable> =>
    new Promise((resolve, reject) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return reject(invalid(err ?? new Error('unreadable entry'), entry.fileName))
        // A PassThrough that carries the first error of the chain, and listeners on every stream
        // from now on: whoever consumes `out` sees the failure, and nothing is left unhandled.
        const out = new PassThrough()
        const check = crcCheck(entry.crc32, entry.fileName)
        const failOut = (e: unknown): void => {
          if (!out.destroyed) out.destroy(invalid(e, entry.fileName))
        }
        stream.on('error', (e: Error) => {
          failOut(e)
          check.destroy()
        })
        check.on('error', failOut)
        out.on('error', () => {
          stream.destroy()
          check.destroy()
        })
        stream.pipe(check).pipe(out)
        resolve(out)
      })
    })

  const extract: ArchiveReader['extract'] = async (onEntry) => {
    for (const entry of entries) {
      const raw = describe(entry)
      await onEntry(raw, raw.kind === 'file' ? () => openEntry(entry) : null)
    }
  }

  return {
    scan,
    extract,
    close: async () => {
      zip.close()
    },
  }
}
