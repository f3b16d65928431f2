// Durability: a server in a child process (`zlh apiserver`) is SIGKILLed mid-way through 1,000
// writes; every write it acknowledged is there after a restart, and the RV sequence resumes.
import t from 'tap'
import { spawn } from 'node:child_process'
import { Agent, request as httpsRequest } from 'node:https'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parse } from 'yaml'
import { createApiServer } from '../../src/apiserver/index.ts'
import { REPO, request } from './harness.ts'

t.test('acknowledged writes survive kill -9', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-crash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const dataDir = join(dir, 'data')
  const child = spawn(
    process.execPath,
    [join(REPO, 'src', 'cli', 'main.ts'), 'apiserver', '--data-dir', dataDir, '--port', '0', '--kubeconfig', join(dir, 'kubeconfig')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface(child.stdout!).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`apiserver exited early (${code})`)))
  })
  const { url } = JSON.parse(line) as { url: string }
  const kc = parse(readFileSync(join(dir, 'kubeconfig'), 'utf8'))
  const token: string = kc.users[0].user.token
  const ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()
  const agent = new Agent({ keepAlive: true, maxSockets: 16, ca })

  const create = (i: number) =>
    new Promise<number>((resolve) => {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } })
      const req = httpsRequest(
        new URL('/api/v1/namespaces/default/configmaps', url),
        {
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
          res.on('error', () => resolve(0))
        },
      )
      req.on('error', () => resolve(0))
      req.end(body)
    })

  const acked: number[] = []
  let next = 0
  let killed = false
  const worker = async () => {
    while (next < 1000) {
      const i = next++
      const code = await create(i)
      if (code === 201) acked.push(i)
      if (acked.length >= 400 && !killed) {
        killed = true
        child.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  agent.destroy()
  t.ok(killed, 'the server was killed mid-way')
  t.ok(acked.length >= 400 && acked.length < 1000, `acknowledged ${acked.length} of 1,000 before the kill`)

  const s = await createApiServer({ dataDir, port: 0 })
  t.teardown(() => s.close())
  const list = (await request(s, 'GET', '/api/v1/namespaces/default/configmaps')).json()
  const present = new Set(list.items.map((o: any) => o.data.i))
  const lost = acked.filter((i) => !present.has(String(i)))
  t.same(lost, [], 'no acknowledged write is lost')
  const r = await request(s, 'POST', '/api/v1/namespaces/default/configmaps', {
    body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } }),
    contentType: 'application/json',
  })
  t.ok(Number(r.json().metadata.resourceVersion) > Number(list.metadata.resourceVersion), 'resourceVersion resumes past the crash')
})
