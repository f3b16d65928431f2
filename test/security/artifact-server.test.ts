// The loopback artifact server `zlh up` runs (and tests use): hostile request targets get 404 and
// never end the process or name a file outside its directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startArtifactServer } from '../../src/cli/artifacts/server.ts'
import { rawRequest } from './raw-http.ts'

const rawStatus = async (port: number, target: string): Promise<number> => (await rawRequest(port, target)).status

t.test('bad percent-escapes, traversal and absolute-form targets are 404 and the server keeps serving', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'zlh-artifacts-'))
  const dir = join(root, 'served')
  writeFileSync(join(root, 'secret.txt'), 'outside')
  await import('node:fs/promises').then((fs) => fs.mkdir(dir))
  writeFileSync(join(dir, 'node.tar.gz'), 'artifact-bytes')
  const server = await startArtifactServer(dir)
  t.teardown(async () => {
    await server.close()
    rmSync(root, { recursive: true, force: true })
  })
  const port = Number(new URL(server.baseUrl).port)

  for (const target of [
    '/%',
    '/%zz',
    '/%E0%A4%A',
    '/..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/../secret.txt',
    'http://127.0.0.1/node.tar.gz',
    '/node.tar.gz%00',
    '/.%2e/secret.txt',
  ]) {
    t.equal(await rawStatus(port, target), 404, `GET ${target}`)
  }
  t.equal(await rawStatus(port, '/node.tar.gz'), 200, 'a real artifact is still served afterwards')
  const res = await fetch(server.url('node.tar.gz'))
  t.equal(await res.text(), 'artifact-bytes')
})
