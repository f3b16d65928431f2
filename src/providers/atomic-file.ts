// Replaces a file atomically (temp file + rename in the same directory), with the given mode from
// the first byte on, so a crash leaves either the old or the new content and a secret is never
// briefly world-readable.

import { chmod, rename, writeFile } from 'node:fs/promises'

export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.zlh-tmp`
  await writeFile(tmp, content, { mode })
  await chmod(tmp, mode) // the umask may have narrowed or the file pre-existed with other bits
  await rename(tmp, path)
}
