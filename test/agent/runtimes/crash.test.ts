// Crash safety: the agent (a child process) is SIGKILLed at every stage of an upgrade; a
// restarted agent must find the old or the new version complete, never a half-installed one,
// with staging cleaned. Kills come from outside (during download/extraction) or from the
// agent's fault points (ZLH_AGENT_FAULT) at the stages between.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn, execFileSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { randomBytes } from 'node:crypto'
import { startTestAgent } from '../helpers.ts'
import { runtimeTarball, sha256, startArtifactServer } from '../artifacts.ts'

const cli = new URL('../../../src/cli/main.ts', import.meta.url).pathname

async function spawnAgent(
  root: string,
  tokenFile: string,
  fault?: string,
): Promise<{ child: ChildProcess; url: string; exited: Promise<void> }> {
  const child = spawn(
    process.execPath,
    [cli, 'agent', '--root', root, '--listen', '127.0.0.1:0', '--token-file', tokenFile, '--install-grace-ms', '300'],
    {
      env: { ...process.env, ZLH_AGENT_FAULT: fault ?? '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      try {
        const ev = JSON.parse(line)
        if (ev.msg === 'agent listening') resolve(ev.url)
      } catch {
        /* not JSON */
      }
    })
    child.once('exit', (code) => reject(new Error(`agent exited (${code}) before listening`)))
  })
  return { child, url, exited }
}

function snapshot(root: string): { current: string | null; versions: Record<string, string>; staging: string[]; tmpLinks: string[] } {
  const dir = path.join(root, 'opt/zlh/runtimes/tool')
  const current = fs.existsSync(path.join(dir, 'current')) ? fs.readlinkSync(path.join(dir, 'current')) : null
  const versions: Record<string, string> = {}
  for (const v of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (v === 'current' || v.startsWith('.')) continue
    // A version dir must be complete: its bin runs and prints its own version.
    versions[v] = execFileSync(path.join(dir, v, 'bin/tool'), { encoding: 'utf8' }).trim()
  }
  const stagingDir = path.join(root, 'opt/zlh/.staging')
  return {
    current,
    versions,
    staging: fs.existsSync(stagingDir) ? fs.readdirSync(stagingDir) : [],
    tmpLinks: fs.existsSync(dir) ? fs.readdirSync(dir).filter((e) => e.startsWith('.current')) : [],
  }
}

const v1 = runtimeTarball('tool', '1.0')
const v2 = runtimeTarball('tool', '2.0', [], 2 * 1024 * 1024)

const cases = [
  { label: 'during download and extraction', kill: 'outside', expectNew: false },
  { label: 'after download+extraction, before verify', kill: 'after-download', expectNew: false },
  { label: 'after verify, before commit', kill: 'after-verify', expectNew: false },
  { label: 'after the rename into place, before the switch', kill: 'after-commit', expectNew: true },
  { label: 'between creating the new link and renaming it over current', kill: 'after-link-tmp', expectNew: true },
] as const

