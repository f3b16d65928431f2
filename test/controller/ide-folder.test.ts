// status.ide.folder of a DevServer: the folder code-server opens, as the agent reports it
// (codeServer.folder; an older agent only has devEnv.workspace), never a value the gateway could
// not safely put in its redirect (that one is left out and the gateway opens its default).
import t from 'tap'
import { ideFolderFromAgent } from '../../controller/devserver.ts'
import type { CodeServerState, DevEnvState } from '../../src/api/index.ts'

const cs = (folder?: string): CodeServerState => ({
  enabled: true,
  phase: 'Running',
  bindAddr: '127.0.0.1:6000',
  restarts: 0,
  ...(folder === undefined ? {} : { folder }),
})
const env = (workspace: string): DevEnvState => ({
  user: 'dev',
  home: '/home/dev',
  workspace,
  path: '/usr/bin',
  profileScript: '/etc/profile.d/zlh-dev-env.sh',
  hostChanges: 'applied',
})

t.test('the folder comes from the agent', async (t) => {
  const processLayout = '/home/me/.local/state/zlh/containers/1001/root/home/dev/workspace'
  t.same(
    ideFolderFromAgent({ codeServer: cs(processLayout), devEnv: env(processLayout) }),
    { folder: processLayout },
    'process provider: under the container directory',
  )
  t.same(
    ideFolderFromAgent({ codeServer: cs('/home/dev/workspace'), devEnv: null }),
    { folder: '/home/dev/workspace' },
    'lxc: /home/dev/workspace',
  )
  t.same(
    ideFolderFromAgent({ codeServer: cs(), devEnv: env('/srv/x/home/dev/workspace') }),
    { folder: '/srv/x/home/dev/workspace' },
    'an agent without codeServer.folder: its devEnv.workspace',
  )
  t.same(ideFolderFromAgent({ codeServer: null, devEnv: null }), {}, 'nothing reported: no folder (the gateway falls back)')
  for (const bad of ['relative', '//evil.example', '/a\nb', '/a/../b']) {
    t.same(ideFolderFromAgent({ codeServer: cs(bad), devEnv: null }), {}, `${JSON.stringify(bad)} is not copied`)
  }
})
