// Extraction of uploaded archives (zip, tar.gz) into the game server's root, with the file API's
// confinement for every entry.
//
// Expected flow:
//  1. Entries are read one at a time (yauzl for zip, tar's Parser for tar/tar.gz).
//  2. Each entry name is checked like an API path (no "..", not absolute, no NUL, no backslash,
//     length limits); links, hard links and devices are refused; counts and sizes are bounded.
//  3. Entries are written into a hidden staging directory inside the target, through the
//     confined walk (no link is followed even if one appears during extraction).
//  4. Only when every entry was fine is the staging tree merged into the target (renames).
// Guarantees: a refused archive leaves nothing behind (the staging directory is removed); no
// entry is ever written outside the target directory.
// Caveats: the merge step is a sequence of renames, not one atomic switch: a type clash (a file
// where the target has a directory) stops it with FILE_EXISTS after earlier entries moved.
import { constants as C, createReadStream } from 'node:fs'
import fsp from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import yauzl from 'yauzl'
import { Parser, type ReadEntry } from 'tar'
import { at, splitPath, type ConfinedRoot } from '../files/confined-fs.ts'
import { FileError } from '../files/errors.ts'

export type ArchiveFormat = 'zip' | 'tar.gz'

export interface ExtractLimits {
  maxEntries: number
  maxTotalBytes: number
}

export interface ArchiveEntry {
  name: string
  kind: 'file' | 'directory' | 'other'
  /** What the archive says the entry is (for error messages). */
  detail: string
  size: number
  open(): Promise<Readable>
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
  try {
    return splitPath(name)
  } catch (err) {
    throw unsafe(name, `is not a safe relative path (${(err as FileError).code})`)
  }
}

// ─── readers ───────────────────────────────────────────────────────────────────────────────

async function walkZip(file: string, onEntry: (e: ArchiveEntry) => Promise<void>): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false }, (err, z) => {
      if (err || !z) reject(new FileError('ARCHIVE_INVALID', err?.message ?? 'unreadable zip'))
      else resolve(z)
    })
  })
  await new Promise<void>((resolve, reject) => {
    let failed = false
    const fail = (err: unknown): void => {
      if (failed) return
      failed = true
      zip.close()
      reject(err)
    }
    zip.on('error', (err: Error) => {
      // yauzl validates names itself; its refusals are unsafe entries, anything else a broken zip.
      if (/absolute path|invalid relative path|invalid characters in fileName/.test(err.message)) fail(unsafe(err.message.replace(/^.*: /, ''), `was refused: ${err.message}`))
      else fail(new FileError('ARCHIVE_INVALID', err.message))
    })
    zip.on('end', () => { if (!failed) resolve() })
    zip.on('entry', (entry: yauzl.Entry) => {
      const mode = (entry.externalFileAttributes >>> 16) & 0o170000
      const isDir = entry.fileName.endsWith('/') || mode === 0o040000
      const kind: ArchiveEntry['kind'] = isDir ? 'directory' : mode === 0 || mode === 0o100000 ? 'file' : 'other'
      const detail = mode === 0o120000 ? 'a symbolic link' : kind === 'other' ? `a special file (mode ${mode.toString(8)})` : kind
      onEntry({
        name: entry.fileName,
        kind,
        detail,
        size: entry.uncompressedSize,
        open: () => new Promise((res, rej) => zip.openReadStream(entry, (err, s) => (err || !s ? rej(new FileError('ARCHIVE_INVALID', err?.message ?? 'unreadable entry')) : res(s)))),
      }).then(() => { if (!failed) zip.readEntry() }, fail)
    })
    zip.readEntry()
  })
}

