// Durable atomic file replacement: the one way this product writes a file that must survive a
// crash or a power loss whole (tokens, pid and owner markers, supervisor state, manifests).
//
// Expected flow (both variants):
//   1. create a fresh temp file `.<name>.tmp-<random>` in the target's directory (exclusively, so a
//      planted file or link at that name is never followed), with `mode`;
//   2. chmod it to exactly `mode` (the umask may have narrowed the bits), write the data, fsync it;
//   3. rename(2) it over the target; 4. fsync the directory, so the rename itself is on disk.
// Guarantees: a reader, or the machine after a crash at any point, sees the old content or the
//   whole new one, never a part or a mix; once the call returns, the new content is durable; the
//   file never exists with wider permissions than `mode`, from its first byte; on failure the temp
//   file is removed and the target is untouched.
// Assumptions: the directory exists and is on one filesystem with the target (same dir, so it is).
// Caveats: a crash between steps 1 and 3 may leave a `.<name>.tmp-*` file behind (never the
//   target); concurrent writers of one file each win whole, last rename wins.
// `createFileDurable` is the create-only variant: step 3 is link(2) instead of rename(2), so it
// fails with EEXIST when the target exists, and of concurrent creators exactly one wins.

import { closeSync, fsyncSync, fchmodSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { link, open, rename, rm } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'

/** Permission bits of a file nobody but its owner may read: the default. */
export const PRIVATE_FILE_MODE = 0o600

function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.tmp-${randomBytes(6).toString('hex')}`)
}

/** fsyncs a directory, making renames and creations inside it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** `fsyncDir` for synchronous callers. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

async function writeDurableTemp(tmp: string, data: string | Uint8Array, mode: number): Promise<void> {
  const handle = await open(tmp, 'wx', mode)
  try {
    await handle.chmod(mode)
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Replaces `file` with `data`, durably and atomically (see the module header), with `mode` (default 0600). */
export async function writeFileDurable(file: string, data: string | Uint8Array, mode = PRIVATE_FILE_MODE): Promise<void> {
  const tmp = tempPathFor(file)
  try {
    await writeDurableTemp(tmp, data, mode)
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  await fsyncDir(dirname(file))
}

/**
 * Creates `file` with `data` only if it does not exist yet, durably and whole: rejects with an
 * EEXIST error (code 'EEXIST') when it does, leaving it untouched.
 */
export async function createFileDurable(file: string, data: string | Uint8Array, mode = PRIVATE_FILE_MODE): Promise<void> {
  const tmp = tempPathFor(file)
  try {
    await writeDurableTemp(tmp, data, mode)
    await link(tmp, file)
  } finally {
    await rm(tmp, { force: true })
  }
  await fsyncDir(dirname(file))
}

/** `writeFileDurable` for synchronous callers (a process writing its exit record as it dies). */
export function writeFileDurableSync(file: string, data: string | Uint8Array, mode = PRIVATE_FILE_MODE): void {
  const tmp = tempPathFor(file)
  try {
    const fd = openSync(tmp, 'wx', mode)
    try {
      fchmodSync(fd, mode)
      writeFileSync(fd, data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  fsyncDirSync(dirname(file))
}
