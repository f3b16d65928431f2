// DevServer end to end with the code-server STAND-IN (a small HTTP program packaged like
// code-server: bin/code-server, --bind-addr, /healthz — see test/e2e/code-server-stand-in.ts):
// example applied → Ready with CodeServerReady and status.ide; codeServer.enabled false → stopped;
// delete with the controller SIGKILLed right after → container gone. Plus orphan collection: a
// container tagged by this control plane whose resource does not exist is deleted after the grace.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { get } from 'node:http'
import { join } from 'node:path'
import { REPO } from '../apiserver/harness.ts'
import { ProcessBackend } from '../../src/providers/index.ts'
import { startGatewayService } from '../../src/gateway/service.ts'
import { buildArtifacts, condition, IDE_SUFFIX, startE2E } from './harness.ts'

t.setTimeout(10 * 60_000)

/** code-server stand-in processes of this test. */
function standIns(stateDir: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    try {
      if (
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('stand-in.cjs') &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(stateDir)
      )
        out.push(pid)
    } catch {
      /* gone */
    }
  }
  return out
}

t.test('DevServer and orphans', async (t) => {
  const art = await buildArtifacts(t)
  const e = await startE2E(t, art)
  t.teardown(() => {
    if (!t.passing()) console.error(e.logs().split('\n').slice(-60).join('\n'))
  })
  await e.startController()

  await t.test('the example DevServer gets its runtimes, code-server and IDE address', async (t) => {
    await e.apply(readFileSync(join(REPO, 'manifests/examples/devserver.yaml'), 'utf8'))
    const w = await e.h.kubectl(['wait', '--for=condition=Ready', 'devserver/workbench', '--timeout=240s'], { timeoutMs: 250_000 })
    t.equal(w.code, 0, `kubectl wait: ${w.stderr}${w.stdout}`)
    const ds = await e.get('devserver', 'workbench')
    t.equal(ds.status.phase, 'Running')
    t.equal(condition(ds, 'CodeServerReady')?.status, 'True')
    t.same(
      ds.status.runtimes.map((r: any) => [r.name, r.version]),
      [['node', art.node.version]],
    )
    t.match(ds.status.ide, {
      host: `dev-${ds.status.vmid}.${IDE_SUFFIX}`,
      url: `https://dev-${ds.status.vmid}.${IDE_SUFFIX}/`,
      upstream: /^127\.0\.0\.1:\d+$/,
    })
    t.not(ds.status.ide.upstream, '127.0.0.1:6000', 'a code-server port of its own (process provider), not the shared default')
    t.equal(standIns(e.stateDir).length, 1, 'one code-server (stand-in) runs')
    t.match(
      readFileSync(`/proc/${standIns(e.stateDir)[0]}/cmdline`, 'utf8'),
      `--bind-addr\0${ds.status.ide.upstream}\0`,
      'bound to the loopback upstream only',
    )
    // Plain http: fetch() refuses some ports (WHATWG "bad ports").
    const health = await new Promise<{ status: string }>((resolve, reject) => {
      get(`http://${ds.status.ide.upstream}/healthz`, (res) => {
        let b = ''
        res.on('data', (c) => {
          b += c
        })
        res.on('end', () => resolve(JSON.parse(b)))
      }).on('error', reject)
    })
    t.equal(health.status, 'alive', 'and answers /healthz at status.ide.upstream')
    const gw = await startGatewayService({
      client: e.gatewayClient(),
      listen: '127.0.0.1:0',
      ideSuffix: IDE_SUFFIX,
      publicScheme: 'https',
      publicPort: 'listen',
    })
    t.teardown(() => gw.close())
    const route = gw.routes.lookup(ds.status.vmid)
    t.match(
      route?.target,
      { host: '127.0.0.1', port: Number(ds.status.ide.upstream.split(':')[1]) },
      "the gateway proxies the IDE to the container's own code-server",
    )
    // The IDE opens the container's real workspace: on the process provider it is under the
    // container's directory, not /home/dev/workspace on the host.
    const folder: string = ds.status.ide.folder
    t.match(folder, /^\/.+\/home\/dev\/workspace$/, 'status.ide.folder: the workspace as code-server sees it')
    t.ok(folder.startsWith(`${e.stateDir}/`), "under the container's directory (process provider)")
    t.ok(statSync(folder).isDirectory(), 'and it exists')
    t.ok(readFileSync(`/proc/${standIns(e.stateDir)[0]}/cmdline`, 'utf8').endsWith(`\0${folder}\0`), 'code-server opens that folder')
    t.equal(readlinkSync(`/proc/${standIns(e.stateDir)[0]}/cwd`), folder, 'and starts (its terminal too) in it')
    t.equal(route?.folder, folder, 'the gateway route carries it')
    t.match(await e.h.k('get', 'zlh'), /devserver\.zerolaghub\.dev\/workbench\s+Running\s+node/)
  })

  await t.test('codeServer.enabled false → code-server stopped, condition says so', async (t) => {
    await e.h.k('patch', 'devserver', 'workbench', '--type=merge', '-p', '{"spec":{"codeServer":{"enabled":false}}}')
    const ds = await e.waitFor(
      'code-server disabled',
      'devserver',
      'workbench',
      (o: any) => condition(o, 'CodeServerReady')?.reason === 'Disabled' && o.status.observedGeneration === o.metadata.generation,
      60_000,
    )
    t.equal(condition(ds, 'Ready')?.status, 'True', 'Ready without the IDE')
    t.same(standIns(e.stateDir), [], 'code-server stopped')
    await e.h.k('patch', 'devserver', 'workbench', '--type=merge', '-p', '{"spec":{"codeServer":{"enabled":true}}}')
    await e.waitFor(
      'code-server back',
      'devserver',
      'workbench',
      (o: any) => condition(o, 'CodeServerReady')?.status === 'True' && o.status.observedGeneration === o.metadata.generation,
      60_000,
    )
  })

  await t.test('orphaned containers are deleted after the grace period, with an Event', async (t) => {
    const backend = e.backend()
    const ownerUid = randomUUID()
    const c = await backend.ensure({
      identity: { ownerUid, kind: 'GameServer', namespace: 'default', name: 'ghost' },
      resources: { cores: 1, memoryMiB: 256, diskGiB: 1 },
      agent: { token: 'a'.repeat(64) },
    })
    const deadline = Date.now() + 60_000
    while ((await backend.list()).some((x) => x.ownerUid === ownerUid)) {
      if (Date.now() > deadline) throw new Error('orphan not collected')
      await new Promise((r) => setTimeout(r, 300))
    }
    t.pass(`orphan container ${c.vmid} deleted`)
    const events = JSON.parse(await e.h.k('get', 'events', '-A', '--field-selector', 'reason=OrphanDeleted', '-o', 'json')).items
    t.match(events[0]?.message, new RegExp(`deleted container ${c.vmid}: it belonged to GameServer default/ghost`))
    t.ok((await backend.list()).length === 1, 'the DevServer container is untouched')
  })

  await t.test('a server whose provider is gone for good: reported, finalizer released after the grace', async (t) => {
    await e.apply({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'ContainerProvider',
      metadata: { name: 'p2' },
      spec: { type: 'process', process: { portRangeStart: e.portBase + 40 } },
    })
    await e.apply({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'DevServer',
      metadata: { name: 'lonely', namespace: 'default' },
      spec: { runtimes: [], codeServer: { enabled: false }, placement: { providerRef: { name: 'p2' } } },
    })
    const ds = await e.waitFor('lonely Ready', 'devserver', 'lonely', (o: any) => condition(o, 'Ready')?.status === 'True', 120_000)
    await e.h.k('delete', 'containerprovider', 'p2')
    await e.h.k('delete', 'devserver', 'lonely', '--wait=false')
    await e.h.k('wait', '--for=delete', 'devserver/lonely', '--timeout=60s')
    const events = JSON.parse(
      await e.h.k('get', 'events', '--field-selector', 'involvedObject.name=lonely,reason=ContainerAbandoned', '-o', 'json'),
    ).items
    t.match(
      events[0]?.message,
      new RegExp(`ContainerProvider p2 .*does not exist.*container ${ds.status.vmid} could not be deleted`),
      'the abandoned container is reported with its vmid',
    )
    t.match(e.logs(), /container abandoned: its provider is gone/, 'and logged')
    const p2 = new ProcessBackend({
      rootDir: join(e.stateDir, 'containers', 'p2'),
      portRangeStart: e.portBase + 40,
      cliPath: join(REPO, 'bin/zlh.js'),
    })
    for (const c of await p2.list()) await p2.delete({ ownerUid: c.ownerUid, vmid: c.vmid })
  })

  await t.test('delete with the controller SIGKILLed → container gone, finalizer released', async (t) => {
    const ds = await e.get('devserver', 'workbench')
    await e.h.k('delete', 'devserver', 'workbench', '--wait=false')
    await e.controller?.kill9()
    await e.startController()
    await e.h.k('wait', '--for=delete', 'devserver/workbench', '--timeout=120s')
    t.notOk(
      (await e.backend().list()).some((c) => c.ownerUid === ds.metadata.uid),
      'container deleted',
    )
    t.same(standIns(e.stateDir), [], 'code-server stopped before the delete')
  })
})
