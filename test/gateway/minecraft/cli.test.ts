// `zlh gateway --minecraft-listen` as a process against the embedded API server: the router listens
// where it was told and says so on stdout, routes by --game-suffix, and rejects a bad hold time before
// starting anything.
import t from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { startTestEnv } from '../../../src/runtime/envtest/index.ts'
import { CRDS } from '../portal/portal-env.ts'
import { motdText, ping } from './mc-fixtures.ts'

const ZLH = join(import.meta.dirname, '..', '..', '..', 'bin', 'zlh.js')

t.test('zlh gateway --minecraft-listen --game-suffix', async (t) => {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  const child = spawn(
    process.execPath,
    [
      ZLH,
      'gateway',
      '--kubeconfig',
      env.server.kubeconfigPath,
      '--listen',
      '127.0.0.1:0',
      '--ide-suffix',
      'ide.test',
      '--game-suffix',
      'play.test',
      '--minecraft-listen',
      '127.0.0.1:0',
      '--admin-token-file',
      join(t.testdir(), 'admin-token'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (c) => {
    out += c
  })
  child.stderr.on('data', (c) => {
    err += c
  })
  const until = Date.now() + 60_000
  while (!/"gateway serving"/.test(out)) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`gateway did not start: ${out}\n${err}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const line = JSON.parse(out.split('\n').find((l) => l.includes('minecraft router listening'))!)
  t.equal(line.gameSuffix, 'play.test')
  const port = Number(/^127\.0\.0\.1:(\d+)$/.exec(line.address)?.[1])
  t.ok(port > 0, `listening on ${line.address}`)
  t.equal(motdText(await ping(port, 'nothing.play.test')), 'There is no game server at this address. Check the server address you typed.')
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM → clean exit')
})

t.test('zlh gateway --minecraft-hold-seconds out of range → exit 2 with the flag named', async (t) => {
  const child = spawn(
    process.execPath,
    [
      ZLH,
      'gateway',
      '--listen',
      '127.0.0.1:0',
      '--ide-suffix',
      'x.test',
      '--minecraft-listen',
      '127.0.0.1:0',
      '--minecraft-hold-seconds',
      '90',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let err = ''
  child.stderr.on('data', (c) => {
    err += c
  })
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
  t.equal(code, 2)
  t.match(err, /--minecraft-hold-seconds 90/)
})
