// GameServer end to end: embedded API server + real kubectl + the controller as a child process +
// the process provider's real agents + real artifacts (Node 24 runtime, flying-squid package).
// One server goes through its whole life: example applied → Ready → Minecraft ping; game killed →
// crash, classification, restart count, backoff; running:false → graceful stop; back on; controller
// SIGKILLed mid-install of a second server → converges without duplicate containers; delete →
// container gone and finalizer released. The controller is SIGKILLed and restarted inside each of
// these steps (during the crash backoff, right after the running edits, mid-install, after delete).
import t from 'tap'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import mc from 'minecraft-protocol'
import WebSocket from 'ws'
import { buildArtifacts, condition, exampleGameServer, startE2E } from './harness.ts'
import { startGatewayService } from '../../src/gateway/service.ts'

const ping = (port: number) =>
  mc.ping({ host: '127.0.0.1', port, closeTimeout: 5000 } as Parameters<typeof mc.ping>[0]) as Promise<{ version: { name: string } }>

/** Pids of flying-squid launchers under this test's state dir. */
function gamePids(stateDir: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (cmd.includes('launch.cjs') && readlinkSync(`/proc/${pid}/cwd`).startsWith(stateDir)) out.push(pid)
    } catch {
      /* gone */
    }
  }
  return out
}

t.setTimeout(15 * 60_000)

