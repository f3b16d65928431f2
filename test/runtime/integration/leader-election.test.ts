// Two manager processes campaign for one Lease on the real embedded API server.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { eventually } from './fault-proxy.ts'

const LEASE_MS = 3000
const RETRY_MS = 300
const child = join(import.meta.dirname, 'fixtures', 'leader-candidate.ts')

interface Line {
  what: string
  id: string
  at: number
}
const readLog = (file: string): Line[] =>
  (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [what, id, at] = l.split(' ')
      return { what: what as string, id: id as string, at: Number(at) }
    })

/** Reconcile intervals per process; an interval still open ends at `endOf(id)`. */
function intervals(lines: Line[], endOf: (id: string) => number): Array<{ id: string; from: number; to: number }> {
  const open = new Map<string, number>()
  const out: Array<{ id: string; from: number; to: number }> = []
  for (const l of lines) {
    if (l.what === 'start') open.set(l.id, l.at)
    if (l.what === 'end') {
      out.push({ id: l.id, from: open.get(l.id) as number, to: l.at })
      open.delete(l.id)
    }
  }
  for (const [id, from] of open) out.push({ id, from, to: endOf(id) })
  return out
}

function overlapsAcross(iv: Array<{ id: string; from: number; to: number }>): number {
  let n = 0
  for (const a of iv) for (const b of iv) if (a.id < b.id && a.from < b.to && b.from < a.to) n++
  return n
}

async function setup(t: Test): Promise<{ spawnCandidate: (id: string) => ChildProcess; logFile: string }> {
  const env = await startTestEnv()
  t.teardown(() => env.stop())
  await env.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'le' } })
  await env.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'work', namespace: 'le' } })
  const dir = t.testdir({})
  const kubeconfigFile = join(dir, 'kubeconfig')
  writeFileSync(kubeconfigFile, env.server.kubeconfigYaml(), { mode: 0o600 })
  const logFile = join(dir, 'log')
  const children: ChildProcess[] = []
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await Promise.all(
      children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
    )
  })
  return {
    logFile,
    spawnCandidate: (id) => {
      const c = spawn(process.execPath, [child, kubeconfigFile, id, logFile], { stdio: ['ignore', 'inherit', 'inherit'] })
      children.push(c)
      return c
    },
  }
}

t.test('killing the leader hands over within the lease duration; never both reconcile', async (t) => {
  const { spawnCandidate, logFile } = await setup(t)
  const a = spawnCandidate('a')
  await eventually(() => readLog(logFile).some((l) => l.what === 'leading' && l.id === 'a'), 'a leads', 30_000)
  const b = spawnCandidate('b')
  await eventually(() => readLog(logFile).some((l) => l.what === 'up' && l.id === 'b'), 'b up', 30_000)
  await eventually(() => readLog(logFile).filter((l) => l.what === 'end' && l.id === 'a').length >= 5, 'a reconciling', 30_000)
  await new Promise((r) => setTimeout(r, 1000)) // b campaigns against a live leader for a while
  t.notOk(
    readLog(logFile).some((l) => l.id === 'b' && (l.what === 'leading' || l.what === 'start')),
    'b waits while a renews',
  )
  const killedAt = Date.now()
  a.kill('SIGKILL')
  await new Promise((r) => a.once('exit', r))
  await eventually(() => readLog(logFile).some((l) => l.what === 'leading' && l.id === 'b'), 'b takes over', 30_000)
  const lines = readLog(logFile)
  const tookOver = (lines.find((l) => l.what === 'leading' && l.id === 'b') as Line).at
  const handover = tookOver - killedAt
  t.ok(handover <= LEASE_MS + 2 * RETRY_MS + 1500, `handover in ${handover} ms (lease ${LEASE_MS} ms)`)
  t.ok(handover >= LEASE_MS - RETRY_MS - 200, `b waited for the lease to expire (${handover} ms)`)
  await eventually(() => readLog(logFile).filter((l) => l.what === 'end' && l.id === 'b').length >= 3, 'b reconciling', 30_000)
  t.equal(
    overlapsAcross(intervals(readLog(logFile), (id) => (id === 'a' ? killedAt : Date.now()))),
    0,
    'no reconcile of a overlaps one of b',
  )
  b.kill('SIGTERM')
  await new Promise((r) => b.once('exit', r))
})

t.test('SIGTERM: in-flight reconcile finishes, lease is released, successor takes over at once', async (t) => {
  const { spawnCandidate, logFile } = await setup(t)
  const a = spawnCandidate('a')
  await eventually(() => readLog(logFile).filter((l) => l.what === 'end' && l.id === 'a').length >= 3, 'a reconciling', 30_000)
  const b = spawnCandidate('b')
  await eventually(() => readLog(logFile).some((l) => l.what === 'up' && l.id === 'b'), 'b up', 30_000)
  await new Promise((r) => setTimeout(r, 500))
  const termAt = Date.now()
  a.kill('SIGTERM')
  const code = await new Promise((r) => a.once('exit', r))
  t.equal(code, 0, 'a exits cleanly')
  const aLines = readLog(logFile).filter((l) => l.id === 'a')
  t.equal(
    aLines.filter((l) => l.what === 'start').length,
    aLines.filter((l) => l.what === 'end').length,
    'every started reconcile of a finished',
  )
  t.equal(aLines.at(-1)?.what, 'exit')
  await eventually(() => readLog(logFile).some((l) => l.what === 'leading' && l.id === 'b'), 'b takes over', 30_000)
  const handover = (readLog(logFile).find((l) => l.what === 'leading' && l.id === 'b') as Line).at - termAt
  t.ok(handover < LEASE_MS, `released lease taken over in ${handover} ms, before it would have expired`)
  t.equal(overlapsAcross(intervals(readLog(logFile), () => Date.now())), 0, 'no overlap')
  b.kill('SIGTERM')
  await new Promise((r) => b.once('exit', r))
})
