// RuntimeCatalog end to end: artifact verification (sha256 + size, once per version), servers
// never pointed at unknown or unverified versions, a version upgrade whose verify fails leaves the
// old version running (rollback) and a good one upgrades — the controller SIGKILLed mid-install in
// both — and channel promotion across 3 servers one at a time — with the controller SIGKILLed
// mid-rollout — then a halted promotion rolled back by moving the channel back.
// Servers here run a small TCP program on the real Node runtime (no game package) to stay lean.
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { runtimeCatalog } from '../../src/cli/artifacts/index.ts'
import { buildArtifacts, condition, startE2E } from './harness.ts'
import { tcpReachable } from '../../controller/tcp-probe.ts'

const program =
  "const s=require('net').createServer((c)=>{c.on('error',()=>{});c.end('hi\\n')}).listen(Number(process.env.SERVER_PORT));process.stdin.on('data',(d)=>{if(String(d).trim()==='stop')s.close(()=>process.exit(0))})"

function tcpServer(name: string, port: number, runtime: Record<string, string>): string {
  return stringify({
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name, namespace: 'default' },
    spec: {
      game: 'tcp-echo',
      runtime: { name: 'node', ...runtime },
      server: { command: ['node', '-e', program], port, gracePeriodSeconds: 3 },
      supervision: { backoffSeconds: [1, 2, 4] },
      resources: { memoryMiB: 256 },
    },
  })
}

const installedNode = (o: any): string | undefined => o.status?.runtimes?.find((r: any) => r.name === 'node')?.version
const ready = (o: any): boolean => condition(o, 'Ready')?.status === 'True' && o.status?.observedGeneration === o.metadata.generation

