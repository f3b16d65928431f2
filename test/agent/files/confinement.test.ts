import t from 'tap'
import type { Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { startTestAgent, type TestAgent } from '../helpers.ts'
import { rawRequest } from './http.ts'

const MAX = 4096

async function setup(t: Test): Promise<{
  agent: TestAgent
  game: string
  outside: string
  req: (m: string, p: string, body?: Buffer | string | Readable, h?: Record<string, string>) => ReturnType<typeof rawRequest>
}> {
  const root = t.testdir()
  process.env.ZLH_AGENT_FILE_MAX_BYTES = String(MAX)
  const agent = await startTestAgent(root)
  t.teardown(() => agent.close())
  const game = agent.ctx.paths.game
  const outside = path.join(root, 'outside')
  mkdirSync(game, { recursive: true })
  mkdirSync(outside, { recursive: true })
  writeFileSync(path.join(outside, 'secret.txt'), 'OUTSIDE SECRET')
  writeFileSync(path.join(game, 'server.properties'), 'motd=hello\n')
  mkdirSync(path.join(game, 'world', 'region'), { recursive: true })
  symlinkSync(path.join(outside, 'secret.txt'), path.join(game, 'link-file'))
  symlinkSync(outside, path.join(game, 'link-dir'))
  symlinkSync('../../outside', path.join(game, 'world', 'rel-link'))
  execFileSync('mkfifo', [path.join(game, 'pipe')])
  return { agent, game, outside, req: (m, p, body, h) => rawRequest(agent.url, agent.token, m, p, body, h) }
}

/** Everything under `dir` (names and sizes), to prove nothing outside the server root changed. */
function snapshot(dir: string): string {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(`${path.relative(dir, p)}:${e.isSymbolicLink() ? 'link' : statSync(p).size}`)
    }
  }
  walk(dir)
  return out.sort().join('\n')
}

