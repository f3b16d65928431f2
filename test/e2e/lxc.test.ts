// The controller end to end on the real `lxc` provider: embedded API server + real kubectl + the
// controller as a child process + busybox LXC containers running the real agent, which download
// the real artifacts from a server on the bridge's own address (the only host address a
// container reaches). A GameServer goes Ready and answers a Minecraft ping at its container's
// bridge address, survives its game being killed inside the container; a DevServer gets
// code-server (stand-in) answering at <container>:6000 even with the controller SIGKILLed
// mid-way; deleting both leaves nothing in lxc-ls. Needs root and the lxc + busybox-static
// packages (CI has both). Teardown, registered before anything is created, removes containers,
// bridge and lxcpath even when an assertion fails.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mc from 'minecraft-protocol'
import { listLxcNames } from '../../src/providers/lxc/index.ts'
import { deleteBridge, ensureBridge, hostAddress, parseSubnet } from '../../src/providers/lxc/network.ts'
import { REPO } from '../apiserver/harness.ts'
import { buildArtifacts, condition, exampleGameServer, IDE_SUFFIX, startE2E } from './harness.ts'

const lxcAvailable = process.getuid?.() === 0 && existsSync('/usr/bin/lxc-create')
if (!lxcAvailable) t.plan(0, 'needs root and the lxc package (apt-get install -y lxc busybox-static)')

// A bridge and subnet of its own, so it never meets the other lxc tests' containers.
const bridge = 'zlhtst9'
const subnet = parseSubnet('10.213.99.0/24')
const GAME_PORT = 25565

const ping = (host: string) =>
  mc.ping({ host, port: GAME_PORT, closeTimeout: 5000 } as Parameters<typeof mc.ping>[0]) as Promise<{ version: { name: string } }>

/** Runs a busybox shell script inside the container as root; returns stdout (throws on failure). */
const attach = (lxcpath: string, vmid: number, script: string): string =>
  execFileSync('lxc-attach', ['-P', lxcpath, '-n', `zlh-${vmid}`, '--', '/bin/sh', '-c', script], { encoding: 'utf8', timeout: 30_000 })

/** Pids (inside the container) of the flying-squid launcher; the bracket keeps this script's own
 * command line from matching. */
const gamePids = (lxcpath: string, vmid: number): string[] =>
  attach(
    lxcpath,
    vmid,
    'for f in /proc/[0-9]*/cmdline; do if grep -q "launch[.]cjs" "$f" 2>/dev/null; then p=${f#/proc/}; echo ${p%/cmdline}; fi; done',
  )
    .split('\n')
    .filter((s) => s !== '')

const httpGet = (url: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    get(url, { timeout: 10_000 }, (res) => {
      let b = ''
      res.on('data', (c) => {
        b += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }))
    })
      .on('error', reject)
      .on('timeout', function (this: { destroy(e: Error): void }) {
        this.destroy(new Error(`GET ${url} timed out`))
      })
  })

t.setTimeout(10 * 60_000)

