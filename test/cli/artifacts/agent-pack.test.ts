// `zlh artifacts agent`: the agent as one tarball for container templates. Unpacked where no
// node_modules lies above it and started through its bin/zlh-agent with only Node on PATH, it serves
// the API with the package's version, opens a dev shell (node-pty from the pack) and reads its own
// compile cache, and carries the native game wrapper.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import t from 'tap'
import { extract } from 'tar'
import WebSocket from 'ws'
import { waitForAgent } from '../../../src/providers/agent-probe.ts'
import { sha256File, zlh } from './cli.ts'

const REPO = join(import.meta.dirname, '..', '..', '..')
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }

t.test('the agent tarball runs on its own: API, dev shell and compile cache', async (t) => {
  // Outside the project: nothing can be found in a node_modules above the unpacked files.
  const root = mkdtempSync(join(tmpdir(), 'zlh-agent-pack-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const out = join(root, 'out')
  const built = await zlh(['artifacts', 'agent', '--out', out])
  t.equal(built.code, 0, built.stderr)
  const file = join(out, `zlh-agent-${pkg.version}-x64.tar.gz`)
  t.match(built.stdout, new RegExp(`zlh-agent ${pkg.version} .* sha256 ${sha256File(file)} ${statSync(file).size} bytes`))

  const opt = join(root, 'opt-zlh-agent')
  mkdirSync(opt)
  await extract({ file, cwd: opt })
  t.ok(statSync(join(opt, 'bin', 'zlh-agent')).mode & 0o100, 'bin/zlh-agent is executable')
  t.ok(statSync(join(opt, 'lib', 'game-wrapper')).mode & 0o100, 'the native game wrapper is in it, executable')

  const agentRoot = join(root, 'agent-root')
  mkdirSync(agentRoot)
  const token = randomBytes(24).toString('hex')
  writeFileSync(join(root, 'token'), token)
  const port = 22000 + Math.floor(Math.random() * 8000)
  const child = spawn(
    join(opt, 'bin', 'zlh-agent'),
    ['--root', agentRoot, '--listen', `127.0.0.1:${port}`, '--token-file', join(root, 'token'), '--log-level', 'warn'],
    // Only Node on PATH, and Node's report of each compile-cache decision on stderr.
    {
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    child.kill('SIGTERM')
    await exited
  })
  const url = `http://127.0.0.1:${port}`
  await waitForAgent(url, token, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; agent stderr: ${stderr.slice(-2000)}`)
  })
  const status = (await (await fetch(`${url}/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
    agentVersion?: string
  }
  t.equal(status.agentVersion, pkg.version)
  t.match(
    stderr,
    /V8 code cache for CommonJS \S*opt-zlh-agent\/lib\/agent-main\.cjs was accepted/,
    'its compile cache hits where it was unpacked',
  )

  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/dev/console`, { headers: { authorization: `Bearer ${token}` } })
  t.teardown(() => ws.terminate())
  let output = ''
  const answered = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the dev shell did not answer: ${JSON.stringify(output.slice(-500))}`)), 20_000)
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; data?: string }
      if (msg.type === 'output') output += msg.data
      if (output.includes('pty=42')) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  ws.send(JSON.stringify({ type: 'input', data: 'echo "pty=$((6*7))"\n' }))
  await answered
  t.pass('a dev shell runs through the pack’s own node-pty')
})
