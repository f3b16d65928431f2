import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { REPO } from '../apiserver/harness.ts'
import { containerfileEntrypoint } from './containerfile.ts'
import { freePodPort, renderKustomization, runContainer, simulateContainer, untilReady, type PodSources } from './pod-simulation.ts'

const objects = await renderKustomization(join(REPO, 'manifests', 'optional', 'artifact-server'))
const deployment = objects.find((o) => o.kind === 'Deployment')

t.test('renders a Deployment, a PVC and a NodePort Service; not in the default kustomization', async (t) => {
  t.same(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort(), [
    'Deployment/zlh-system/zlh-artifact-server',
    'PersistentVolumeClaim/zlh-system/zlh-artifacts',
    'Service/zlh-system/zlh-artifact-server',
  ])
  const service = objects.find((o) => o.kind === 'Service')
  t.equal(service.spec.type, 'NodePort', 'reachable from containers on Proxmox nodes, outside the pod network')
  const pod = deployment.spec.template.spec
  t.equal(pod.securityContext.runAsNonRoot, true)
  t.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true)
  t.equal(pod.volumes.find((v: any) => v.secret)?.secret.optional, true, 'the upload-token Secret is optional')
  const base = await renderKustomization(join(REPO, 'manifests'))
  t.notOk(
    base.some((o) => o.metadata?.name?.startsWith('zlh-artifact')),
    'kubectl apply -k manifests/ does not include it',
  )
})

async function startAsRendered(
  t: Test,
  sources: PodSources,
): Promise<{ base: string; output: () => string; stop: () => Promise<number | null> }> {
  const podDir = mkdtempSync(join(tmpdir(), 'zlh-pod-artifact-server-'))
  t.teardown(() => rmSync(podDir, { recursive: true, force: true }))
  const c = await simulateContainer({
    deployment,
    sources,
    podDir,
    freePort: freePodPort,
    entrypoint: containerfileEntrypoint(),
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  })
  t.comment(c.argv.slice(1).join(' '))
  const run = runContainer(t, c, podDir)
  const ready = c.probeUrl('readinessProbe')
  await untilReady(ready, run, 60_000)
  t.equal((await fetch(c.probeUrl('livenessProbe'))).status, 200, 'liveness probe answers 200')
  return { base: ready.replace(/\/healthz$/, ''), output: run.output, stop: run.stop }
}

t.test('the Deployment starts as rendered; PUT is 405 until the upload-token Secret exists, then uploads work', async (t) => {
  const secrets = new Map<string, Record<string, string>>()
  const sources: PodSources = { configMap: () => undefined, secret: (ns, name) => secrets.get(`${ns}/${name}`) }
  const body = 'artifact-bytes'
  const sha256 = createHash('sha256').update(body).digest('hex')
  const token = 'c'.repeat(64)

  const first = await startAsRendered(t, sources)
  const refused = await fetch(`${first.base}/x.tar.gz`, {
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-zlh-sha256': sha256 },
  })
  t.equal(refused.status, 405, 'no Secret: uploads are off')
  t.match(first.output(), /uploads are off/)
  t.equal(await first.stop(), 0, 'exits 0 on SIGTERM')

  secrets.set('zlh-system/zlh-artifact-upload-token', { token })
  const second = await startAsRendered(t, sources)
  const put = await fetch(`${second.base}/x.tar.gz`, {
    method: 'PUT',
    body,
    headers: { authorization: `Bearer ${token}`, 'x-zlh-sha256': sha256 },
  })
  t.equal(put.status, 201, await put.text())
  t.equal(await (await fetch(`${second.base}/x.tar.gz`)).text(), body, 'served after the upload')
  t.equal((await fetch(`${second.base}/y.tar.gz`, { method: 'PUT', body, headers: { 'x-zlh-sha256': sha256 } })).status, 401)
  t.notMatch(second.output(), token, 'the token is never logged')
  t.equal(await second.stop(), 0)
})
