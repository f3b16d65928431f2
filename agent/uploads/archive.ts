// Extraction of uploaded archives (zip, tar.gz) into the game server's root, with the file API's
// confinement for every entry.
//
// Expected flow:
//  1. Scan (nothing written): every entry's header is read — zip's central directory, a tar's
//     headers over the decoded stream (zip-reader.ts, tar-reader.ts). The entry count (zip: from
//     the end record, before any entry), each name (like an API path: no "..", not absolute, no
//     NUL, no backslash, not the agent's reserved prefix, length limits), each kind (links, hard
//     links and devices are refused) and the sum of the declared sizes are checked here, so an
//     archive over a limit or with one bad entry is refused before the first byte is written.
//  2. Extract into a fresh staging directory (staging.ts) through the confined walk (no link is
//     followed even if one appears during extraction), with a streamed byte budget too: declared
//     sizes can lie, the bytes are counted as they arrive.
//  3. Only when every entry was fine is the staging tree merged into the target (renames).
// Guarantees: a refused or broken archive answers ARCHIVE_INVALID / ARCHIVE_TOO_LARGE /
// ARCHIVE_UNSAFE_ENTRY and leaves nothing behind (the staging directory is removed on every
// path; one a crash left is swept at the next start); no entry is ever written outside the
// target directory; no stream of the archive can raise an unhandled error.
// Why this is not the runtime extractor (agent/runtimes/extract.ts): that one streams a tarball
// pinned by its catalog sha256 into a fresh private directory and must keep links inside it;
// this one takes people's zip or tar.gz into a live game root, so it refuses every link and
// device, budgets entries and bytes and merges into an existing tree. Two policies, two modules.
// Caveats: the merge step is a sequence of renames, not one atomic switch: a type clash (a file
// where the target has a directory) stops it with FILE_EXISTS after earlier entries moved.
import fsp from 'node:fs/promises'
import { constants as C } from 'node:fs'
import { at, splitPath, TEMP_PREFIX, type ConfinedRoot } from '../files/confined-fs.ts'
import { FileError } from '../files/errors.ts'
import type { ArchiveReader, RawEntry } from './reader.ts'
import { createStaging, removeStaging } from './staging.ts'

export type ArchiveFormat = 'zip' | 'tar.gz'

export interface ExtractLimits {
  maxEntries: number
  maxTotalBytes: number
}

const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW

/** The archive format from an explicit ?format= or the file name; ARCHIVE_UNSUPPORTED otherwise. */
export function archiveFormat(fileName: string, explicit?: string): ArchiveFormat {
  const f = (explicit ?? '').toLowerCase()
  if (f === 'zip' || (!f && /\.zip$/i.test(fileName))) return 'zip'
  if (f === 'tar.gz' || f === 'tgz' || f === 'tar' || (!f && /\.(tar\.gz|tgz|tar)$/i.test(fileName))) return 'tar.gz'
  throw new FileError('ARCHIVE_UNSUPPORTED', `cannot tell the format of "${fileName}"${f ? ` (format=${f})` : ''}`)
}

function unsafe(name: string, why: string): FileError {
  return new FileError('ARCHIVE_UNSAFE_ENTRY', `entry ${JSON.stringify(name.slice(0, 200))} ${why}`)
}

/** The entry's path inside the target, or a FileError saying why it is refused. */
export function entryParts(name: string): string[] {
  if (name.includes('\\')) throw unsafe(name, 'contains a backslash (a Windows path separator)')
  let parts: string[]
  try {
    parts = splitPath(name)
  } catch (err) {
    throw unsafe(name, `is not a safe relative path (${(err as FileError).code})`)
  }
  if (parts.some((p) => p.startsWith(TEMP_PREFIX))) throw unsafe(name, `uses the agent's reserved prefix "${TEMP_PREFIX}"`)
  return parts
}

// ─── extraction ────────────────────────────────────────────────────────────────────────────

const tooLarge = (limits: ExtractLimits, what: 'entries' | 'bytes'): FileError =>
  new FileError(
    'ARCHIVE_TOO_LARGE',
    what === 'entries' ? `more than ${limits.maxEntries} entries` : `expands to more than ${limits.maxTotalBytes} bytes`,
  )

/** Pass 1's checks: a function refusing, by throwing, an entry or the archive as a whole. */
function admission(limits: ExtractLimits): { admit(e: RawEntry): void; announceCount(n: number): void } {
  let entries = 0
  let declared = 0
  return {
    announceCount(n) {
      if (n > limits.maxEntries) throw tooLarge(limits, 'entries')
    },
    admit(e) {
      if (++entries > limits.maxEntries) throw tooLarge(limits, 'entries')
      entryParts(e.name)
      if (e.kind === 'other') throw unsafe(e.name, `is ${e.detail}`)
      declared += e.kind === 'file' ? e.size : 0
      if (declared > limits.maxTotalBytes) throw tooLarge(limits, 'bytes')
    },
  }
}