t.test('GameServer lifecycle', async (t) => {
  const art = await buildArtifacts(t)
  const e = await startE2E(t, art)
  await e.startController()
  const port = e.portBase + 90
  t.teardown(() => {
    if (t.passing()) return
    console.error(e.logs().split('\n').slice(-80).join('\n'))
  })

  await t.test('apply the example → Ready → Minecraft ping answers', async (t) => {
    await e.apply(exampleGameServer(port))
    const w = await e.h.kubectl(['wait', '--for=condition=Ready', 'gameserver/squid', '--timeout=240s'], { timeoutMs: 250_000 })
    t.equal(w.code, 0, `kubectl wait: ${w.stderr}${w.stdout}`)
    const gs = await e.get('gameserver', 'squid')
    t.equal(gs.status.phase, 'Running')
    t.equal(gs.status.observedGeneration, gs.metadata.generation)
    t.ok(gs.status.vmid >= 100, 'vmid recorded')
    t.equal(gs.status.address, '127.0.0.1')
    t.same(
      gs.status.runtimes.map((r: any) => [r.name, r.version]),
      [
        ['node', art.node.version],
        ['flying-squid', art.squid.version],
      ],
    )
    t.equal(condition(gs, 'Provisioned')?.status, 'True')
    t.equal(condition(gs, 'RuntimeReady')?.status, 'True')
    t.ok(gs.metadata.finalizers.includes('zerolaghub.dev/container'))
    const res = await ping(port)
    t.equal(res.version.name, '1.21.4', 'flying-squid answers the Minecraft ping')
    const table = await e.h.k('get', 'zlh')
    t.match(table, /gameserver\.zerolaghub\.dev\/squid\s+Running\s+node/)
    const secret = JSON.parse(await e.h.k('get', 'secret', 'squid-agent-token', '-o', 'json'))
    t.equal(secret.metadata.ownerReferences[0].uid, gs.metadata.uid, 'agent token Secret owned by the server')
    t.notMatch(e.logs(), Buffer.from(secret.data.token, 'base64').toString(), 'the token never appears in controller logs')
    const agentUrl = Buffer.from(secret.data.agentUrl ?? '', 'base64').toString()
    t.match(agentUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'the agent URL is recorded in the Secret for the gateway')
    t.not(agentUrl, 'http://127.0.0.1:7100', "the process provider's own port, not the default")
  })

  await t.test('the gateway reaches the process-provider agent (files, console)', async (t) => {
    const gw = await startGatewayService({
      client: e.gatewayClient(),
      listen: '127.0.0.1:0',
      ideSuffix: 'ide.test',
      publicScheme: 'https',
      publicPort: 'listen',
    })
    t.teardown(() => gw.close())
    const token = (await gw.tokens.issue('e2e', ['files', 'console'])).token
    const res = await fetch(`${gw.gateway.url}/api/game/squid/files/`, { headers: { authorization: `Bearer ${token}` } })
    const body = await res.text()
    t.equal(res.status, 200, `file listing through the gateway: ${body}`)
    t.match(body, /server\.properties|"entries"/, "the agent's directory listing")
    const ws = new WebSocket(`${gw.gateway.url.replace(/^http/, 'ws')}/api/game/squid/console`, ['zlh.console', `zlh.bearer.${token}`])
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(String(d)))
      ws.once('error', reject)
      ws.once('unexpected-response', (_q, r) => reject(new Error(`console refused: ${r.statusCode}`)))
    })
    ws.close()
    t.ok(first.length > 0, 'the console answers through the gateway')
  })

  await t.test('kill the game → crash, classification, restarts, backoff', async (t) => {
    const before = await e.get('gameserver', 'squid')
    const pids = gamePids(e.stateDir)
    t.equal(pids.length, 1, 'one game process')
    process.kill(pids[0] as number, 'SIGKILL')
    const crashed = await e.waitFor(
      'crash in status',
      'gameserver',
      'squid',
      (o: any) => o.status?.lastCrash !== undefined && (o.status.phase === 'Backoff' || o.status.phase === 'Crashed'),
      60_000,
    )
    t.equal(crashed.status.lastCrash.signal, 'SIGKILL')
    t.ok(
      ['unexpected_exit', 'oom', 'nonzero_exit'].includes(crashed.status.lastCrash.classification),
      `classified: ${crashed.status.lastCrash.classification}`,
    )
    t.ok(Array.isArray(crashed.status.lastCrash.logTail), 'log tail kept')
    t.ok(crashed.status.nextRestartTime, 'next restart time shown during backoff')
    t.equal(condition(crashed, 'Ready')?.status, 'False')
    // The controller dies during the backoff; its successor must neither lose nor double-count the restart.
    await e.controller?.kill9()
    await e.startController()
    const back = await e.waitFor(
      'restart',
      'gameserver',
      'squid',
      (o: any) => o.status?.phase === 'Running' && o.status.restarts > (before.status.restarts ?? 0),
      120_000,
    )
    t.equal(back.status.restarts, (before.status.restarts ?? 0) + 1, 'restart counted once across the controller restart')
    t.equal(back.status.lastCrash?.signal, 'SIGKILL', 'the last crash is still reported')
    await ping(port)
    const events = await e.h.k('get', 'events', '--field-selector', 'involvedObject.name=squid', '-o', 'json')
    const reasons = JSON.parse(events).items.map((ev: any) => ev.reason)
    t.ok(reasons.includes('Crashed'), 'Crashed event')
    t.ok(reasons.includes('Installed'), 'Installed event')
  })

  await t.test('running: false → graceful stop; true → back (controller SIGKILLed right after the edit)', async (t) => {
    await e.h.k('patch', 'gameserver', 'squid', '--type=merge', '-p', '{"spec":{"running":false}}')
    await e.controller?.kill9()
    await e.startController()
    const stopped = await e.waitFor(
      'Stopped',
      'gameserver',
      'squid',
      (o: any) => o.status?.phase === 'Stopped' && o.status.observedGeneration === o.metadata.generation,
      60_000,
    )
    t.equal(condition(stopped, 'Ready')?.reason, 'Stopped')
    t.same(gamePids(e.stateDir), [], 'game process gone')
    const events = JSON.parse(await e.h.k('get', 'events', '--field-selector', 'involvedObject.name=squid,reason=Stopped', '-o', 'json'))
    t.match(events.items[0]?.message, /stopCommand/, 'the game obeyed its stop command (graceful)')
    await e.h.k('patch', 'gameserver', 'squid', '--type=merge', '-p', '{"spec":{"running":true}}')
    await e.controller?.kill9()
    await e.startController()
    await e.waitFor(
      'Running again',
      'gameserver',
      'squid',
      (o: any) => o.status?.phase === 'Running' && o.status.observedGeneration === o.metadata.generation,
      120_000,
    )
    await ping(port)
  })

  await t.test('mods: downloaded, hash-checked, applied with a restart', async (t) => {
    const mod = { name: 'standin-plugin.tgz', url: art.url(art.codeServer), sha256: art.codeServer.sha256 }
    await e.h.k('patch', 'gameserver', 'squid', '--type=merge', '-p', JSON.stringify({ spec: { mods: [mod] } }))
    const gs = await e.waitFor(
      'mods installed',
      'gameserver',
      'squid',
      (o: any) =>
        condition(o, 'ModsReady')?.status === 'True' &&
        o.status.phase === 'Running' &&
        o.status.observedGeneration === o.metadata.generation,
      120_000,
    )
    const file = join(e.stateDir, 'containers', 'local', 'containers', String(gs.status.vmid), 'root', 'srv', 'game', 'mods', mod.name)
    await e.waitFor('mod file in place', 'gameserver', 'squid', () => existsSync(file), 60_000)
    t.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), mod.sha256, 'the mod file is the catalogued one')
    await ping(port)
  })

  await t.test('controller SIGKILLed mid-way and restarted → converges, no duplicates', async (t) => {
    await e.controller?.kill9()
    await e.apply(exampleGameServer(port + 1).replace('name: squid', 'name: squid2'))
    await e.startController()
    // Kill it again while it is provisioning/installing squid2.
    await e.waitFor(
      'squid2 in progress',
      'gameserver',
      'squid2',
      (o: any) => ['Provisioning', 'Installing', 'Starting'].includes(o.status?.phase),
      120_000,
    )
    await e.controller?.kill9()
    await e.startController()
    await e.h.k('wait', '--for=condition=Ready', 'gameserver/squid2', '--timeout=240s')
    await ping(port + 1)
    const containers = await e.backend().list()
    const owners = containers.map((c) => c.ownerUid)
    t.equal(containers.length, 2, 'one container per server')
    t.equal(new Set(owners).size, owners.length, 'no duplicate containers')
    t.equal(gamePids(e.stateDir).length, 2, 'one game process per server')
  })

  await t.test('delete → graceful stop, container gone, finalizer released', async (t) => {
    const gs = await e.get('gameserver', 'squid2')
    // SIGKILL the controller right after the delete is accepted: the finalizer keeps the delete.
    await e.h.k('delete', 'gameserver', 'squid2', '--wait=false')
    await e.controller?.kill9()
    await e.startController()
    await e.h.k('wait', '--for=delete', 'gameserver/squid2', '--timeout=120s')
    const owners = (await e.backend().list()).map((c) => c.ownerUid)
    t.notOk(owners.includes(gs.metadata.uid), 'container deleted')
    t.equal(gamePids(e.stateDir).length, 1, 'its game process stopped')
  })
})
