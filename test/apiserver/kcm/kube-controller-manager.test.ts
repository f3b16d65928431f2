// A real kube-controller-manager against the embedded server, with the server's own garbage
// collector and namespace controller switched off: it takes its leader Lease (a protobuf body),
// starts, and does their jobs (owner-reference GC, namespace deletion).
// Opt-in: set ZLH_TEST_KUBE_CONTROLLER_MANAGER to a kube-controller-manager binary (v1.32 was used;
// build it from a repository that vendors Kubernetes). Without it the test is skipped.

import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import t from 'tap'
import type { ApiServer } from '../../../src/apiserver/index.ts'
import { request, startServer } from '../harness.ts'

const binary = process.env.ZLH_TEST_KUBE_CONTROLLER_MANAGER
let runnable = false
try {
  if (binary) {
    accessSync(binary, constants.X_OK)
    runnable = true
  }
} catch {
  /* skipped below */
}

const json = 'application/json'
const CMS = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`

/** Polls `check` every 250 ms, at most `tries` times; true once it holds. */
async function eventually(check: () => Promise<boolean>, tries = 240): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

async function create(s: ApiServer, path: string, obj: Record<string, unknown>): Promise<any> {
  const r = await request(s, 'POST', path, { body: JSON.stringify(obj), contentType: json })
  if (r.status !== 201) throw new Error(`create at ${path}: ${r.status} ${r.text}`)
  return r.json()
}

t.test(
  "kube-controller-manager (garbage-collector and namespace controllers) runs the embedded server's GC and namespace cleanup",
  { skip: runnable ? false : 'set ZLH_TEST_KUBE_CONTROLLER_MANAGER to a kube-controller-manager binary' },
  async (t) => {
    const h = await startServer(t, { disableControllers: ['garbage-collector', 'namespace'] })
    const s = h.server
    const k = s.kubeconfigPath
    const child = spawn(
      binary!,
      [
        '--controllers=garbage-collector-controller,namespace-controller',
        '--secure-port=0',
        `--kubeconfig=${k}`,
        `--authentication-kubeconfig=${k}`,
        `--authorization-kubeconfig=${k}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let log = ''
    child.stderr.on('data', (c: Buffer) => {
      log = (log + c.toString()).slice(-20_000)
    })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    t.teardown(async () => {
      child.kill('SIGTERM')
      await exited
    })

    t.ok(
      await eventually(async () => {
        const r = await request(s, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager')
        return r.status === 200 && typeof r.json().spec?.holderIdentity === 'string'
      }),
      'it holds its leader Lease',
    )
    t.ok(
      await eventually(async () => /"synced garbage collector"|Garbage collector: all resource monitors have synced/.test(log)),
      'its garbage collector synced',
    )

    const owner = await create(s, CMS('default'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } })
    await create(s, CMS('default'), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
    })
    t.equal((await request(s, 'DELETE', `${CMS('default')}/owner`)).status, 200)
    t.ok(
      await eventually(async () => (await request(s, 'GET', `${CMS('default')}/dependent`)).status === 404),
      'the dependent of a deleted owner is collected',
    )

    await create(s, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } })
    await create(s, CMS('doomed'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'content' } })
    t.equal((await request(s, 'DELETE', '/api/v1/namespaces/doomed')).status, 200)
    t.ok(
      await eventually(async () => (await request(s, 'GET', '/api/v1/namespaces/doomed')).status === 404),
      'the deleted namespace is emptied and finalized',
    )
    t.notMatch(
      log,
      /unknown format \(application\/vnd\.kubernetes\.protobuf\)|only the following media types are accepted/,
      'no body or Accept it sent was refused',
    )
  },
)