if (lxcAvailable)
  t.test('GameServer and DevServer on the lxc provider', async (t) => {
    const lxcpath = mkdtempSync(join(tmpdir(), 'zlh-e2e-lxc-'))
    // Registered first, so it runs last (teardowns run in reverse): after the harness deleted the
    // servers through the controller and stopped it. Never throws, so nothing after it is skipped.
    t.teardown(async () => {
      for (const name of await listLxcNames(lxcpath).catch(() => [] as string[])) {
        try {
          execFileSync('lxc-destroy', ['-P', lxcpath, '-n', name, '-f'], { stdio: 'ignore', timeout: 60_000 })
        } catch {
          /* reported by the checks below */
        }
      }
      await deleteBridge(bridge).catch(() => undefined)
      rmSync(lxcpath, { recursive: true, force: true })
    })
    // The artifact server must listen on the bridge's address before any container exists; the
    // provider's own helper creates the bridge exactly as its first ensure would.
    await ensureBridge(bridge, subnet)
    const art = await buildArtifacts(t, { host: hostAddress(subnet) })
    const e = await startE2E(t, art, { providerSpec: { type: 'lxc', default: true, lxc: { lxcpath, bridge, subnet: '10.213.99.0/24' } } })
    t.teardown(() => {
      if (!t.passing()) console.error(e.logs().split('\n').slice(-80).join('\n'))
    })
    await e.startController()
    let gameVmid = 0

    await t.test('GameServer → Ready in its own container → Minecraft ping at the bridge address', async (t) => {
      await e.apply(exampleGameServer(GAME_PORT))
      const w = await e.h.kubectl(['wait', '--for=condition=Ready', 'gameserver/squid', '--timeout=240s'], { timeoutMs: 250_000 })
      t.equal(w.code, 0, `kubectl wait: ${w.stderr}${w.stdout}`)
      const gs = await e.get('gameserver', 'squid')
      gameVmid = gs.status.vmid
      t.equal(gs.status.phase, 'Running')
      t.equal(gs.status.vmid, 100, 'the first vmid of the provider')
      t.equal(gs.status.address, '10.213.99.2', "the container's fixed address on the provider's bridge")
      t.equal(condition(gs, 'Provisioned')?.status, 'True')
      t.same(await listLxcNames(lxcpath), ['zlh-100'], 'lxc-ls: exactly one container, for it')
      const secret = JSON.parse(await e.h.k('get', 'secret', 'squid-agent-token', '-o', 'json'))
      t.equal(Buffer.from(secret.data.agentUrl ?? '', 'base64').toString(), 'http://10.213.99.2:7100', 'the agent is reached on the bridge')
      t.equal((await ping(gs.status.address)).version.name, '1.21.4', 'flying-squid inside the container answers the Minecraft ping')
      t.equal(gamePids(lxcpath, gameVmid).length, 1, 'one game process inside the container')
    })

    await t.test('game killed inside the container → crash reported, restart counted, Ready again', async (t) => {
      const before = await e.get('gameserver', 'squid')
      const pids = gamePids(lxcpath, gameVmid)
      t.equal(pids.length, 1, 'one game process')
      attach(lxcpath, gameVmid, `kill -9 ${pids[0]}`)
      const crashed = await e.waitFor(
        'crash in status',
        'gameserver',
        'squid',
        (o: any) => o.status?.lastCrash !== undefined && (o.status.phase === 'Backoff' || o.status.phase === 'Crashed'),
        60_000,
      )
      t.equal(crashed.status.lastCrash.signal, 'SIGKILL')
      t.equal(condition(crashed, 'Ready')?.status, 'False')
      const back = await e.waitFor(
        'restart',
        'gameserver',
        'squid',
        (o: any) => condition(o, 'Ready')?.status === 'True' && o.status.restarts > (before.status.restarts ?? 0),
        120_000,
      )
      t.equal(back.status.restarts, (before.status.restarts ?? 0) + 1, 'restart counted')
      t.equal(back.status.vmid, gameVmid, 'same container')
      await ping(back.status.address)
      t.same(await listLxcNames(lxcpath), ['zlh-100'], 'no second container')
    })

    await t.test(
      'DevServer applied while the controller is down, SIGKILLed again mid-provisioning → Ready, IDE at <container>:6000, no duplicates',
      async (t) => {
        await e.controller?.kill9()
        await e.apply(readFileSync(join(REPO, 'manifests/examples/devserver.yaml'), 'utf8'))
        await e.startController()
        const midway = await e.waitFor(
          'workbench in progress',
          'devserver',
          'workbench',
          (o: any) => o.status?.phase !== undefined,
          120_000,
        )
        t.not(condition(midway, 'Ready')?.status, 'True', `controller killed before Ready (phase ${midway.status.phase})`)
        await e.controller?.kill9()
        await e.startController()
        const w = await e.h.kubectl(['wait', '--for=condition=Ready', 'devserver/workbench', '--timeout=240s'], { timeoutMs: 250_000 })
        t.equal(w.code, 0, `kubectl wait: ${w.stderr}${w.stdout}`)
        const ds = await e.get('devserver', 'workbench')
        t.equal(condition(ds, 'CodeServerReady')?.status, 'True')
        t.equal(ds.status.address, '10.213.99.3')
        t.same(
          ds.status.ide,
          {
            host: `dev-${ds.status.vmid}.${IDE_SUFFIX}`,
            url: `https://dev-${ds.status.vmid}.${IDE_SUFFIX}/`,
            upstream: '10.213.99.3:6000',
            folder: '/home/dev/workspace',
          },
          "the IDE opens the container's real workspace",
        )
        const health = await httpGet(`http://${ds.status.ide.upstream}/healthz`)
        t.equal(health.status, 200)
        t.equal(JSON.parse(health.body).status, 'alive', 'code-server (stand-in) answers /healthz at status.ide.upstream from the host')
        t.match((await httpGet(`http://${ds.status.ide.upstream}/`)).body, /code-server stand-in/)
        t.same(await listLxcNames(lxcpath), ['zlh-100', 'zlh-101'], 'lxc-ls: one container per server, no duplicates')
      },
    )

    await t.test('delete both → containers gone from lxc-ls, finalizers released', async (t) => {
      const d = await e.h.kubectl(['delete', 'gameserver/squid', 'devserver/workbench', '--wait=true', '--timeout=120s'], {
        timeoutMs: 130_000,
      })
      t.equal(d.code, 0, `kubectl delete: ${d.stderr}${d.stdout}`)
      for (const kind of ['gameserver/squid', 'devserver/workbench']) {
        const r = await e.h.kubectl(['get', kind])
        t.match(r.stderr, /NotFound/, `${kind} is gone (finalizer released)`)
      }
      t.same(await listLxcNames(lxcpath), [], 'lxc-ls -P <lxcpath> is empty')
    })
  })
