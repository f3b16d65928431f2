// Real kubectl against the embedded server: CRDs and examples applied, read back every way, deleted.
import t from 'tap'
import { statSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CRDS, EXAMPLES, startServer } from './harness.ts'

t.test('kubectl apply, get, get -o yaml|json|jsonpath, delete', async (t) => {
  const h = await startServer(t)
  t.equal(statSync(h.server.kubeconfigPath).mode & 0o777, 0o600, 'kubeconfig is 0600')
  t.match(readFileSync(h.server.kubeconfigPath, 'utf8'), `server: ${h.server.url}`)

  const early = await h.kubectl(['apply', '-f', join(EXAMPLES, 'gameserver.yaml')])
  t.not(early.code, 0, 'applying an example before its CRD fails')
  t.match(early.stderr, /no matches for kind "GameServer" in version "zerolaghub.dev\/v1alpha1"/, "with kubectl's own unknown-kind error")

  t.match(await h.k('apply', '-f', CRDS), /customresourcedefinition.apiextensions.k8s.io\/gameservers.zerolaghub.dev created/)
  t.match(await h.k('apply', '-f', EXAMPLES), /gameserver.zerolaghub.dev\/squid created/)
  t.match(await h.k('apply', '-f', EXAMPLES), /gameserver.zerolaghub.dev\/squid unchanged/, 'second apply is unchanged')

  const table = await h.k('get', 'gameservers')
  t.match(table, /^NAME\s+PHASE\s+RUNTIME\s+VERSION\s+VMID\s+ADDRESS\s+RESTARTS\s+PLAYERS\s+AGE/m, 'printer columns shown')
  t.match(table, /^squid\s+node\s/m)

  const obj = JSON.parse(await h.k('get', 'gameserver', 'squid', '-o', 'json'))
  t.equal(obj.kind, 'GameServer')
  t.equal(obj.metadata.generation, 1)
  t.match(obj.metadata.uid, /^[0-9a-f-]{36}$/)
  t.equal(obj.spec.supervision.restartPolicy, 'Always')
  t.match(await h.k('get', 'zgs', 'squid', '-o', 'yaml'), /kind: GameServer\n/)
  t.equal(await h.k('get', 'zgs', 'squid', '-o', 'jsonpath={.spec.runtime.name}'), 'node')

  const zlh = await h.k('get', 'zlh')
  t.match(zlh, /devserver.zerolaghub.dev\/workbench/)
  t.match(zlh, /gameserver.zerolaghub.dev\/squid/)

  t.match(await h.k('delete', '-f', EXAMPLES), /gameserver.zerolaghub.dev "squid" deleted/)
  const after = await h.kubectl(['get', 'zgs', 'squid'])
  t.equal(after.code, 1)
  t.match(after.stderr, /NotFound|not found/)
})