/**
 * Extracts `archiveFile` (a path outside the root, e.g. the upload's temp file) into the
 * root-relative directory `targetDir`.
 */
export async function extractArchive(
  root: ConfinedRoot,
  archiveFile: string,
  format: ArchiveFormat,
  targetDir: string,
  limits: ExtractLimits,
): Promise<{ files: number; directories: number }> {
  const targetParts = splitPath(targetDir)
  // A tar holds its entries' data plus a 512-byte header (and up to 511 bytes of padding) each,
  // long names as extra headers, and the end blocks: anything decoded beyond this is not data.
  const tarBound = limits.maxTotalBytes + (limits.maxEntries + 2) * 16 * 1024 + 1024 * 1024
  // The readers (yauzl, tar) are loaded by the first extraction, not when the agent starts.
  const reader: ArchiveReader =
    format === 'zip'
      ? await (await import('./zip-reader.ts')).openZip(archiveFile)
      : await (await import('./tar-reader.ts')).openTar(archiveFile, tarBound)
  let stagingParts: string[] | null = null
  try {
    const check = admission(limits)
    await reader.scan(check.admit, check.announceCount)
    // The target must be a real directory (not a link) before anything is staged.
    await (await root.openDir(targetParts, true)).close()
    stagingParts = await createStaging(root)
    const staged = stagingParts
    let files = 0
    let directories = 0
    let total = 0
    await reader.extract(async (e, open) => {
      const parts = entryParts(e.name)
      if (e.kind === 'other') throw unsafe(e.name, `is ${e.detail}`)
      if (parts.length === 0) return
      const rel = [...staged, ...parts].join('/')
      if (e.kind === 'directory' || !open) {
        await root.mkdir(rel)
        directories++
        return
      }
      const budget = limits.maxTotalBytes - total
      if (e.size > budget) throw tooLarge(limits, 'bytes')
      try {
        total += await root.writeFile(rel, open, budget)
      } catch (err) {
        if (err instanceof FileError && err.code === 'FILE_TOO_LARGE') throw tooLarge(limits, 'bytes')
        if (err instanceof FileError && (err.code === 'FILE_NOT_A_DIRECTORY' || err.code === 'FILE_IS_DIRECTORY'))
          throw unsafe(e.name, 'clashes with an earlier entry (a file where a directory is, or the reverse)')
        if (err instanceof FileError) throw err
        throw new FileError('ARCHIVE_INVALID', `entry ${JSON.stringify(e.name.slice(0, 200))}: ${(err as Error).message}`)
      }
      files++
    })
    const src = await root.openDir(staged)
    const dst = await root.openDir(targetParts)
    try {
      await mergeInto(src.fd, dst.fd, targetParts.join('/'))
    } finally {
      await src.close()
      await dst.close()
    }
    return { files, directories }
  } finally {
    await reader.close().catch(() => undefined)
    if (stagingParts) await removeStaging(root, stagingParts).catch(() => undefined)
  }
}

/** Moves every entry of directory `srcFd` into `dstFd`: new names are renamed in, directories merge, files replace files. */
async function mergeInto(srcFd: number, dstFd: number, shown: string): Promise<void> {
  for (const name of await fsp.readdir(at(srcFd))) {
    const src = await fsp.lstat(at(srcFd, name))
    const dst = await fsp.lstat(at(dstFd, name)).catch(() => null)
    if (!dst || (!src.isDirectory() && !dst.isDirectory())) {
      await fsp.rename(at(srcFd, name), at(dstFd, name))
    } else if (src.isDirectory() && dst.isDirectory()) {
      const s = await fsp.open(at(srcFd, name), DIR_FLAGS)
      let d
      try {
        d = await fsp.open(at(dstFd, name), DIR_FLAGS)
      } catch {
        await s.close()
        throw new FileError('FILE_PATH_SYMLINK', `${shown}/${name}`)
      }
      try {
        await mergeInto(s.fd, d.fd, `${shown}/${name}`)
      } finally {
        await s.close()
        await d.close()
      }
    } else {
      throw new FileError(
        'FILE_EXISTS',
        `${shown ? `${shown}/` : ''}${name} is a ${dst.isDirectory() ? 'directory' : 'file'} in the target but a ${src.isDirectory() ? 'directory' : 'file'} in the archive`,
      )
    }
  }
}
