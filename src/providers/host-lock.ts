// A lock file shared by every process on this host (two controllers, or two provider objects in
// one process), for the backends whose state is local (lxc, process).
//
// Expected flow: write {pid, start time} into a temporary file beside `<path>`, then hard-link it to
// `<path>` (which fails with EEXIST while someone holds it), so the lock file never exists without
// its holder in it, even if the process is killed in between; on EEXIST, if the holder process is
// gone (pid dead or recycled) remove the stale file and retry, else wait with backoff. A lock file
// that cannot be read as a holder (left by an older version, or damaged) is stale once it is older
// than UNREADABLE_STALE_MS.
// Guarantees: at most one live holder at a time; a holder that crashed does not block forever.
// Caveats: a holder stuck alive holds the lock; waiters give up after `timeoutMs` with a
// retryable Locked error. Two waiters clearing the same stale file at once can, in a narrow
// window, let two holders in; stale files only exist after a crash. A process killed between
// writing its temporary file and removing it leaves that file (`<path>.<pid>.<random>`) behind.

import { randomBytes } from 'node:crypto'
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { processStartTime } from '../platform/process-identity.ts'
import { ProviderError } from './errors.ts'

interface Holder {
  pid: number
  start: string
}

const self: Holder = { pid: process.pid, start: processStartTime(process.pid) ?? '' }

/** A lock file that holds no readable holder this long after it was written is stale (writing takes microseconds). */
const UNREADABLE_STALE_MS = 10_000

export async function withHostLock<T>(path: string, section: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let delay = 10
  const ours = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
  await writeFile(ours, JSON.stringify(self), { mode: 0o600, flag: 'wx' })
  try {
    for (;;) {
      try {
        await link(ours, path)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = await readFile(path, 'utf8')
        .then((s) => JSON.parse(s) as Holder)
        .catch(() => undefined)
      const stale =
        holder !== undefined
          ? processStartTime(holder.pid) !== holder.start // its holder died, or the pid was recycled
          : await stat(path).then(
              (st) => Date.now() - st.mtimeMs > UNREADABLE_STALE_MS,
              () => true, // gone meanwhile: try again at once
            )
      if (stale) {
        await unlink(path).catch(() => undefined)
        continue
      }
      if (Date.now() > deadline)
        throw new ProviderError('Locked', `${path} is held by process ${holder?.pid ?? '?'} for more than ${timeoutMs} ms; will retry`, {})
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 200)
    }
  } finally {
    await unlink(ours).catch(() => undefined)
  }
  try {
    return await section()
  } finally {
    await unlink(path).catch(() => undefined)
  }
}