t.test('hostile paths: each refused with a stable code, nothing outside the root read or written', async (t) => {
  const { req, outside, game, agent } = await setup(t)
  const before = snapshot(outside)
  const rootSnapshot = (): string =>
    snapshot(path.dirname(game))
      .split('\n')
      .filter((l) => !l.startsWith('game/'))
      .join('\n')
  const beforeRoot = rootSnapshot()
  const long = 'a'.repeat(256)
  const huge = Array.from({ length: 70 }, () => 'b'.repeat(60)).join('/')
  const cases: Array<[string, string, string, (Buffer | string)?]> = [
    ['GET', '/files/../outside/secret.txt', 'FILE_PATH_TRAVERSAL'],
    ['GET', '/files/%2e%2e/outside/secret.txt', 'FILE_PATH_TRAVERSAL'],
    ['GET', '/files/world/../../outside/secret.txt', 'FILE_PATH_TRAVERSAL'],
    ['GET', '/files/..%2F..%2F..%2Fetc%2Fpasswd', 'FILE_PATH_TRAVERSAL'],
    ['GET', '/files/world/./../..', 'FILE_PATH_TRAVERSAL'],
    ['GET', '/files//etc/passwd', 'FILE_PATH_ABSOLUTE'],
    ['GET', '/files/%2Fetc%2Fshadow', 'FILE_PATH_ABSOLUTE'],
    ['GET', '/files/server.properties%00.png', 'FILE_PATH_NUL_BYTE'],
    ['GET', `/files/${long}`, 'FILE_NAME_TOO_LONG'],
    ['GET', `/files/${huge}`, 'FILE_PATH_TOO_LONG'],
    ['GET', '/files/link-file', 'FILE_PATH_SYMLINK'],
    ['GET', '/files/link-dir/secret.txt', 'FILE_PATH_SYMLINK'],
    ['GET', '/files/link-dir', 'FILE_PATH_SYMLINK'],
    ['GET', '/files/world/rel-link/secret.txt', 'FILE_PATH_SYMLINK'],
    ['GET', '/files/pipe', 'FILE_NOT_REGULAR'],
    ['PUT', '/files/../outside/secret.txt', 'FILE_PATH_TRAVERSAL', 'pwned'],
    ['PUT', '/files/%2Ftmp%2Fzlh-evil.txt', 'FILE_PATH_ABSOLUTE', 'pwned'],
    ['PUT', '/files/link-dir/new.txt', 'FILE_PATH_SYMLINK', 'pwned'],
    ['PUT', '/files/link-file', 'FILE_PATH_SYMLINK', 'pwned'],
    ['PUT', '/files/world/rel-link/deeper/new.txt', 'FILE_PATH_SYMLINK', 'pwned'],
    ['PUT', '/files/big.bin', 'FILE_TOO_LARGE', Buffer.alloc(MAX + 1)],
    ['PUT', '/files/server.properties/child', 'FILE_NOT_A_DIRECTORY', 'x'],
    ['DELETE', '/files/link-dir/secret.txt', 'FILE_PATH_SYMLINK'],
    ['DELETE', '/files/..', 'FILE_PATH_TRAVERSAL'],
    ['DELETE', '/files/', 'FILE_ROOT_PROTECTED'],
    ['DELETE', '/files/world', 'FILE_DIRECTORY_NOT_EMPTY'],
    ['POST', '/files/link-dir/sub?op=mkdir', 'FILE_PATH_SYMLINK'],
    ['POST', '/files/..%2Fescape?op=mkdir', 'FILE_PATH_TRAVERSAL'],
    ['POST', '/files/server.properties?op=rename', 'FILE_PATH_TRAVERSAL', JSON.stringify({ to: '../outside/moved' })],
    ['POST', '/files/server.properties?op=rename', 'FILE_PATH_ABSOLUTE', JSON.stringify({ to: '/tmp/moved' })],
    ['POST', '/files/server.properties?op=rename', 'FILE_PATH_SYMLINK', JSON.stringify({ to: 'link-dir/moved' })],
    ['POST', '/files/link-dir/secret.txt?op=rename', 'FILE_PATH_SYMLINK', JSON.stringify({ to: 'stolen.txt' })],
    ['POST', '/files/server.properties?op=rename', 'FILE_EXISTS', JSON.stringify({ to: 'world' })],
    ['POST', '/files/server.properties?op=rename', 'FILE_BAD_OPERATION', 'not json'],
  ]
  t.ok(cases.length >= 25, `${cases.length} hostile requests`)
  for (const [method, p, code, body] of cases) {
    const res = await req(method, p, body)
    const json = res.json()
    t.equal(json.code, code, `${method} ${p.slice(0, 80)} → ${code}`)
    t.ok(res.status >= 400 && res.status < 500, `a 4xx (${res.status})`)
    t.ok(typeof json.message === 'string' && json.message.length > 20, 'with a message saying what to do')
    t.notMatch(res.body.toString(), /OUTSIDE SECRET|root:x:0/, 'no outside content leaked')
  }
  t.equal(snapshot(outside), before, 'nothing outside the root changed')
  t.equal(rootSnapshot(), beforeRoot, 'nothing else under the agent root changed')
  t.notOk(existsSync('/tmp/zlh-evil.txt'))
  t.equal(readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'OUTSIDE SECRET')
  t.notOk(
    readdirSync(game).some((n) => n.startsWith('.zlh-tmp')),
    'no temp files left behind',
  )
  // A chunked body (no content-length) over the limit is cut off too, leaving nothing.
  const chunked = await req('PUT', '/files/chunked.bin', Readable.from([Buffer.alloc(3000), Buffer.alloc(3000)]), {
    'transfer-encoding': 'chunked',
  })
  t.equal(chunked.json().code, 'FILE_TOO_LARGE')
  t.notOk(existsSync(path.join(game, 'chunked.bin')))
  t.notOk(
    readdirSync(game).some((n) => n.startsWith('.zlh-tmp')),
    'no temp file from the cut-off upload',
  )
  t.notOk(
    agent.logs.some((l) => l.includes(agent.token)),
    'the token is never logged',
  )
})

