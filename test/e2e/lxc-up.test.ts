// The whole system on the real `lxc` provider, as a person starts it: `zlh up --provider lxc` (a
// child process, as root) → its artifact server listens on the bridge's own address, the only
// host address a container reaches → the example GameServer applied with real kubectl → Ready in
// its own busybox LXC container, which downloaded node and flying-squid over the bridge → Minecraft
// ping at the container's address; the portal API lists it; a DevServer (code-server STAND-IN,
// not code-server, from an artifact server of this test on the bridge, declared on the provider)
// → Ready → `zlh ide` link → the gateway's token → cookie → redirect flow reaches the container's
// port 6000 → SIGINT stops the control plane, the containers keep running → the next start adopts
// them → delete both → lxc-ls empty.
// Needs root and the lxc + busybox-static packages (CI has both). Teardown, registered before
// anything is created, stops zlh up and removes containers, bridge and directories even when an
// assertion fails.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mc from 'minecraft-protocol'
import { stringify } from 'yaml'
import { listLxcNames } from '../../src/providers/lxc/index.ts'
import { deleteBridge, hostAddress, parseSubnet } from '../../src/providers/lxc/network.ts'
import { artifactFileName, runtimeCatalog, startArtifactServer } from '../../src/cli/artifacts/index.ts'
import { stateLayout } from '../../src/cli/state-dir.ts'
import { REPO } from '../apiserver/harness.ts'
import { buildCodeServerStandIn } from './code-server-stand-in.ts'
import { killProcessesUnder } from './harness.ts'
import { UpProcess } from './up-process.ts'

const lxcAvailable = process.getuid?.() === 0 && existsSync('/usr/bin/lxc-create')
if (!lxcAvailable) t.plan(0, 'needs root and the lxc package (apt-get install -y lxc busybox-static)')

// A bridge and subnet of its own, so it never meets the other lxc tests' containers.
const bridge = 'zlhtst8'
const cidr = '10.213.98.0/24'
const bridgeAddress = hostAddress(parseSubnet(cidr))
const GAME_PORT = 25565

const ping = (host: string) =>
  mc.ping({ host, port: GAME_PORT, closeTimeout: 5000 } as Parameters<typeof mc.ping>[0]) as Promise<{ version: { name: string } }>

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** GET `url` on the gateway at 127.0.0.1 (the host's name given as Host and TLS server name:
 * `*.localhost` need not resolve here), trusting the state dir's CA. */
function gatewayGet(url: URL, ca: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        ca,
        servername: url.hostname,
        headers: { host: url.host, ...headers },
        timeout: 20_000,
      },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => {
          body += c.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject).on('timeout', () => req.destroy(new Error(`GET ${url.origin}${url.pathname} timed out`)))
    req.end()
  })
}

/** Follows the IDE link as a browser does: redirects within the dev host, cookies kept. */
async function openIde(link: string, ca: Buffer): Promise<Answer & { cookie: string }> {
  let url = new URL(link)
  const cookies = new Map<string, string>()
  for (let hop = 0; hop < 5; hop++) {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const a = await gatewayGet(url, ca, cookie ? { cookie } : {})
    for (const c of ([] as string[]).concat(a.headers['set-cookie'] ?? [])) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
    if (a.status < 300 || a.status >= 400) return { ...a, cookie }
    url = new URL(String(a.headers.location), url)
  }
  throw new Error('more than 5 redirects')
}

t.setTimeout(15 * 60_000)

