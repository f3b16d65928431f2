// Security regression suite of issue 19's client-compatibility part (embedded API server): a boolean
// query parameter is read by authorization and by serving with ONE rule, so no spelling of `watch`
// is authorized as a list and then served as a watch (kube's RequestInfo and ListOptions decoding:
// k8s.io/apiserver/pkg/endpoints/request/requestinfo.go, k8s.io/apimachinery/pkg/runtime/conversion.go).
import t from 'tap'
import { parseApiPath, parseRequestTarget } from '../../src/apiserver/paths.ts'
import { requestAttributes } from '../../src/apiserver/authorizer.ts'
import { request, startServer } from '../apiserver/harness.ts'

const LISTER = 'lister-token-llllllllllllllllllllllllllllllll'
const CM = '/api/v1/namespaces/team/configmaps'

t.test('every spelling of watch is authorized as the verb it is served as', async (t) => {
  const h = await startServer(t, { tokens: [{ token: LISTER, user: 'lister' }] })
  const s = h.server
  await h.k('create', 'namespace', 'team')
  await h.k('create', 'configmap', 'c', '-n', 'team')
  // lister may list configmaps in team, never watch them
  await h.k('create', 'role', 'list-only', '--verb=list', '--resource=configmaps', '-n', 'team')
  await h.k('create', 'rolebinding', 'lister', '--role=list-only', '--user=lister', '-n', 'team')

  for (const spelling of ['True', 'true', 'TRUE', '1', 't', 'T', 'f', 'yes', '', 'True&watch=false']) {
    const target = `${CM}?watch=${spelling}&timeoutSeconds=1`
    const p = parseRequestTarget(target)
    t.equal(requestAttributes('GET', p.path, parseApiPath(p.segments), p.query).verb, 'watch', `watch=${spelling} is authorized as watch`)
    const r = await request(s, 'GET', target, { token: LISTER })
    t.equal(r.status, 403, `watch=${spelling}: a list-only user is refused`)
    t.match(r.json().message, /cannot watch resource "configmaps"/)
    const admin = await request(s, 'GET', target)
    t.equal(admin.status, 200)
    t.match(
      JSON.parse(admin.text.split('\n')[0]!),
      { type: 'ADDED', object: { metadata: { name: 'c' } } },
      `watch=${spelling} is served as a watch`,
    )
  }
  for (const spelling of ['False', 'false', 'FALSE', '0', 'false&watch=true']) {
    const r = await request(s, 'GET', `${CM}?watch=${spelling}`, { token: LISTER })
    t.equal(r.status, 200, `watch=${spelling}: a list, which lister may do`)
    t.equal(r.json().kind, 'ConfigMapList')
  }
})
