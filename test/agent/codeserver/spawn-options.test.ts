// What code-server (and so its integrated terminal) is started with: the dev user's uid/gid when
// the agent made one, the workspace as working directory (created, and owned by the dev user,
// before the start), and the dev environment, whose PATH puts installed runtimes first, so a
// terminal's `node --version` is the installed Node (here the pinned Node 24 stands in for it).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { CodeServerSupervisor, codeServerSpawnOptions, prepareCodeServerDirs } from '../../../agent/codeserver/supervisor.ts'
import { DevEnvironment } from '../../../agent/devenv/environment.ts'
import { StateHub } from '../../../agent/state.ts'
import type { RuntimeManager } from '../../../agent/runtimes/manager.ts'
import { agentPaths } from '../../../agent/paths.ts'
import pino from 'pino'

const log = pino({ level: 'silent' })

t.test('with a dev user: spawned with its uid/gid, USER dev; without one: no ids, USER is the agent user', async (t) => {
  const paths = agentPaths('/')
  const env = { HOME: '/home/dev', USER: 'dev', PATH: '/opt/zlh/runtimes/node/current/bin:/usr/bin' }
  const asDev = codeServerSpawnOptions(paths, { environment: () => ({ ...env }), runAs: { uid: 1000, gid: 1001 } })
  t.same(asDev, { cwd: '/home/dev/workspace', env, uid: 1000, gid: 1001 })
  const asSelf = codeServerSpawnOptions(paths, { environment: () => ({ ...env }), runAs: null })
  t.notOk('uid' in asSelf || 'gid' in asSelf, 'no uid/gid: runs as the agent user')
  t.equal(asSelf.cwd, '/home/dev/workspace', 'the LXC layout: /home/dev/workspace')

  const root = t.testdir()
  const devEnv = new DevEnvironment({ paths: agentPaths(root), log, runtimeBins: async () => [] })
  await devEnv.prepare()
  t.equal(devEnv.runAs, null, 'a directory root never gets a dev user')
  t.equal(devEnv.environment().USER, os.userInfo().username)
  t.equal(devEnv.state().user, os.userInfo().username, 'the dev env state names who children run as')
})

t.test(
  'the workspace exists before a start, owned by the dev user when there is one',
  { skip: process.getuid?.() !== 0 && 'chown needs root' },
  async (t) => {
    const root = t.testdir()
    const paths = agentPaths(root)
    const ids = { uid: 54_321, gid: 54_322 }
    await prepareCodeServerDirs(paths, ids)
    for (const dir of [
      paths.devHome,
      paths.workspace,
      paths.codeServerUserData,
      path.join(paths.devHome, '.local'),
      path.join(paths.devHome, '.local/share'),
    ]) {
      const st = fs.statSync(dir)
      t.ok(st.isDirectory(), `${path.relative(root, dir)} exists`)
      t.same([st.uid, st.gid], [ids.uid, ids.gid], `${path.relative(root, dir)} belongs to the dev user`)
    }
    t.equal(fs.statSync(paths.logs).uid, 0, "the agent's own dirs stay the agent's")
    t.equal(fs.statSync(path.join(root, 'home')).uid, 0, 'nothing above the dev home changes owner')
  },
)

t.test('a shell started like the IDE terminal (inherited env, in cwd) runs the installed Node: v24', async (t) => {
  const root = t.testdir()
  const paths = agentPaths(root)
  // The "installed runtime" is the pinned Node 24 this test runs on; the system PATH has no node.
  const nodeBin = path.dirname(process.execPath)
  const devEnv = new DevEnvironment({ paths, log, runtimeBins: async () => [nodeBin], systemPath: '/usr/bin:/bin' })
  await devEnv.prepare()
  fs.rmSync(paths.workspace, { recursive: true })
  await prepareCodeServerDirs(paths, devEnv.runAs)
  const opts = codeServerSpawnOptions(paths, devEnv)
  t.ok(opts.env.PATH!.startsWith(`${nodeBin}:`), 'the dev PATH, runtimes first, is in the environment code-server gets')
  // VS Code's terminal runs $SHELL (bash, which reads ~/.bashrc) with code-server's environment, in the folder.
  for (const args of [['-c'], ['-ic'], ['-lc']]) {
    const out = execFileSync(opts.env.SHELL!, [...args, 'node --version; pwd; echo "$USER"'], {
      cwd: opts.cwd,
      env: opts.env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .split('\n')
    t.match(out[0], /^v24\./, `bash ${args[0]}: node --version prints v24`)
    t.equal(out[1], paths.workspace, `bash ${args[0]}: starts in the workspace`)
    t.equal(out[2], os.userInfo().username, `bash ${args[0]}: USER is who it runs as`)
  }
})

t.test(
  'the folder code-server opens is in its published state: /home/dev/workspace in a container, under the root otherwise',
  async (t) => {
    const runtimes = { on: () => {}, store: { current: async () => null } } as unknown as RuntimeManager
    const devEnv = { environment: () => ({}), runAs: null } as unknown as DevEnvironment
    for (const [root, folder] of [
      ['/', '/home/dev/workspace'],
      ['/srv/zlh/containers/101/root', '/srv/zlh/containers/101/root/home/dev/workspace'],
    ] as const) {
      const hub = new StateHub()
      const cs = new CodeServerSupervisor({ paths: agentPaths(root), log, hub, runtimes, devEnv })
      t.equal(cs.state().folder, folder, `root ${root}`)
    }
  },
)

t.test("the events snapshot carries the folder once code-server's state is loaded", async (t) => {
  const root = t.testdir()
  const runtimes = { on: () => {}, store: { current: async () => null } } as unknown as RuntimeManager
  const devEnv = { environment: () => ({}), runAs: null } as unknown as DevEnvironment
  const hub = new StateHub()
  await new CodeServerSupervisor({ paths: agentPaths(root), log, hub, runtimes, devEnv }).load()
  t.match(hub.snapshot().components.codeServer, { phase: 'NotInstalled', folder: path.join(root, 'home/dev/workspace') })
})
