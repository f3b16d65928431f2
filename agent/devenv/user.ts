// The dev user on a real container: looked up in /etc/passwd, created with useradd when missing.
// Only ever called when the agent's root is `/` and it runs as uid 0 (see DevEnvironment.prepare).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs/promises'
import type { Logger } from '../log.ts'

const run = promisify(execFile)

export interface UserIds {
  uid: number
  gid: number
}

/** Parse /etc/passwd (under a root) for a user's ids. */
export async function lookupUser(name: string, passwdFile = '/etc/passwd'): Promise<UserIds | null> {
  const text = await fs.readFile(passwdFile, 'utf8').catch(() => '')
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':')
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) }
  }
  return null
}

export async function ensureDevUser(name: string, home: string, log: Logger): Promise<UserIds> {
  const existing = await lookupUser(name)
  if (existing) return existing
  await run('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/bash', '--user-group', name])
  const created = await lookupUser(name)
  if (!created) throw new Error(`useradd ${name} succeeded but the user is not in /etc/passwd`)
  log.info({ user: name, uid: created.uid }, 'created the dev user')
  return created
}