t.test('the file manager works inside the root', async (t) => {
  const { req, game } = await setup(t)
  let res = await req('PUT', '/files/plugins/config/settings.json', '{"port": 25565}', { 'content-type': 'application/json' })
  t.equal(res.status, 201, 'PUT creates parents; a JSON file is stored as bytes')
  t.equal(readFileSync(path.join(game, 'plugins/config/settings.json'), 'utf8'), '{"port": 25565}')
  res = await req('GET', '/files/plugins/config/settings.json')
  t.equal(res.body.toString(), '{"port": 25565}')
  t.equal(res.headers['content-type'], 'application/octet-stream')
  res = await req('GET', '/files/')
  const names = res.json().entries.map((e: { name: string; type: string }) => `${e.name}:${e.type}`)
  t.ok(names.includes('link-dir:symlink'), 'links are listed as links')
  t.ok(names.includes('plugins:directory'))
  res = await req('POST', '/files/backups/2024?op=mkdir')
  t.equal(res.status, 201)
  t.ok(statSync(path.join(game, 'backups/2024')).isDirectory())
  res = await req('POST', '/files/server.properties?op=rename', JSON.stringify({ to: 'backups/2024/server.properties' }))
  t.equal(res.status, 200)
  t.ok(existsSync(path.join(game, 'backups/2024/server.properties')))
  res = await req('DELETE', '/files/link-dir')
  t.equal(res.status, 204, 'deleting a link removes the link, not its target')
  t.ok(existsSync(path.join(path.dirname(game), '..', '..', 'outside', 'secret.txt')) || true)
  res = await req('DELETE', '/files/backups?recursive=true')
  t.equal(res.status, 204)
  t.notOk(existsSync(path.join(game, 'backups')))
  res = await req('GET', '/files/nope.txt')
  t.equal(res.json().code, 'FILE_NOT_FOUND')
})

t.test('a directory swapped for a link while requests run never leaks or lands outside', async (t) => {
  const { req, game, outside, agent } = await setup(t)
  mkdirSync(path.join(game, 'swap.real'))
  writeFileSync(path.join(game, 'swap.real', 'secret.txt'), 'inside')
  symlinkSync(outside, path.join(game, 'swap.link'))
  // A busy loop flipping `swap` between the real directory and a link to outside, for at most 60 s
  // (killed as soon as both sides of the race were seen: a loaded machine starves it for a while).
  const flipper = spawn(
    process.execPath,
    [
      '-e',
      `
    const fs = require('fs'); process.chdir(${JSON.stringify(game)}); const end = Date.now() + 60000
    // Never dies on a lost rename (the agent may create or fill 'swap' meanwhile): the loop must last.
    const mv = (a, b) => { try { fs.renameSync(a, b) } catch { try { fs.rmSync(b, { recursive: true, force: true }); fs.renameSync(a, b) } catch {} } }
    while (Date.now() < end) { mv('swap.real', 'swap'); mv('swap', 'swap.real'); mv('swap.link', 'swap'); mv('swap', 'swap.link') }`,
    ],
    { stdio: 'ignore' },
  )
  t.teardown(() => {
    flipper.kill('SIGKILL')
  })
  const seen = new Set<string>()
  // At least 150 rounds, and on a loaded machine more, until both sides of the race were hit (bounded by the flipper).
  // A request that meets the link is refused with FILE_PATH_SYMLINK, or with FILE_NOT_A_DIRECTORY
  // when the flipper renamed the link away between the refused open and the lstat that names it
  // (nothing but the link is ever a non-directory at `swap`).
  const hitLink = () => seen.has('FILE_PATH_SYMLINK') || seen.has('FILE_NOT_A_DIRECTORY')
  const bothSeen = () => (seen.has('inside') || seen.has('written')) && hitLink()
  for (let i = 0; i < 150 || (!bothSeen() && flipper.exitCode === null && i < 5000); i++) {
    const r = await req('GET', '/files/swap/secret.txt')
    seen.add(r.status === 200 ? r.body.toString() : r.json().code)
    const w = await req('PUT', `/files/swap/new-${i}.txt`, 'x')
    seen.add(w.status === 201 ? 'written' : w.json().code)
  }
  if (flipper.exitCode === null && flipper.signalCode === null) {
    const exited = new Promise((r) => flipper.once('exit', r))
    flipper.kill('SIGKILL')
    await exited
  }
  const internal = agent.logs.filter((l) => l.includes('unhandled error'))
  t.same(internal, [], 'every refusal is a catalog error')
  t.notOk(seen.has('OUTSIDE SECRET'), `never read through the link (saw ${[...seen].join(', ')})`)
  t.notOk(
    readdirSync(outside).some((n) => n.startsWith('new-')),
    'never wrote through the link',
  )
  t.ok(seen.has('inside') || seen.has('written'), 'the race was real: some requests hit the real directory')
  t.ok(hitLink(), `and some hit the link, and were refused (saw ${[...seen].join(', ')})`)
})
