// Kubernetes' Python client (Debian's python3-kubernetes, installed by .ci/run) against the embedded
// server, as issue 19 judges it: list then watch with watch=True from the list's resourceVersion
// (events arrive), 410 once that version has left the history, CustomObjectsApi create / merge patch /
// status patch / delete of a GameServer, server-side apply with force=True, VersionApi (GET /version/).
// The script prints the same lines against kube-apiserver v1.32.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CRDS, request, startServer } from '../harness.ts'

const PYTHON = '/usr/bin/python3'
const SCRIPT = join(import.meta.dirname, 'fixtures', 'python-compat.py')

t.test('the Python client lists, watches, patches, applies and deletes as on kube-apiserver', async (t) => {
  // A short watch history, so that the script can make its first resourceVersion too old.
  const h = await startServer(t, { watchHistorySize: 20 })
  await h.k('create', 'namespace', 'py')
  for (const f of ['gameservers', 'devservers']) {
    const crd = parse(readFileSync(join(CRDS, `${f}.zerolaghub.dev.yaml`), 'utf8'))
    const r = await request(h.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: JSON.stringify(crd), contentType: 'application/json' })
    t.equal(r.status, 201, r.text.slice(0, 200))
  }
  const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    execFile(PYTHON, [SCRIPT, h.server.kubeconfigPath, join(h.dir, 'discovery-cache.json')], { timeout: 120_000, env: { PATH: '/usr/bin:/bin', HOME: h.dir } }, (e, out, err) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }))
  })
  if (/No module named 'kubernetes'/.test(run.err)) t.fail('python3-kubernetes is not installed: apt-get install python3-kubernetes (.ci/run does)')
  t.equal(run.code, 0, `the script ran: ${run.err.split('\n').filter((l) => !/Warning/.test(l)).slice(-4).join(' | ')}`)
  t.same(run.out.trim().split('\n'), [
    'version 1 32 True',
    "watch events [('ADDED', 'w1', '1'), ('MODIFIED', 'w1', '2'), ('DELETED', 'w1', '2')]",
    'old watch: 410',
    'created GameServer 1 minecraft',
    "patched terraria 2 {'by': 'python'}",
    'status patched Pending terraria 2',
    'apply without force: 409 Conflict',
    "apply with force=True: factorio ['py-apply']",
    'deleted: Status Success pygs',
    'get after delete: 404',
  ], 'every answer as kube-apiserver gives it')
})
