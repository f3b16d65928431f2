import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { GameStatus } from '../../../src/api/agent-game-types.ts'
import { GameSupervisor } from '../../../agent/game/supervisor.ts'
import { processStartTime } from '../../../src/platform/process-identity.ts'
import { shortTempDir, shSpec, supervisorOptions, until, killGame } from './helpers.ts'

const AGENT = path.join(import.meta.dirname, 'fixtures', 'supervisor-process.ts')

interface AgentProc {
  proc: ChildProcess
  statuses: GameStatus[]
  waitFor(pred: (s: GameStatus) => boolean, what: string): Promise<GameStatus>
}

function startAgent(t: { teardown(fn: () => void): void }, dir: string, spec?: object): AgentProc {
  const proc = spawn(process.execPath, [AGENT, dir, ...(spec ? [JSON.stringify(spec)] : [])], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  const statuses: GameStatus[] = []
  const waiters = new Set<() => void>()
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    statuses.push(JSON.parse(line) as GameStatus)
    for (const w of waiters) w()
  })
  return {
    proc,
    statuses,
    waitFor(pred, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = statuses.find(pred)
          if (hit) {
            waiters.delete(check)
            clearTimeout(timer)
            resolve(hit)
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`agent never reported ${what}; saw ${JSON.stringify(statuses.at(-1))}`))
        }, 20_000)
        waiters.add(check)
        check()
      })
    },
  }
}

const killAgent = async (a: AgentProc): Promise<void> => {
  a.proc.kill('SIGKILL')
  await new Promise((r) => a.proc.once('exit', r))
}

const crashingGame = (dir: string): object =>
  shSpec(
    `echo "game up"; while [ ! -f ${path.join(dir, 'crash')} ]; do sleep 0.05; done; echo "[12:58:51 ERROR]: Encountered an unexpected exception"; echo "java.lang.OutOfMemoryError: Java heap space"; exit 1`,
    {},
    { restartPolicy: 'Never' },
  )

t.test('SIGKILL the agent: the game keeps running, a new agent re-attaches, then records its crash', async (t) => {
  const dir = shortTempDir(t)
  const a = startAgent(t, dir, crashingGame(dir))
  const running = await a.waitFor((s) => s.state === 'Running', 'Running')
  const pid = running.pid!
  t.teardown(() => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  await killAgent(a)
  t.ok(processStartTime(pid), 'the game survived the agent being SIGKILLed')

  const b = startAgent(t, dir)
  const adopted = await b.waitFor((s) => s.state === 'Running', 'Running after re-attach')
  t.equal(adopted.pid, pid, 'the same process')
  t.equal(adopted.adopted, true, 'adopted, not started again')
  writeFileSync(path.join(dir, 'crash'), '')
  const crashed = await b.waitFor((s) => s.state === 'Crashed', 'the crash')
  t.equal(crashed.lastCrash?.exitCode, 1)
  t.equal(crashed.lastCrash?.classification, 'oom', 'classified from the output captured after re-attach')
  t.ok(crashed.lastCrash?.logTail.includes('game up'), 'the log tail includes output from before the agent restart')
  t.notOk(crashed.lastCrash?.observedAfterAgentRestart)
  await killAgent(b)
})

t.test('a game that exits while no agent runs is still recorded and classified', async (t) => {
  const dir = shortTempDir(t)
  const a = startAgent(t, dir, crashingGame(dir))
  const pid = (await a.waitFor((s) => s.state === 'Running', 'Running')).pid!
  t.teardown(() => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  await killAgent(a)
  writeFileSync(path.join(dir, 'crash'), '')
  await until(() => existsSync(path.join(dir, 'state', 'exit.json')), 10_000, 'the wrapper to record the exit')
  t.equal(processStartTime(pid), null, 'the game is gone')
  const b = startAgent(t, dir)
  const s = await b.waitFor((x) => x.state === 'Crashed', 'the crash found on start')
  t.equal(s.lastCrash?.observedAfterAgentRestart, true)
  t.equal(s.lastCrash?.classification, 'oom')
  t.equal(s.lastCrash?.exitCode, 1)
  t.ok(s.lastCrash?.logTail.includes('game up'))
  await killAgent(b)
  // A third agent must not record the same exit again.
  const c = startAgent(t, dir)
  const again = await c.waitFor(() => true, 'its first status')
  t.equal(again.lastCrash?.time, s.lastCrash?.time, 'the exit is recorded once')
  t.equal(again.consecutiveFailures, s.consecutiveFailures)
  await killAgent(c)
})

t.test('a recycled pid is never adopted', async (t) => {
  const dir = shortTempDir(t)
  const opts = supervisorOptions(dir)
  mkdirSync(opts.stateDir, { recursive: true })
  // An unrelated process now holds the pid the pid file names; its start time differs from the recorded one.
  const stranger = spawn('sleep', ['60'], { stdio: 'ignore', detached: true })
  t.teardown(() => {
    try {
      process.kill(stranger.pid!, 'SIGKILL')
    } catch {
      /* gone */
    }
  })
  await until(() => processStartTime(stranger.pid!) !== null, 5_000, 'stranger')
  const realStart = processStartTime(stranger.pid!)!
  const recordedStart = String(Number(realStart) - 12345)
  writeFileSync(
    path.join(opts.stateDir, 'run.json'),
    JSON.stringify({
      runId: 'old-run',
      wrapperPid: stranger.pid,
      wrapperStartTime: recordedStart,
      gamePid: stranger.pid,
      gameStartTime: recordedStart,
      startedAt: Date.now() - 60_000,
      oomCounterFile: null,
      oomKillsAtStart: null,
    }),
  )
  writeFileSync(
    path.join(opts.stateDir, 'spec.json'),
    JSON.stringify({
      spec: {
        server: { command: ['/bin/sh', '-c', 'exit 0'], args: [], port: 25565, stopCommand: 'stop', gracePeriodSeconds: 1 },
        supervision: { restartPolicy: 'Never', backoffSeconds: [30], resetAfterSeconds: 30, maxConsecutiveFailures: 5 },
      },
    }),
  )
  writeFileSync(path.join(opts.stateDir, 'supervisor.json'), JSON.stringify({ desired: 'running', state: 'Running' }))
  const sup = new GameSupervisor(opts)
  t.teardown(() => killGame(sup))
  await sup.init()
  const s = sup.status()
  t.not(s.state, 'Running', 'not adopted')
  t.equal(s.pid, null)
  t.equal(s.adopted, false)
  t.equal(s.lastCrash?.classification, 'unexpected_exit', 'the vanished run is recorded')
  t.match(s.lastCrash?.evidence, /vanished/)
  t.equal(processStartTime(stranger.pid!), realStart, 'the unrelated process was left alone')
  t.notOk(existsSync(path.join(opts.stateDir, 'run.json')), 'the stale pid file is cleared')
})
