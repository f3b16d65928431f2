// The disk-space check before an install: the artifact plus its extracted tree must fit, with a
// reserve left for the game and the dev user.
import fs from 'node:fs/promises'
import { AgentError } from '../errors.ts'

export interface DiskCheckOptions {
  dir: string
  artifactBytes: number
  /** extracted size as a multiple of the artifact (compressed archives expand) */
  expansionFactor?: number
  reserveBytes?: number
}

export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir)
  return s.bavail * s.bsize
}

export async function assertDiskSpace(opts: DiskCheckOptions): Promise<void> {
  const needed = Math.ceil(opts.artifactBytes * (opts.expansionFactor ?? 3)) + (opts.reserveBytes ?? 64 * 1024 * 1024)
  const free = await freeBytes(opts.dir)
  if (free < needed) {
    throw new AgentError(
      'INSUFFICIENT_DISK',
      `${needed} bytes needed under ${opts.dir}, ${free} free; free some space or remove unused runtime versions`,
      { neededBytes: needed, freeBytes: free },
    )
  }
}