async function walkTar(file: string, onEntry: (e: ArchiveEntry) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const src = createReadStream(file)
    const parser = new Parser({ strict: true })
    let chain: Promise<void> = Promise.resolve()
    let failed = false
    const fail = (err: unknown): void => {
      if (failed) return
      failed = true
      src.destroy()
      reject(err)
    }
    parser.on('entry', (entry: ReadEntry) => {
      const t = entry.type
      const kind: ArchiveEntry['kind'] = t === 'Directory' ? 'directory' : t === 'File' || t === 'OldFile' || t === 'ContiguousFile' ? 'file' : 'other'
      const hasData = kind === 'file' && entry.size > 0
      if (!hasData) entry.resume()
      const detail = t === 'SymbolicLink' ? 'a symbolic link' : t === 'Link' ? 'a hard link' : kind === 'other' ? `a ${t} entry` : kind
      chain = chain.then(() => {
        if (failed) return
        return onEntry({ name: entry.path, kind, detail, size: entry.size, open: async () => (hasData ? entry as unknown as Readable : Readable.from([])) })
      }).catch(fail)
    })
    parser.on('error', (err: Error) => fail(new FileError('ARCHIVE_INVALID', err.message)))
    parser.on('end', () => { void chain.then(() => { if (!failed) resolve() }) })
    src.on('error', (err) => fail(new FileError('ARCHIVE_INVALID', err.message)))
    src.pipe(parser as unknown as NodeJS.WritableStream)
  })
}

// ─── extraction ────────────────────────────────────────────────────────────────────────────

/**
 * Extracts `archiveFile` (a path outside the root, e.g. the upload's temp file) into the
 * root-relative directory `targetDir`.
 */
export async function extractArchive(root: ConfinedRoot, archiveFile: string, format: ArchiveFormat, targetDir: string, limits: ExtractLimits): Promise<{ files: number; directories: number }> {
  const targetParts = splitPath(targetDir)
  const staging = `.zlh-tmp-extract-${randomBytes(6).toString('hex')}`
  const stagingParts = [...targetParts, staging]
  await root.mkdir(stagingParts.join('/'))
  let files = 0
  let directories = 0
  let entries = 0
  let total = 0
  const onEntry = async (e: ArchiveEntry): Promise<void> => {
    const parts = entryParts(e.name)
    if (++entries > limits.maxEntries) throw new FileError('ARCHIVE_TOO_LARGE', `more than ${limits.maxEntries} entries`)
    if (e.kind === 'other') throw unsafe(e.name, `is ${e.detail}`)
    if (parts.length === 0) return
    const rel = [...stagingParts, ...parts].join('/')
    if (e.kind === 'directory') {
      await root.mkdir(rel)
      directories++
      return
    }
    const budget = limits.maxTotalBytes - total
    if (e.size > budget) throw new FileError('ARCHIVE_TOO_LARGE', `expands to more than ${limits.maxTotalBytes} bytes`)
    try {
      total += await root.writeFile(rel, await e.open(), budget)
    } catch (err) {
      if (err instanceof FileError && err.code === 'FILE_TOO_LARGE') throw new FileError('ARCHIVE_TOO_LARGE', `expands to more than ${limits.maxTotalBytes} bytes`)
      if (err instanceof FileError && (err.code === 'FILE_NOT_A_DIRECTORY' || err.code === 'FILE_IS_DIRECTORY')) throw unsafe(e.name, 'clashes with an earlier entry (a file where a directory is, or the reverse)')
      throw err
    }
    files++
  }
  try {
    if (format === 'zip') await walkZip(archiveFile, onEntry)
    else await walkTar(archiveFile, onEntry)
    const src = await root.openDir(stagingParts)
    const dst = await root.openDir(targetParts)
    try { await mergeInto(src.fd, dst.fd, targetParts.join('/')) } finally { await src.close(); await dst.close() }
    return { files, directories }
  } finally {
    await root.remove(stagingParts.join('/'), true).catch(() => undefined)
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
      try { d = await fsp.open(at(dstFd, name), DIR_FLAGS) } catch { await s.close(); throw new FileError('FILE_PATH_SYMLINK', `${shown}/${name}`) }
      try { await mergeInto(s.fd, d.fd, `${shown}/${name}`) } finally { await s.close(); await d.close() }
    } else {
      throw new FileError('FILE_EXISTS', `${shown ? `${shown}/` : ''}${name} is a ${dst.isDirectory() ? 'directory' : 'file'} in the target but a ${src.isDirectory() ? 'directory' : 'file'} in the archive`)
    }
  }
}
