// Kubernetes' Python client (Debian's python3-kubernetes, installed by .ci/run) against the embedded
// server: a typed client that leaves kind out of its bodies, mints a ServiceAccount token and asks
// the review APIs. The script prints the same lines against kube-apiserver v1.32 (checked by hand).
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { startServer } from '../harness.ts'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(import.meta.dirname, 'fixtures', 'python-client-rbac.py')

t.test('the Python client: TokenRequest, reviews and impersonation behave as on kube-apiserver', async (t) => {
  const h = await startServer(t)
  await h.k('create', 'namespace', 'development')
  await h.k('create', 'namespace', 'other')
  const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    execFile(PYTHON, [SCRIPT, h.server.kubeconfigPath], { timeout: 60_000, env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }))
  })
  if (/No module named 'kubernetes'/.test(run.err)) t.fail('python3-kubernetes is not installed: apt-get install python3-kubernetes (.ci/run does)')
  t.equal(run.code, 0, `the script ran: ${run.err.split('\n').filter((l) => !/Warning/.test(l)).slice(-4).join(' | ')}`)
  t.same(run.out.trim().split('\n'), [
    'token minted True',
    'pybot can list configmaps True',
    'pybot can get secrets False',
    'pybot can create configmaps False',
    "rules review: configmaps verbs [['get', 'list', 'watch']]",
    'list secrets as pybot: 403 Forbidden',
    "token review: True system:serviceaccount:development:pybot ['system:serviceaccounts', 'system:serviceaccounts:development', 'system:authenticated']",
    'SAR pybot list configmaps in other: False',
    'impersonated list configmaps: True',
    'impersonated list secrets: 403 Forbidden',
  ], 'every answer as kube-apiserver gives it')
})
