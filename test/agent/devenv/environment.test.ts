// The dev environment is the same in every kind of shell: bash -lc (login), bash -c, sh -c and an
// interactive PTY shell, all started with the environment the agent passes to children.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import * as pty from '@lydell/node-pty'
import { startTestAgent } from '../helpers.ts'
import { runtimeTarball, sha256, startArtifactServer } from '../artifacts.ts'
import { SYSTEM_PATH } from '../../../agent/index.ts'

const probe = 'printf "%s|%s|%s|%s|%s|%s|%s\\n" "$PATH" "$HOME" "$USER" "$LOGNAME" "$TERM" "$(command -v tool)" "$(tool)"'

// Input typed before the shell's line editor is ready may be discarded, so the probe is sent again
// until its answer appears. A shell that never answers is SIGKILLed so no child outlives the test.
function ptyRun(env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const shell = pty.spawn('/bin/bash', ['-i'], { name: 'xterm-256color', cols: 400, rows: 30, cwd, env })
    let out = ''
    // The marker is split in the command so the echoed input line cannot match it.
    const send = () => shell.write(`echo "@""@$(${probe})@""@"\r`)
    const resend = setInterval(send, 2_000)
    const timer = setTimeout(() => {
      clearInterval(resend)
      shell.kill('SIGKILL')
      reject(new Error(`pty shell did not answer: ${JSON.stringify(out)}`))
    }, 30_000)
    shell.onData((d) => {
      out += d
      const m = /@@(.*?)@@/.exec(out.replaceAll('\r', ''))
      if (m) {
        clearTimeout(timer)
        clearInterval(resend)
        shell.kill('SIGKILL')
        resolve(m[1]!)
      }
    })
    send()
  })
}

// A shell that hangs fails the test instead of blocking the whole file.
const run = (file: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }) =>
  execFileSync(file, args, { ...opts, encoding: 'utf8', timeout: 30_000 }).trim()

t.test('PATH, HOME, USER, LOGNAME and TERM agree in every shell, before and after installs', async (t) => {
  const root = t.testdir()
  const server = await startArtifactServer()
  t.teardown(() => server.close())
  const agent = await startTestAgent(root)
  t.teardown(() => agent.close())
  const home = path.join(root, 'home/dev')
  t.ok(fs.statSync(path.join(home, 'workspace')).isDirectory(), 'workspace exists')

  for (const [name, version] of [
    ['tool', '1.0'],
    ['other', '3.1'],
  ] as const) {
    const body = runtimeTarball(name, version)
    server.add(`${name}.tgz`, body)
    const res = await agent.request('/runtimes', {
      method: 'POST',
      json: { name, version, url: server.url(`${name}.tgz`), outbound: server.outbound, sha256: sha256(body) },
    })
    t.equal(res.status, 200)
  }
  const env = agent.ctx.devEnv.environment()
  const runtimes = path.join(root, 'opt/zlh/runtimes')
  const expectedPath = `${runtimes}/other/current/bin:${runtimes}/tool/current/bin:${SYSTEM_PATH}`
  t.equal(env.PATH, expectedPath, 'runtime bins first, then the fixed system PATH')
  // A directory root has no dev user: children run as the agent's user and USER/LOGNAME say so.
  const me = os.userInfo().username
  const expected = [expectedPath, home, me, me, 'xterm-256color', `${runtimes}/tool/current/bin/tool`, 'tool 1.0'].join('|')

  // The caller's own PATH must not leak in: start each shell with a hostile one.
  const hostile = { ...env, PATH: `/tmp/evil:${env.PATH}` }
  const cwd = path.join(home, 'workspace')
  const results: Record<string, string> = {
    'bash -lc (login)': run('/bin/bash', ['-lc', probe], { env, cwd }),
    'bash -c': run('/bin/bash', ['-c', probe], { env, cwd }),
    'sh -c': run('/bin/sh', ['-c', probe], { env, cwd }),
    'bash -lc with a stale PATH': run('/bin/bash', ['-lc', probe], { env: hostile, cwd }),
    'bash -c with a stale PATH': run('/bin/bash', ['-c', probe], { env: hostile, cwd }),
    'pty interactive bash': await ptyRun(env, cwd),
    'pty interactive bash with a stale PATH': await ptyRun(hostile, cwd),
  }
  for (const [shell, got] of Object.entries(results)) t.equal(got, expected, shell)

  // Upgrade + removal rewrite the same source of truth.
  const v2 = runtimeTarball('tool', '2.0')
  server.add('tool2.tgz', v2)
  await agent.request('/runtimes', {
    method: 'POST',
    json: { name: 'tool', version: '2.0', url: server.url('tool2.tgz'), outbound: server.outbound, sha256: sha256(v2) },
  })
  t.equal(run('/bin/bash', ['-lc', 'tool'], { env: agent.ctx.devEnv.environment() }), 'tool 2.0', 'upgrade visible in a login shell')
  await agent.request('/runtimes/other/3.1?force=true', { method: 'DELETE' })
  const after = agent.ctx.devEnv.environment()
  t.equal(after.PATH, `${runtimes}/tool/current/bin:${SYSTEM_PATH}`)
  t.equal(run('/bin/bash', ['-lc', 'echo "$PATH"'], { env: after }), after.PATH, 'removal visible in a login shell')
  const state = (await (await agent.request('/dev/env')).json()) as any
  t.same(state, {
    user: me,
    home,
    workspace: cwd,
    path: after.PATH,
    profileScript: path.join(root, 'etc/profile.d/zlh-dev-env.sh'),
    hostChanges: 'skipped',
  })
})

t.test("shell rc hooks are idempotent and keep the user's own lines", async (t) => {
  const root = t.testdir({ home: { dev: { '.bashrc': 'alias ll="ls -l"\n' } } })
  const first = await startTestAgent(root)
  await first.close()
  const second = await startTestAgent(root)
  await second.close()
  const bashrc = fs.readFileSync(path.join(root, 'home/dev/.bashrc'), 'utf8')
  t.match(bashrc, /^alias ll="ls -l"\n/)
  t.equal(bashrc.split('>>> zlh dev environment >>>').length, 2, 'one managed block after two starts')
  t.ok(
    second.logs.some((l) => /skipping host-wide changes/.test(l)),
    'says why no user was created',
  )
})

t.test('lookupUser reads uid/gid from a passwd file', async (t) => {
  const dir = t.testdir({ passwd: 'root:x:0:0:root:/root:/bin/bash\ndev:x:1000:1001:,,,:/home/dev:/bin/bash\n' })
  const { lookupUser } = await import('../../../agent/devenv/user.ts')
  t.same(await lookupUser('dev', path.join(dir, 'passwd')), { uid: 1000, gid: 1001 })
  t.equal(await lookupUser('nobody-here', path.join(dir, 'passwd')), null)
  t.equal(await lookupUser('dev', path.join(dir, 'missing')), null)
})
