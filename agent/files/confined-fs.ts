// File access confined to one directory (the game server's root), safe against hostile paths.
//
// How: a path is split and checked lexically (no NUL, not absolute, no "..", component ≤ 255
// bytes, whole ≤ 4096 bytes); then it is walked from an fd of the root one component at a time,
// each opened with O_NOFOLLOW relative to the previous directory's fd (through
// /proc/self/fd/<fd>/<name>, which resolves relative to the open directory like openat(2)).
// Guarantees: no symbolic link is ever followed, wherever it sits in the path, and swapping a
// directory for a link between two requests (or during one) cannot redirect a read or write
// outside the root: every step is anchored on an already-open directory, so there is no window
// between check and use. Writes go to a temp file in the target directory and are renamed into
// place, so a reader never sees a half-written file. Device files, FIFOs and sockets are refused.
// Assumptions: Linux with /proc mounted; the root itself is trusted configuration.
// Caveats: a hard link inside the root to a file elsewhere is served (it is a regular file of the
// root's filesystem; creating one needs write access to the root already).
import { constants as C, type Dirent } from 'node:fs'
import fsp, { type FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { DirectoryListing, FileEntry } from '../../src/api/agent-game-types.ts'
import { FileError } from './errors.ts'

const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW
const MAX_PATH_BYTES = 4096
const MAX_NAME_BYTES = 255
/** Names the agent keeps for itself inside the root (write temp files, archive staging): hidden
 * from listings, refused by the file API (publicPath), swept at start-up. */
export const TEMP_PREFIX = '.zlh-tmp-'

/** `/proc/self/fd/<dirFd>/<name>`: `name` looked up inside the open directory, like openat(2). */
export function at(dirFd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${dirFd}` : `/proc/self/fd/${dirFd}/${name}`
}

/** Splits and checks a root-relative path; throws a FileError naming what is wrong. */
export function splitPath(input: string): string[] {
  if (typeof input !== 'string') throw new FileError('FILE_PATH_INVALID', 'the path must be a string')
  if (input.includes('\0')) throw new FileError('FILE_PATH_NUL_BYTE', JSON.stringify(input.replaceAll('\0', '\\0')))
  if (Buffer.byteLength(input) > MAX_PATH_BYTES) throw new FileError('FILE_PATH_TOO_LONG', `${Buffer.byteLength(input)} bytes`)
  if (input.startsWith('/')) throw new FileError('FILE_PATH_ABSOLUTE', JSON.stringify(input))
  const parts = input.split('/').filter((p) => p !== '' && p !== '.')
  for (const p of parts) {
    if (p === '..') throw new FileError('FILE_PATH_TRAVERSAL', JSON.stringify(input))
    if (Buffer.byteLength(p) > MAX_NAME_BYTES)
      throw new FileError('FILE_NAME_TOO_LONG', `"${p.slice(0, 40)}…" is ${Buffer.byteLength(p)} bytes`)
  }
  return parts
}

/** splitPath for a path a client sent: also refuses the agent's own temp names (TEMP_PREFIX). */
export function publicPath(input: string): string[] {
  const parts = splitPath(input)
  const reserved = parts.find((p) => p.startsWith(TEMP_PREFIX))
  if (reserved !== undefined) throw new FileError('FILE_PATH_RESERVED', JSON.stringify(reserved.slice(0, 60)))
  return parts
}

/** Translates an errno from a step of the walk into the catalog; `dirFd`/`name` name the step. */
async function mapError(err: unknown, dirFd: number, name: string, shown: string): Promise<Error> {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ELOOP') return new FileError('FILE_PATH_SYMLINK', shown)
  if (code === 'ENOTDIR') {
    // O_DIRECTORY|O_NOFOLLOW on a link reports ENOTDIR: tell the two apart.
    try {
      if ((await fsp.lstat(at(dirFd, name))).isSymbolicLink()) return new FileError('FILE_PATH_SYMLINK', shown)
    } catch {
      /* fall through */
    }
    return new FileError('FILE_NOT_A_DIRECTORY', shown)
  }
  if (code === 'ENOENT') return new FileError('FILE_NOT_FOUND', shown)
  if (code === 'EISDIR') return new FileError('FILE_IS_DIRECTORY', shown)
  if (code === 'EEXIST') return new FileError('FILE_EXISTS', shown)
  if (code === 'ENOTEMPTY') return new FileError('FILE_DIRECTORY_NOT_EMPTY', shown)
  if (code === 'ENAMETOOLONG') return new FileError('FILE_NAME_TOO_LONG', shown)
  if (code === 'ENXIO' || code === 'ENODEV') return new FileError('FILE_NOT_REGULAR', shown)
  if (code === 'EINVAL') return new FileError('FILE_PATH_INVALID', `${shown} (e.g. a directory cannot move into itself)`)
  return err as Error
}

function entryType(d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): FileEntry['type'] {
  return d.isFile() ? 'file' : d.isDirectory() ? 'directory' : d.isSymbolicLink() ? 'symlink' : 'other'
}

export type OpenResult = { kind: 'directory'; listing: DirectoryListing } | { kind: 'file'; handle: FileHandle; size: number }

/** A byte counter that fails the stream with FILE_TOO_LARGE past `max`. */
export function sizeLimit(max: number, what = 'the body'): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      t.bytes += chunk.length
      if (t.bytes > max) cb(new FileError('FILE_TOO_LARGE', `${what} exceeds ${max} bytes`))
      else cb(null, chunk)
    },
  }) as Transform & { bytes: number }
  t.bytes = 0
  return t
}

export class ConfinedRoot {
  readonly root: string

  constructor(root: string) {
    this.root = root
  }

  private async openRoot(): Promise<FileHandle> {
    await fsp.mkdir(this.root, { recursive: true })
    return await fsp.open(this.root, C.O_RDONLY | C.O_DIRECTORY)
  }

  /**
   * Opens the directory `parts` names, walking from the root without following links.
   * With `create`, missing directories are made on the way. The caller closes the handle.
   */
  async openDir(parts: readonly string[], create = false): Promise<FileHandle> {
    let dir = await this.openRoot()
    try {
      for (let i = 0; i < parts.length; i++) {
        const name = parts[i]!
        const shown = parts.slice(0, i + 1).join('/')
        let next: FileHandle
        try {
          next = await fsp.open(at(dir.fd, name), DIR_FLAGS)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw await mapError(err, dir.fd, name, shown)
          try {
            await fsp.mkdir(at(dir.fd, name), { mode: 0o755 })
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw await mapError(e, dir.fd, name, shown)
          }
          try {
            next = await fsp.open(at(dir.fd, name), DIR_FLAGS)
          } catch (e) {
            throw await mapError(e, dir.fd, name, shown)
          }
        }
        await dir.close()
        dir = next
      }
      return dir
    } catch (err) {
      await dir.close().catch(() => undefined)
      throw err
    }
  }

  /** Runs `fn` with the parent directory of `path` open; `name` is the last component. */
  async inParent<T>(path: string, create: boolean, fn: (dirFd: number, name: string, parts: string[]) => Promise<T>): Promise<T> {
    const parts = splitPath(path)
    const name = parts.at(-1)
    if (name === undefined) throw new FileError('FILE_ROOT_PROTECTED', 'the path names the server root')
    const dir = await this.openDir(parts.slice(0, -1), create)
    try {
      return await fn(dir.fd, name, parts)
    } finally {
      await dir.close().catch(() => undefined)
    }
  }

  /** Lists the entries of an open directory (links are reported as links, never followed). */
  async listFd(dirFd: number, shownPath: string): Promise<DirectoryListing> {
    const dirents: Dirent[] = await fsp.readdir(at(dirFd), { withFileTypes: true })
    const entries: FileEntry[] = []
    for (const d of dirents) {
      if (d.name.startsWith(TEMP_PREFIX)) continue
      try {
        const st = await fsp.lstat(at(dirFd, d.name))
        entries.push({ name: d.name, type: entryType(st), size: st.size, mode: st.mode & 0o7777, modifiedAt: st.mtime.toISOString() })
      } catch {
        /* removed meanwhile */
      }
    }
    entries.sort((a, b) => a.name.localeCompare(b.name))
    return { path: shownPath, entries }
  }

  /** GET: a directory's listing, or an open regular file (the caller streams and closes it). */
  async open(path: string): Promise<OpenResult> {
    const parts = splitPath(path)
    const shown = parts.join('/')
    if (parts.length === 0) {
      const root = await this.openRoot()
      try {
        return { kind: 'directory', listing: await this.listFd(root.fd, '') }
      } finally {
        await root.close()
      }
    }
    return await this.inParent(path, false, async (dirFd, name) => {
      let fh: FileHandle
      // O_NONBLOCK: opening a FIFO must not hang the request; non-regular files are refused below.
      try {
        fh = await fsp.open(at(dirFd, name), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
      } catch (err) {
        throw await mapError(err, dirFd, name, shown)
      }
      const st = await fh.stat()
      if (st.isDirectory()) {
        try {
          return { kind: 'directory', listing: await this.listFd(fh.fd, shown) }
        } finally {
          await fh.close()
        }
      }
      if (!st.isFile()) {
        await fh.close()
        throw new FileError('FILE_NOT_REGULAR', shown)
      }
      return { kind: 'file', handle: fh, size: st.size }
    })
  }

  /**
   * Writes `body` to `path` through a temp file renamed into place; missing parent directories
   * are created. Fails with FILE_TOO_LARGE past `maxBytes` (nothing is left behind).
   * `body` may be a function opening the stream: it is called only once the temp file is open,
   * right before the copy, so a stream that can fail on its own (an archive entry) is never left
   * without an error listener while the directories are walked.
   */
  async writeFile(path: string, body: Readable | (() => Promise<Readable>), maxBytes: number): Promise<number> {
    const shown = splitPath(path).join('/')
    return await this.inParent(path, true, async (dirFd, name) => {
      const tmp = `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`
      let fh: FileHandle
      try {
        fh = await fsp.open(at(dirFd, tmp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644)
      } catch (err) {
        throw await mapError(err, dirFd, tmp, shown)
      }
      const limit = sizeLimit(maxBytes)
      try {
        // flush: fsync before the stream closes the handle, so the rename publishes durable bytes.
        const source = typeof body === 'function' ? await body() : body
        await pipeline(source, limit, fh.createWriteStream({ flush: true }))
        const existing = await fsp.lstat(at(dirFd, name)).catch(() => null)
        if (existing?.isDirectory()) throw new FileError('FILE_IS_DIRECTORY', shown)
        if (existing?.isSymbolicLink()) throw new FileError('FILE_PATH_SYMLINK', `${shown} is a link; delete it first to put a file there`)
        // rename(2) replaces a link at `name` itself, never what it points to.
        await fsp.rename(at(dirFd, tmp), at(dirFd, name))
        return limit.bytes
      } catch (err) {
        await fh.close().catch(() => undefined)
        await fsp.unlink(at(dirFd, tmp)).catch(() => undefined)
        throw err instanceof FileError ? err : await mapError(err, dirFd, name, shown)
      }
    })
  }

  /** mkdir -p; an existing directory is fine, an existing file is FILE_EXISTS. */
  async mkdir(path: string): Promise<void> {
    const parts = splitPath(path)
    if (parts.length === 0) return
    const dir = await this.openDir(parts, true)
    await dir.close()
  }

  /** Renames `from` to `to` (both root-relative); the target must not exist. */
  async rename(from: string, to: string): Promise<void> {
    const fromShown = splitPath(from).join('/')
    const toShown = splitPath(to).join('/')
    await this.inParent(from, false, async (srcFd, srcName) => {
      await fsp.lstat(at(srcFd, srcName)).catch(async (err: unknown) => {
        throw await mapError(err, srcFd, srcName, fromShown)
      })
      await this.inParent(to, true, async (dstFd, dstName) => {
        if (
          await fsp.lstat(at(dstFd, dstName)).then(
            () => true,
            () => false,
          )
        )
          throw new FileError('FILE_EXISTS', toShown)
        try {
          await fsp.rename(at(srcFd, srcName), at(dstFd, dstName))
        } catch (err) {
          throw await mapError(err, dstFd, dstName, `${fromShown} → ${toShown}`)
        }
      })
    })
  }

  /** Deletes a file, link (the link itself) or directory (non-empty only with `recursive`). */
  async remove(path: string, recursive: boolean): Promise<void> {
    const shown = splitPath(path).join('/')
    await this.inParent(path, false, async (dirFd, name) => {
      let st
      try {
        st = await fsp.lstat(at(dirFd, name))
      } catch (err) {
        throw await mapError(err, dirFd, name, shown)
      }
      try {
        if (!st.isDirectory()) await fsp.unlink(at(dirFd, name))
        else if (recursive) await removeTree(dirFd, name)
        else await fsp.rmdir(at(dirFd, name))
      } catch (err) {
        throw err instanceof FileError ? err : await mapError(err, dirFd, name, shown)
      }
    })
  }
}

/** rm -r of `name` inside an open directory, each level anchored on an fd (links are unlinked, never followed). */
export async function removeTree(parentFd: number, name: string): Promise<void> {
  let fh: FileHandle
  try {
    fh = await fsp.open(at(parentFd, name), DIR_FLAGS)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR' || code === 'ELOOP') {
      await fsp.unlink(at(parentFd, name))
      return
    }
    if (code === 'ENOENT') return
    throw err
  }
  try {
    for (const d of await fsp.readdir(at(fh.fd), { withFileTypes: true })) {
      if (d.isDirectory()) await removeTree(fh.fd, d.name)
      else
        await fsp.unlink(at(fh.fd, d.name)).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e
        })
    }
  } finally {
    await fh.close()
  }
  await fsp.rmdir(at(parentFd, name))
}
