// A lock file shared by every process on this host (two controllers, or two provider objects in
// one process), for the backends whose state is local (lxc, process).
//
// Expected flow: create `<path>` exclusively with {pid, start time}; on EEXIST, if the holder
// process is gone (pid dead or recycled) remove the stale file and retry, else wait with backoff.
// Guarantees: at most one live holder at a time; a holder that crashed does not block forever.
// Caveats: a holder stuck alive holds the lock; waiters give up after `timeoutMs` with a
// retryable Locked error. Two waiters clearing the same stale file at once can, in a narrow
// window, let two holders in; stale files only exist after a crash.

import { open, readFile, unlink } from 'node:fs/promises'
import { processStartTime } from '../platform/process-identity.ts'
import { ProviderError } from './errors.ts'

interface Holder {
  pid: number
  start: string
}

const self: Holder = { pid: process.pid, start: processStartTime(process.pid) ?? '' }

export async function withHostLock<T>(path: string, section: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let delay = 10
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600)
      await handle.writeFile(JSON.stringify(self))
      await handle.close()
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = await readFile(path, 'utf8')
      .then((s) => JSON.parse(s) as Holder)
      .catch(() => undefined)
    if (holder && processStartTime(holder.pid) !== holder.start) {
      await unlink(path).catch(() => undefined) // its holder died: stale
      continue
    }
    if (Date.now() > deadline)
      throw new ProviderError('Locked', `${path} is held by process ${holder?.pid ?? '?'} for more than ${timeoutMs} ms; will retry`, {})
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 200)
  }
  try {
    return await section()
  } finally {
    await unlink(path).catch(() => undefined)
  }
}
