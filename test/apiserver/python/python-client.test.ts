// Kubernetes' Python client (Debian's python3-kubernetes, installed by .ci/run) against the embedded
// server, as issue 19 judges it: list then watch with watch=True from the list's resourceVersion
// (events arrive), 410 once that version has left the history, CustomObjectsApi create / merge patch /
// status patch / delete of a GameServer, server-side apply with force=True, VersionApi (GET /version/).
// The script prints the same lines against kube-apiserver v1.32.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CRDS, request, startServer } from '../harness.ts'
import { runPythonScript } from './run-script.ts'

t.test('the Python client lists, watches, patches, applies and deletes as on kube-apiserver', async (t) => {
  // A short watch history, so that the script can make its first resourceVersion too old.
  const h = await startServer(t, { watchHistorySize: 20 })
  await h.k('create', 'namespace', 'py')
  for (const f of ['gameservers', 'devservers']) {
    const crd = parse(readFileSync(join(CRDS, `${f}.zerolaghub.dev.yaml`), 'utf8'))
    const r = await request(h.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      body: JSON.stringify(crd),
      contentType: 'application/json',
    })
    t.equal(r.status, 201, r.text.slice(0, 200))
  }
  const lines = await runPythonScript(t, 'python-compat.py', [h.server.kubeconfigPath, join(h.dir, 'discovery-cache.json')], {
    home: h.dir,
    timeoutMs: 120_000,
  })
  t.same(
    lines,
    [
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
    ],
    'every answer as kube-apiserver gives it',
  )
})
