// A failed code-server build is visible on the DevServer and recovers without a restart: the
// system as `zlh up` assembles it (embedded API server, controller and gateway in-process, the
// process provider's real agent) with a fake npm that fails like a machine without libkrb5-dev.
// The DevServer says CodeServerBuilding while it builds, CodeServerBuildFailed with npm's last
// lines and the package to install, with a Warning Event; once the cause is gone the next
// attempt (after the backoff) builds, the catalog appears and the DevServer becomes Ready.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { startSystem } from '../../src/cli/up/system.ts'
import { Progress } from '../../src/cli/progress.ts'
import { Client, isNotFound, type KObject } from '../../src/runtime/index.ts'
import { killProcessesUnder } from '../e2e/harness.ts'
import { fakeNpm, FAKE_VERSION, setFail } from '../cli/up/fake-npm.ts'

t.setTimeout(280_000)

type Cond = { type: string; status: string; reason: string; message: string }
const DEVSERVER = { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer' }
const EVENT = { apiVersion: 'v1', kind: 'Event' }

t.test('failed build → reason, npm lines, Warning Event → cause removed → Ready, no restart', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'zlh-csb-state-'))
  const work = mkdtempSync(join(tmpdir(), 'zlh-csb-'))
  const fake = fakeNpm(join(work, 'fake'), { gated: true })
  setFail(fake, true)
  const out = new PassThrough()
  let printed = ''
  out.on('data', (b: Buffer) => {
    printed += b.toString()
  })
  const sys = await startSystem({
    stateDir,
    progress: new Progress({ json: true, out, heartbeatMs: 200 }),
    codeServerBuild: {
      cacheDir: join(work, 'cache', 'code-server'),
      npm: fake.npm,
      firstRetryMs: 1500,
      maxRetryMs: 3000,
      intervalMs: 300,
      publishEveryMs: 300,
    },
  })
  const client = new Client(sys.api.kubeConfig())
  t.teardown(async () => {
    await client.delete(DEVSERVER, 'ide', 'default').catch(() => {})
    for (let i = 0; i < 100; i++) {
      try {
        await client.get(DEVSERVER, 'ide', 'default')
      } catch (err) {
        if (isNotFound(err)) break
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    client.close()
    await sys.stop()
    killProcessesUnder(stateDir)
    rmSync(stateDir, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  })

  const waitFor = async (
    what: string,
    pred: (ds: KObject & { status?: { conditions?: Cond[]; phase?: string } }) => boolean,
    ms = 120_000,
  ): Promise<KObject & { status?: { conditions?: Cond[]; phase?: string } }> => {
    const end = Date.now() + ms
    let last: KObject | undefined
    while (Date.now() < end) {
      last = await client.get(DEVSERVER, 'ide', 'default')
      if (pred(last)) return last
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error(`timed out waiting for ${what}; last status: ${JSON.stringify((last as { status?: unknown } | undefined)?.status)}`)
  }
  const cond = (ds: { status?: { conditions?: Cond[] } }, type: string): Cond | undefined =>
    ds.status?.conditions?.find((c) => c.type === type)

  await client.create({
    ...DEVSERVER,
    metadata: { name: 'ide', namespace: 'default' },
    spec: { codeServer: { enabled: true }, resources: { cores: 1, memoryMiB: 512, diskGiB: 1 } },
  } as KObject)

  // While npm runs (held at the gate), the DevServer says it is building, with progress.
  const building = await waitFor(
    'CodeServerBuilding',
    (ds) =>
      cond(ds, 'RuntimeResolved')?.reason === 'CodeServerBuilding' &&
      /MB of ≈\d+ MB installed, \d+s/.test(cond(ds, 'RuntimeResolved')?.message ?? ''),
  )
  t.match(cond(building, 'Ready'), { status: 'False', reason: 'CodeServerBuilding' })
  t.match(cond(building, 'CodeServerReady')?.message, /^building code-server \(code-server@4\) for this DevServer: \d+ MB of/)
  writeFileSync(fake.gateFile, '')

  const failed = await waitFor('CodeServerBuildFailed', (ds) => cond(ds, 'RuntimeResolved')?.reason === 'CodeServerBuildFailed')
  const c = cond(failed, 'RuntimeResolved') as Cond
  t.match(
    c.message,
    /^code-server build attempt 1 failed; retrying at \S+: npm install code-server@4 failed \(exit 1\): the Kerberos headers are missing: install libkrb5-dev/,
  )
  t.match(c.message, /krb5-config: not found/, "npm's own last lines")
  t.notMatch(c.message, /npm_abcdefghijklmnopqrstuvwxyz0123/, 'no token')
  t.equal(cond(failed, 'Ready')?.reason, 'CodeServerBuildFailed')
  t.equal(cond(failed, 'CodeServerReady')?.reason, 'CodeServerBuildFailed')
  t.equal(failed.status?.phase, 'Pending')

  const events = async (): Promise<Array<KObject & { type?: string; reason?: string; message?: string }>> =>
    (
      await client.list<KObject & { type?: string; reason?: string; message?: string; involvedObject?: { name?: string } }>(EVENT, {
        namespace: 'default',
      })
    ).items.filter((e) => e.involvedObject?.name === 'ide')
  let warning: (KObject & { type?: string; message?: string }) | undefined
  for (let i = 0; i < 100 && warning === undefined; i++) {
    warning = (await events()).find((e) => e.reason === 'CodeServerBuildFailed')
    if (warning === undefined) await new Promise((r) => setTimeout(r, 200))
  }
  t.equal(warning?.type, 'Warning', 'a Warning Event on the DevServer')
  t.match(warning?.message, /install libkrb5-dev/)

  // The cause goes away; the builder retries on its own (backoff), the same process throughout.
  setFail(fake, false)
  const ready = await waitFor('Ready', (ds) => cond(ds, 'Ready')?.status === 'True', 180_000)
  t.equal(cond(ready, 'RuntimeResolved')?.reason, 'Resolved')
  t.match(cond(ready, 'RuntimeResolved')?.message, new RegExp(`code-server ${FAKE_VERSION.replaceAll('.', '\\.')}`))
  t.notOk(ready.metadata?.annotations?.['zerolaghub.dev/code-server-build'], 'the build annotation is removed once built')
  t.ok(fake.runs().length >= 2, 'npm ran again without a restart')
  t.same(
    fake.runs().flatMap((r) => Object.keys(r).filter((k) => /^npm_/i.test(k))),
    [],
    `npm saw no npm_* variable (this test's own environment has ${Object.keys(process.env).filter((k) => /^npm_/i.test(k)).length})`,
  )

  const lines = printed
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  t.ok(
    lines.some(
      (l) => l.msg === 'code-server build failed' || (l.msg === 'step failed' && String(l.step).startsWith('building code-server')),
    ),
    '--json: the failure is a JSON line',
  )
  t.ok(
    lines.some((l) => l.msg === 'step progress' && String(l.step).startsWith('building code-server')),
    '--json: progress lines while building',
  )
  t.ok(
    lines.some((l) => l.msg === 'step done' && String(l.step).startsWith('building code-server')),
    '--json: the build step ends',
  )
})