t.setTimeout(15 * 60_000)

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe()) return true
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('RuntimeCatalog: verification, upgrade with rollback, channel rollout', async (t) => {
  const art = await buildArtifacts(t)
  const e = await startE2E(t, art)
  t.teardown(() => {
    if (!t.passing()) console.error(e.logs().split('\n').slice(-60).join('\n'))
  })
  const A = art.node.version
  const B = `${A}-r2`
  const BAD = `${A}-bad`
  const url = art.url(art.node)
  const nodeCatalog = (stable: string): unknown => {
    const c = runtimeCatalog(
      'node',
      [
        { artifact: art.node, url },
        { artifact: art.node, url, version: B, verify: { command: ['bin/node', '--version'], expectOutput: `v${A}` } },
        { artifact: art.node, url, version: BAD, verify: { command: ['bin/node', '--version'], expectOutput: 'v0.0.0-never-printed' } },
        { artifact: { ...art.node, sha256: 'f'.repeat(64) }, url, version: 'tampered' },
      ],
      { stable },
    ) as any
    return c
  }
  await e.apply(nodeCatalog(A))
  await e.startController()
  const base = e.portBase + 80

  await t.test('each version is downloaded once and recorded Verified (or why not)', async (t) => {
    const rc = await e.waitFor('catalog verified', 'runtimecatalog', 'node', (o: any) => o.status?.versions?.length === 4, 120_000)
    const byVersion = Object.fromEntries(rc.status.versions.map((v: any) => [v.version, v]))
    for (const v of [A, B, BAD]) {
      t.equal(byVersion[v].verified, true, `${v} verified`)
      t.equal(byVersion[v].sha256, art.node.sha256)
      t.equal(byVersion[v].sizeBytes, art.node.sizeBytes)
    }
    t.equal(byVersion.tampered.verified, false, 'a wrong sha256 is not verified')
    t.match(byVersion.tampered.message, /sha256/)
    t.equal(rc.status.verifiedCount, 3)
    t.equal(condition(rc, 'Verified')?.status, 'False')
    const downloads = art.server.requests(art.url(art.node).split('/').pop() as string)
    await e.controller?.kill9()
    await e.startController()
    await e.h.k('annotate', 'runtimecatalog', 'node', 'touch=1', '--overwrite')
    await new Promise((r) => setTimeout(r, 3000))
    t.equal(
      art.server.requests(art.url(art.node).split('/').pop() as string),
      downloads,
      'a restarted controller does not download verified versions again',
    )
  })

  await t.test('unknown or unverified versions: RuntimeResolved=False and no container', async (t) => {
    await e.apply(`${tcpServer('unknown', base, { version: '0.0.1' })}---\n${tcpServer('unverified', base + 1, { version: 'tampered' })}`)
    const u = await e.waitFor(
      'unresolved',
      'gameserver',
      'unknown',
      (o: any) => condition(o, 'RuntimeResolved')?.status === 'False',
      60_000,
    )
    t.equal(condition(u, 'RuntimeResolved')?.reason, 'VersionNotFound')
    t.match(condition(u, 'RuntimeResolved')?.message, /has no version 0\.0\.1/)
    t.equal(u.status.phase, 'Pending')
    const v = await e.waitFor(
      'unverified',
      'gameserver',
      'unverified',
      (o: any) => condition(o, 'RuntimeResolved')?.status === 'False',
      60_000,
    )
    t.equal(condition(v, 'RuntimeResolved')?.reason, 'VersionNotVerified')
    const owners = (await e.backend().list()).map((c) => c.ownerUid)
    t.notOk(owners.includes(u.metadata.uid) || owners.includes(v.metadata.uid), 'no container created')
    await e.h.k('delete', 'gameserver', 'unknown', 'unverified', '--wait=true', '--timeout=60s')
  })

  await t.test('three servers follow stable', async (t) => {
    await e.apply(['g1', 'g2', 'g3'].map((n, i) => tcpServer(n, base + 10 + i, { channel: 'stable' })).join('---\n'))
    for (const n of ['g1', 'g2', 'g3']) {
      const o = await e.waitFor(`${n} Ready`, 'gameserver', n, ready, 240_000)
      t.equal(installedNode(o), A)
    }
  })

  /** SIGKILLs and restarts the controller once g1 shows `moment` (or after 20 s if it never does: the kill still happens, and says so). */
  async function killControllerWhen(t: Test, moment: string, pred: (o: any) => boolean): Promise<void> {
    const seen = await e.waitFor(moment, 'gameserver', 'g1', pred, 20_000).then(
      () => true,
      () => false,
    )
    await e.controller?.kill9()
    t.comment(seen ? `controller SIGKILLed while ${moment}` : `g1 never showed "${moment}" within 20 s; controller SIGKILLed anyway`)
    await e.startController()
  }

  await t.test(
    'version change: a failing verify keeps the old version running; a good one upgrades (controller SIGKILLed mid-way in each)',
    async (t) => {
      await e.h.k(
        'patch',
        'gameserver',
        'g1',
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'replace', path: '/spec/runtime', value: { name: 'node', version: BAD } }]),
      )
      await killControllerWhen(t, 'installing the failing version', (o: any) => condition(o, 'RuntimeReady')?.reason === 'Installing')
      const failed = await e.waitFor(
        'verify failure',
        'gameserver',
        'g1',
        (o: any) => condition(o, 'RuntimeReady')?.reason === 'VerifyFailed' && o.status.observedGeneration === o.metadata.generation,
        120_000,
      )
      t.equal(installedNode(failed), A, 'the old version stays current')
      t.equal(condition(failed, 'Ready')?.status, 'False')
      t.match(condition(failed, 'RuntimeReady')?.message, /previous version stays current/)
      t.ok(await until('old version serving', () => tcpReachable('127.0.0.1', base + 10)), 'the server keeps serving on the old version')
      t.equal((await e.get('gameserver', 'g1')).status.phase, 'Running', 'still Running on the old version')
      await e.h.k(
        'patch',
        'gameserver',
        'g1',
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'replace', path: '/spec/runtime', value: { name: 'node', version: B } }]),
      )
      await killControllerWhen(
        t,
        'upgrading',
        (o: any) =>
          condition(o, 'RuntimeReady')?.reason === 'Installing' || ['Installing', 'Stopping', 'Starting'].includes(o.status?.phase),
      )
      const up = await e.waitFor('upgraded', 'gameserver', 'g1', (o: any) => ready(o) && installedNode(o) === B, 120_000)
      t.equal(up.status.phase, 'Running')
      const events = JSON.parse(await e.h.k('get', 'events', '--field-selector', 'involvedObject.name=g1', '-o', 'json')).items.map(
        (x: any) => x.reason,
      )
      t.ok(events.includes('VerifyFailed') && events.includes('Restarting'), 'failure and restart reported as Events')
      t.equal((await e.backend().list()).length, 3, 'no duplicate containers after the SIGKILLs')
      // Back to the channel (B stays installed; the rollout admitted it at A, so it moves back to A).
      await e.h.k(
        'patch',
        'gameserver',
        'g1',
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'replace', path: '/spec/runtime', value: { name: 'node', channel: 'stable' } }]),
      )
      await e.waitFor('g1 back on stable', 'gameserver', 'g1', (o: any) => ready(o) && installedNode(o) === A, 120_000)
    },
  )

  await t.test('promote stable across 3 servers: one at a time, controller SIGKILLed mid-way', async (t) => {
    let maxInFlight = 0
    let killed = false
    const order: string[] = []
    await e.h.k('patch', 'runtimecatalog', 'node', '--type=merge', '-p', JSON.stringify({ spec: { channels: { stable: B } } }))
    const deadline = Date.now() + 300_000
    for (;;) {
      const list = JSON.parse(await e.h.k('get', 'gameservers', '-o', 'json')).items
      const inFlight = list.filter(
        (o: any) => o.metadata.annotations?.['rollout.zerolaghub.dev/node'] === B && !(installedNode(o) === B && ready(o)),
      )
      maxInFlight = Math.max(maxInFlight, inFlight.length)
      for (const o of list) if (installedNode(o) === B && ready(o) && !order.includes(o.metadata.name)) order.push(o.metadata.name)
      if (order.length >= 1 && !killed) {
        killed = true
        await e.controller?.kill9()
        await e.startController()
      }
      if (order.length === 3) break
      if (Date.now() > deadline)
        throw new Error(
          `rollout did not finish: ${JSON.stringify(list.map((o: any) => [o.metadata.name, installedNode(o), o.metadata.annotations, o.status?.phase]))}`,
        )
      await new Promise((r) => setTimeout(r, 150))
    }
    t.equal(maxInFlight, 1, 'never more than one server updating at once')
    t.same(order, ['g1', 'g2', 'g3'], 'servers updated one after another')
    const rc = await e.waitFor(
      'rollout complete',
      'runtimecatalog',
      'node',
      (o: any) => o.status?.rollouts?.find((r: any) => r.channel === 'stable')?.state === 'Complete',
      60_000,
    )
    t.match(
      rc.status.rollouts.find((r: any) => r.channel === 'stable'),
      { targetVersion: B, updated: 3, total: 3 },
    )
    const containers = await e.backend().list()
    t.equal(containers.length, 3, 'no duplicate containers after the SIGKILL')
  })

  await t.test('a failing promotion halts; moving the channel back rolls back', async (t) => {
    await e.h.k('patch', 'runtimecatalog', 'node', '--type=merge', '-p', JSON.stringify({ spec: { channels: { stable: BAD } } }))
    const rc = await e.waitFor(
      'halted',
      'runtimecatalog',
      'node',
      (o: any) => o.status?.rollouts?.find((r: any) => r.channel === 'stable')?.state === 'Halted',
      180_000,
    )
    t.match(rc.status.rollouts.find((r: any) => r.channel === 'stable').message, /g1 failed on .*-bad.*VerifyFailed/)
    const list = JSON.parse(await e.h.k('get', 'gameservers', '-o', 'json')).items
    t.same(
      list.map((o: any) => installedNode(o)),
      [B, B, B],
      'every server still runs the last good version',
    )
    t.same(
      list.map((o: any) => o.metadata.annotations['rollout.zerolaghub.dev/node']),
      [BAD, B, B],
      'only the first server was tried',
    )
    await e.h.k('patch', 'runtimecatalog', 'node', '--type=merge', '-p', JSON.stringify({ spec: { channels: { stable: B } } }))
    await e.waitFor(
      'rolled back',
      'runtimecatalog',
      'node',
      (o: any) => o.status?.rollouts?.find((r: any) => r.channel === 'stable')?.state === 'Complete',
      120_000,
    )
    for (const n of ['g1', 'g2', 'g3'])
      await e.waitFor(`${n} Ready on ${B}`, 'gameserver', n, (o: any) => ready(o) && installedNode(o) === B, 60_000)
  })
})
