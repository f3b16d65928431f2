// Test helpers for the game supervisor: short temp dirs (the run dir holds a unix socket), waits on
// supervisor events with a real timeout, and spec builders.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import path from 'node:path'
import type { GameSpecRequest, GameStatus } from '../../../src/api/agent-game-types.ts'
import { GameSupervisor, type SupervisorOptions } from '../../../agent/game/supervisor.ts'

export interface SupervisorFixture {
  dir: string
  sup: GameSupervisor
  opts: SupervisorOptions
}

/** A temp dir under /tmp (short enough for a unix socket), removed at teardown. */
export function shortTempDir(t: { teardown(fn: () => void): void }, prefix = 'zlh-g-'): string {
  const dir = mkdtempSync(path.join('/tmp', prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function supervisorOptions(dir: string, extra: Partial<SupervisorOptions> = {}): SupervisorOptions {
  return { stateDir: path.join(dir, 'state'), serverRoot: path.join(dir, 'srv'), logFile: path.join(dir, 'logs', 'game.log'), ...extra }
}

/** A supervisor whose game is stopped (SIGKILL to its group) at teardown. */
export function newSupervisor(
  t: { teardown(fn: () => void | Promise<void>): void },
  extra: Partial<SupervisorOptions> = {},
): SupervisorFixture {
  const dir = shortTempDir(t)
  const opts = supervisorOptions(dir, extra)
  const sup = new GameSupervisor(opts)
  t.teardown(() => killGame(sup))
  return { dir, sup, opts }
}

export function killGame(sup: GameSupervisor): void {
  const pid = sup.status().pid
  sup.detach()
  if (pid) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  }
}

export function shSpec(
  script: string,
  over: Partial<GameSpecRequest['server']> = {},
  supervision: GameSpecRequest['supervision'] = {},
): GameSpecRequest {
  return { server: { command: ['/bin/sh', '-c', script], gracePeriodSeconds: 1, ...over }, supervision }
}

/** Resolves with the first status (current or later) that satisfies `pred`; rejects after `ms`. */
export function waitForStatus(
  sup: GameSupervisor,
  pred: (s: GameStatus) => boolean,
  ms = 15_000,
  what = 'supervisor state',
): Promise<GameStatus> {
  const now = sup.status()
  if (pred(now)) return Promise.resolve(now)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sup.off('state', on)
      reject(new Error(`timed out waiting for ${what}; last: ${JSON.stringify(sup.status())}`))
    }, ms)
    const on = (s: GameStatus): void => {
      if (!pred(s)) return
      clearTimeout(timer)
      sup.off('state', on)
      resolve(s)
    }
    sup.on('state', on)
  })
}

/** Polls `cond` until true (for conditions outside the supervisor, e.g. a file or a process). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** A TCP port free on loopback right now (for a game the test starts). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
