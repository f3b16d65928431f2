// Where archive extraction stages its entries, and the start-up sweep of what a crash left.
//
// Every extraction stages under one known directory at the top of the server root,
// `<root>/.zlh-tmp-staging/<random>/`: inside the root, so the final renames stay on one
// filesystem; under the agent's reserved prefix, so the file API neither lists nor serves nor
// writes it (confined-fs publicPath) and an archive cannot name it.
//
// Guarantees: sweepAgentTemp() removes every name with the reserved prefix anywhere under the
// root (the staging directory, and write temp files a crash left), never following a link; it
// runs before the agent listens, so it cannot race a request's own temp files.
// Caveats: a target directory that is a separate mount inside the server root cannot receive a
// rename from the staging directory (EXDEV); extraction then fails as a whole, nothing is merged.
// The sweep walks directories only (it reads no file); it stops descending after
// SWEEP_MAX_DIRECTORIES directories and says so in the log, leaving the rest for the next start.
import fsp from 'node:fs/promises'
import { constants as C } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { at, removeTree, TEMP_PREFIX, type ConfinedRoot } from '../files/confined-fs.ts'
import type { Logger } from '../log.ts'

/** The one staging directory, directly under the server root. */
export const STAGING_DIR = `${TEMP_PREFIX}staging`
const SWEEP_MAX_DIRECTORIES = 200_000

/** Creates a fresh, empty staging directory for one extraction; returns its root-relative parts. */
export async function createStaging(root: ConfinedRoot): Promise<string[]> {
  const parts = [STAGING_DIR, randomBytes(8).toString('hex')]
  await root.mkdir(parts.join('/'))
  return parts
}

/** Removes one extraction's staging directory (missing is fine). */
export async function removeStaging(root: ConfinedRoot, parts: string[]): Promise<void> {
  await root.remove(parts.join('/'), true).catch((err: { code?: string }) => {
    if (err.code !== 'FILE_NOT_FOUND') throw err
  })
}

/** Removes every reserved-prefix name under `rootDir` (a crash's leftovers); returns how many. */
export async function sweepAgentTemp(rootDir: string, log: Logger): Promise<number> {
  let removed = 0
  let visited = 0
  const walk = async (dirFd: number, shown: string): Promise<void> => {
    if (++visited > SWEEP_MAX_DIRECTORIES) return
    for (const d of await fsp.readdir(at(dirFd), { withFileTypes: true }).catch(() => [])) {
      if (d.name.startsWith(TEMP_PREFIX)) {
        try {
          if (d.isDirectory()) await removeTree(dirFd, d.name)
          else await fsp.unlink(at(dirFd, d.name))
          removed++
        } catch (err) {
          log.warn({ path: `${shown}${d.name}`, err: (err as Error).message }, 'could not remove a leftover temp entry')
        }
      } else if (d.isDirectory()) {
        let fh
        try {
          fh = await fsp.open(at(dirFd, d.name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW)
        } catch {
          continue
        }
        try {
          await walk(fh.fd, `${shown}${d.name}/`)
        } finally {
          await fh.close()
        }
      }
    }
  }
  let top
  try {
    top = await fsp.open(rootDir, C.O_RDONLY | C.O_DIRECTORY)
  } catch {
    return 0
  }
  try {
    await walk(top.fd, '')
  } finally {
    await top.close()
  }
  if (visited > SWEEP_MAX_DIRECTORIES)
    log.warn({ limit: SWEEP_MAX_DIRECTORIES }, 'temp sweep stopped early: the server root has more directories than the sweep visits')
  if (removed > 0) log.info({ removed }, 'removed temp files and staging left by an interrupted write or extraction')
  return removed
}