for (const c of cases) {
  t.test(`SIGKILL ${c.label}`, async (t) => {
    const root = t.testdir()
    const tokenFile = path.join(root, '..', `${path.basename(root)}.token`)
    const token = randomBytes(24).toString('hex')
    fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
    t.teardown(() => fs.rmSync(tokenFile, { force: true }))
    let stalled!: () => void
    const reachedStall = new Promise<void>((r) => {
      stalled = r
    })
    const server = await startArtifactServer()
    t.teardown(() => server.close())
    server.add('v1.tgz', v1)
    server.add('v2.tgz', v2, c.kill === 'outside' ? { kind: 'stall', bytes: v2.length >> 1, onStall: () => stalled() } : { kind: 'ok' })
    const req = (v: string, file: string, body: Buffer) => ({
      name: 'tool',
      version: v,
      url: server.url(file),
      outbound: server.outbound,
      sha256: sha256(body),
      verify: { command: ['tool'], expectOutput: `tool ${v}` },
    })

    // 1.0 installed and current before the crash.
    const before = await startTestAgent(root)
    t.equal((await before.request('/runtimes', { method: 'POST', json: req('1.0', 'v1.tgz', v1) })).status, 200)
    await before.close()

    const { child, url, exited } = await spawnAgent(root, tokenFile, c.kill === 'outside' ? undefined : c.kill)
    t.teardown(() => {
      child.kill('SIGKILL')
    })
    const upgrade = fetch(`${url}/runtimes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(req('2.0', 'v2.tgz', v2)),
    }).catch((err: Error) => err)
    if (c.kill === 'outside') {
      await reachedStall
      // Wait until extraction is under way in staging, then kill.
      const staging = path.join(root, 'opt/zlh/.staging')
      const deadline = Date.now() + 30_000
      const extracting = (): boolean => fs.readdirSync(staging).some((d) => fs.existsSync(path.join(staging, d, 'tree/tool-2.0/bin/tool')))
      while (!extracting() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      t.ok(extracting(), 'killed with files half-extracted in staging')
      child.kill('SIGKILL')
    }
    await exited
    t.equal(child.signalCode, 'SIGKILL', 'the agent died by SIGKILL')
    t.type(await upgrade, Error, 'the upgrade request was cut off')

    const after = await startTestAgent(root)
    t.teardown(() => after.close())
    const disk = snapshot(root)
    t.same(disk.staging, [], 'staging cleaned at restart')
    t.same(disk.tmpLinks, [], 'no temp links')
    t.equal(disk.current, '1.0', 'the old version is still current')
    t.same(
      disk.versions,
      c.expectNew ? { '1.0': 'tool 1.0', '2.0': 'tool 2.0' } : { '1.0': 'tool 1.0' },
      'every version present is complete',
    )
    const listed = (await (await after.request('/runtimes')).json()) as any
    t.same(listed.runtimes[0].versions.map((v: any) => v.version).sort(), Object.keys(disk.versions).sort(), 'the API agrees with the disk')

    // The retried upgrade completes (without a download when 2.0 was already committed).
    server.behave('v2.tgz', { kind: 'ok' })
    const downloadsBefore = server.count('v2.tgz')
    const retry = (await (await after.request('/runtimes', { method: 'POST', json: req('2.0', 'v2.tgz', v2) })).json()) as any
    t.match(retry, { current: '2.0', downloaded: !c.expectNew })
    t.equal(server.count('v2.tgz') - downloadsBefore, c.expectNew ? 0 : 1)
    t.equal(snapshot(root).versions['2.0'], 'tool 2.0')
  })
}

t.test('SIGTERM during an install: the request is answered, the install rolled back, exit 0', async (t) => {
  const root = t.testdir()
  const tokenFile = path.join(root, '..', `${path.basename(root)}.token`)
  const token = randomBytes(24).toString('hex')
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 })
  t.teardown(() => fs.rmSync(tokenFile, { force: true }))
  let stalled!: () => void
  const reachedStall = new Promise<void>((r) => {
    stalled = r
  })
  const server = await startArtifactServer()
  t.teardown(() => server.close())
  server.add('v2.tgz', v2, { kind: 'stall', bytes: v2.length >> 1, onStall: () => stalled() })
  const { child, url, exited } = await spawnAgent(root, tokenFile)
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  const pending = fetch(`${url}/runtimes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tool', version: '2.0', url: server.url('v2.tgz'), outbound: server.outbound, sha256: sha256(v2) }),
  })
  await reachedStall
  child.kill('SIGTERM')
  const res = await pending
  t.equal(res.status, 503)
  t.equal(((await res.json()) as any).code, 'INSTALL_ABORTED')
  await exited
  t.equal(child.exitCode, 0, 'clean exit')
  t.same(fs.readdirSync(path.join(root, 'opt/zlh/.staging')), [], 'rolled back')
  t.notOk(fs.existsSync(path.join(root, 'opt/zlh/runtimes/tool')))
})
