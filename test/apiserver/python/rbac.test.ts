// Kubernetes' Python client (Debian's python3-kubernetes, installed by .ci/run) against the embedded
// server: a typed client that leaves kind out of its bodies, mints a ServiceAccount token and asks
// the review APIs. The script prints the same lines against kube-apiserver v1.32 (checked by hand).
import t from 'tap'
import { startServer } from '../harness.ts'
import { runPythonScript } from './run-script.ts'

t.test('the Python client: TokenRequest, reviews and impersonation behave as on kube-apiserver', async (t) => {
  const h = await startServer(t)
  await h.k('create', 'namespace', 'development')
  await h.k('create', 'namespace', 'other')
  const lines = await runPythonScript(t, 'python-client-rbac.py', [h.server.kubeconfigPath], { home: h.dir })
  t.same(
    lines,
    [
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
    ],
    'every answer as kube-apiserver gives it',
  )
})