if (lxcAvailable)
  t.test('zlh up --provider lxc: GameServer and DevServer in real containers, through the gateway, across a restart', async (t) => {
    const lxcpath = mkdtempSync(join(tmpdir(), 'zlh-up-lxc-'))
    const stateDir = mkdtempSync(join(tmpdir(), 'zlh-up-lxc-state-'))
    const home = mkdtempSync(join(tmpdir(), 'zlh-up-lxc-home-'))
    const up = new UpProcess({
      stateDir,
      home,
      args: ['--no-code-server', '--provider', 'lxc', '--lxc-path', lxcpath, '--lxc-bridge', bridge, '--lxc-subnet', cidr],
      comment: (s) => t.comment(s),
    })
    // Registered first, so it runs last (teardowns run in reverse). Never throws.
    t.teardown(async () => {
      if (!t.passing()) console.error(up.output().slice(-6000))
      if (up.running) await up.kubectl('delete', 'gameservers,devservers', '--all', '--wait=true', '--timeout=120s')
      await up.stop('SIGTERM')
      for (const name of await listLxcNames(lxcpath).catch(() => [] as string[])) {
        try {
          execFileSync('lxc-destroy', ['-P', lxcpath, '-n', name, '-f'], { stdio: 'ignore', timeout: 60_000 })
        } catch {
          /* reported by the checks below */
        }
      }
      await deleteBridge(bridge).catch(() => undefined)
      killProcessesUnder(stateDir)
      for (const d of [lxcpath, stateDir, home]) rmSync(d, { recursive: true, force: true })
    })

    const ready = await up.start()
    const ca = readFileSync(ready.caFile)
    let gameVmid = 0

    await t.test('the lxc provider is the default, and the catalogs download from the bridge address', async (t) => {
      const cp = JSON.parse((await up.kubectl('get', 'containerprovider', 'lxc', '-o', 'json')).out)
      t.equal(cp.spec.default, true)
      t.same(cp.spec.lxc, { lxcpath, bridge, subnet: cidr, template: 'busybox' })
      const node = JSON.parse((await up.kubectl('get', 'runtimecatalog', 'node', '-o', 'json')).out)
      const url = new URL(node.spec.versions[0].artifacts[0].url)
      t.equal(url.hostname, bridgeAddress, "the artifact server listens on the bridge's own address")
      t.ok(cp.spec.outbound.allowedSources.includes(`${url.origin}/`), 'and the provider declares it as an outbound source')
      const w = await up.kubectl('wait', '--for=condition=Ready', 'containerprovider/lxc', '--timeout=60s')
      t.equal(w.code, 0, `provider Ready: ${w.err}`)
    })

    await t.test('example GameServer → Ready in its own container → ping at its address → listed by the portal', async (t) => {
      const applied = await up.kubectl('apply', '-f', join(REPO, 'manifests/examples/gameserver.yaml'))
      t.equal(applied.code, 0, applied.err)
      const w = await up.kubectl('wait', '--for=condition=Ready', 'gameserver/squid', '--timeout=300s')
      t.equal(w.code, 0, `kubectl wait: ${w.err}${w.out}`)
      const gs = JSON.parse((await up.kubectl('get', 'gameserver', 'squid', '-o', 'json')).out)
      gameVmid = gs.status.vmid
      t.equal(gs.status.address, '10.213.98.2', "the first container's fixed address on the bridge")
      t.same(await listLxcNames(lxcpath), [`zlh-${gameVmid}`], 'lxc-ls: one container, for it')
      t.equal((await ping(gs.status.address)).version.name, '1.21.4', 'flying-squid inside the container answers')
      const token = readFileSync(stateLayout(stateDir).adminTokenFile, 'utf8').trim()
      const portal = await gatewayGet(new URL(`${ready.gatewayUrl}/api/servers`), ca, { authorization: `Bearer ${token}` })
      t.equal(portal.status, 200)
      const squid = (JSON.parse(portal.body).items as Array<Record<string, any>>).find((s) => s.name === 'squid')
      t.equal(squid?.address, '10.213.98.2', "the portal shows the container's address")
    })

    await t.test('DevServer → Ready in a second container → zlh ide → the gateway reaches its port 6000', async (t) => {
      // The STAND-IN is served from the bridge address too, and declared on the provider (merged
      // into the list zlh up owns: kubectl's entry survives zlh up's next apply).
      const dir = mkdtempSync(join(tmpdir(), 'zlh-up-lxc-cs-'))
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      const standIn = await buildCodeServerStandIn(dir)
      const server = await startArtifactServer(dir, { host: bridgeAddress })
      t.teardown(() => server.close())
      const patch = await up.kubectl(
        'patch',
        'containerprovider',
        'lxc',
        '--type',
        'json',
        '-p',
        JSON.stringify([{ op: 'add', path: '/spec/outbound/allowedSources/-', value: `${server.baseUrl}/` }]),
      )
      t.equal(patch.code, 0, patch.err)
      const catalog = runtimeCatalog('code-server', [{ artifact: standIn, url: server.url(artifactFileName(standIn)) }], {
        stable: standIn.version,
      })
      writeFileSync(join(dir, 'catalog.yaml'), stringify(catalog))
      const applyCatalog = await up.kubectl('apply', '-f', join(dir, 'catalog.yaml'))
      t.equal(applyCatalog.code, 0, applyCatalog.err)
      const applied = await up.kubectl('apply', '-f', join(REPO, 'manifests/examples/devserver.yaml'))
      t.equal(applied.code, 0, applied.err)
      const w = await up.kubectl('wait', '--for=condition=Ready', 'devserver/workbench', '--timeout=300s')
      t.equal(w.code, 0, `kubectl wait: ${w.err}${w.out}`)
      const ds = JSON.parse((await up.kubectl('get', 'devserver', 'workbench', '-o', 'json')).out)
      t.equal(ds.status.ide.upstream, '10.213.98.3:6000', 'the IDE upstream is the second container on the bridge')
      t.ok(server.requests(artifactFileName(standIn)) >= 1, 'the container downloaded the stand-in over the bridge')
      const ide = await up.zlh('ide', 'workbench', '--state-dir', stateDir, '--timeout', '60')
      t.equal(ide.code, 0, `zlh ide: ${ide.err}`)
      const link = ide.out.trim().split('\n').at(-1) ?? ''
      t.match(link, /^https:\/\/dev-\d+\.localhost:\d+\//, 'an https link on the dev host')
      const page = await openIde(link, ca)
      t.equal(page.status, 200, 'the token was exchanged for a cookie and the request proxied')
      t.match(page.body, /code-server stand-in/, "the answer came from the container's port 6000")
      t.same(await listLxcNames(lxcpath), [`zlh-${gameVmid}`, `zlh-${ds.status.vmid}`].sort(), 'one container per server')
    })

    await t.test('SIGINT → the containers keep running → the next start adopts them', async (t) => {
      t.equal(await up.stop('SIGINT'), 0, 'zlh up stops gracefully (exit 0)')
      for (const name of await listLxcNames(lxcpath)) {
        t.match(execFileSync('lxc-info', ['-P', lxcpath, '-n', name, '-s'], { encoding: 'utf8' }), /RUNNING/, `${name} still runs`)
      }
      t.equal((await ping('10.213.98.2')).version.name, '1.21.4', 'the game answers with the control plane down')
      await up.start()
      const w = await up.kubectl('wait', '--for=condition=Ready', 'gameserver/squid', 'devserver/workbench', '--timeout=180s')
      t.equal(w.code, 0, `kubectl wait: ${w.err}${w.out}`)
      const gs = JSON.parse((await up.kubectl('get', 'gameserver', 'squid', '-o', 'json')).out)
      t.equal(gs.status.vmid, gameVmid, 'the same container')
      t.equal(gs.status.restarts ?? 0, 0, 'the game was not restarted')
      t.equal((await listLxcNames(lxcpath)).length, 2, 'no new container')
    })

    await t.test('delete both → containers gone from lxc-ls', async (t) => {
      const d = await up.kubectl('delete', 'gameserver/squid', 'devserver/workbench', '--wait=true', '--timeout=120s')
      t.equal(d.code, 0, `kubectl delete: ${d.err}${d.out}`)
      t.same(await listLxcNames(lxcpath), [], 'lxc-ls -P <lxcpath> is empty')
    })
  })
