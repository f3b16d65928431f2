import t from 'tap'
import { readFileSync, mkdirSync, writeFileSync, rmdirSync, existsSync } from 'node:fs'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { classifyExit, type ExitFacts } from '../../../agent/game/classify.ts'
import { oomCounterFile, readOomKills } from '../../../agent/game/cgroup-oom.ts'
import type { CrashClassification } from '../../../src/api/agent-game-types.ts'

const dir = path.join(import.meta.dirname, 'crash-logs')
const tail = (name: string): string[] => readFileSync(path.join(dir, name), 'utf8').split('\n')

// Each excerpt is the tail a real server of that kind prints before dying, with the exit status it dies with.
const corpus: Array<[string, Partial<ExitFacts>, CrashClassification]> = [
  ['paper-oom.log', { exitCode: 1 }, 'oom'],
  ['node-heap-oom.log', { exitCode: null, signal: 'SIGABRT' }, 'oom'],
  ['paper-plugin.log', { exitCode: 1 }, 'mod_or_plugin_error'],
  ['forge-mod.log', { exitCode: 1 }, 'mod_or_plugin_error'],
  ['fabric-mixin.log', { exitCode: 255 }, 'mod_or_plugin_error'],
  ['fabric-missing-dep.log', { exitCode: 1 }, 'missing_dependency'],
  ['vanilla-missing-jar.log', { exitCode: 1 }, 'missing_dependency'],
  ['node-missing-module.log', { exitCode: 1 }, 'missing_dependency'],
  ['bedrock-shared-lib.log', { exitCode: 127 }, 'missing_dependency'],
  ['paper-port.log', { exitCode: 0 }, 'port_in_use'],
  ['node-port.log', { exitCode: 1 }, 'port_in_use'],
  ['vanilla-eula.log', { exitCode: 0 }, 'eula_not_accepted'],
  ['java-version.log', { exitCode: 1 }, 'java_version_mismatch'],
  ['forge-nonzero.log', { exitCode: 3 }, 'nonzero_exit'],
  ['vanilla-clean.log', { exitCode: 0 }, 'unexpected_exit'],
  ['vanilla-clean.log', { exitCode: null, signal: 'SIGKILL', oomKillDelta: 0 }, 'unexpected_exit'],
]

t.test('log corpus: one or more real-looking tails per class', async (t) => {
  const seen = new Set<string>()
  for (const [file, facts, want] of corpus) {
    const got = classifyExit({ exitCode: null, signal: null, oomKillDelta: null, logTail: tail(file), ...facts })
    t.equal(got.classification, want, `${file} → ${want} (evidence: ${got.evidence})`)
    t.ok(got.evidence, 'a classification names its evidence')
    seen.add(want)
  }
  t.equal(seen.size, 8, 'every class is covered by the corpus')
})

t.test('kernel OOM evidence: SIGKILL plus an oom_kill increase', async (t) => {
  t.equal(classifyExit({ exitCode: null, signal: 'SIGKILL', oomKillDelta: 1, logTail: tail('vanilla-clean.log') }).classification, 'oom')
  t.equal(
    classifyExit({ exitCode: null, signal: 'SIGTERM', oomKillDelta: 1, logTail: [] }).classification,
    'unexpected_exit',
    'an oom_kill elsewhere in the cgroup does not make a SIGTERM an OOM',
  )
  t.equal(
    classifyExit({ exitCode: null, signal: null, oomKillDelta: null, logTail: [], spawnError: 'spawn flying-squid ENOENT' }).classification,
    'missing_dependency',
    'a command that cannot be found is a missing dependency',
  )
})

t.test('a real OOM kill in a memory cgroup with a small limit', async (t) => {
  const own = oomCounterFile('self')
  if (!own) return t.skip('no readable memory cgroup on this machine (no memory.events / memory.oom_control)', () => {})
  const v2 = own.endsWith('memory.events')
  const cg = path.join(path.dirname(own), `zlh-oom-test-${process.pid}`)
  try {
    mkdirSync(cg)
    writeFileSync(path.join(cg, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(48 * 1024 * 1024))
    if (v2) {
      try {
        writeFileSync(path.join(cg, 'memory.swap.max'), '0')
      } catch {
        /* no swap accounting */
      }
    }
  } catch (err) {
    return t.skip(`cannot create a child memory cgroup here (${(err as Error).message}); needs root and a writable cgroup fs`, () => {})
  }
  t.teardown(() => {
    if (existsSync(cg)) rmdirSync(cg)
  })
  const counter = path.join(cg, v2 ? 'memory.events' : 'memory.oom_control')
  const before = readOomKills(counter)
  t.equal(before, 0)
  // The shell moves itself into the cgroup, then becomes a node process that touches memory until killed.
  const child = spawn(
    '/bin/sh',
    ['-c', `echo $$ > ${path.join(cg, 'cgroup.procs')} && exec "${process.execPath}" -e "const a=[];for(;;)a.push(Buffer.alloc(4<<20,1))"`],
    { stdio: 'ignore' },
  )
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  const after = readOomKills(counter)
  t.equal(signal, 'SIGKILL', 'the kernel killed it')
  const got = classifyExit({ exitCode: code, signal, oomKillDelta: (after ?? 0) - (before ?? 0), logTail: [] })
  t.equal(got.classification, 'oom', `classified from the cgroup counter (${got.evidence})`)
})
