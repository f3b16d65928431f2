// RuntimeStore.list() is read by every GET /status, so it is kept in memory between writes: it must
// still show every change the store makes, including one that lands while a list is being read.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { agentPaths } from '../../../agent/paths.ts'
import { createAgentLogger } from '../../../agent/log.ts'
import { RuntimeStore, type InstallMarker } from '../../../agent/runtimes/store.ts'

async function stagedTree(store: RuntimeStore, name: string, version: string): Promise<string> {
  const tree = path.join(await store.newStagingDir(name, version), 'tree')
  fs.mkdirSync(path.join(tree, 'bin'), { recursive: true })
  return tree
}
const marker = (name: string, version: string): InstallMarker => ({
  name,
  version,
  sha256: 'a'.repeat(64),
  url: 'http://127.0.0.1/x.tar.gz',
  installedAt: new Date().toISOString(),
  verified: true,
})
const summary = async (store: RuntimeStore) =>
  (await store.list()).map((r) => `${r.name}:${r.current ?? '-'}:${r.versions.map((v) => v.version).join(',')}`)

t.test('list() shows each write of the store, and is read from disk once between writes', async (t) => {
  const paths = agentPaths(t.testdir())
  const store = new RuntimeStore(paths, createAgentLogger({ level: 'silent' }))
  await store.init()
  t.same(await summary(store), [])

  await store.commit(await stagedTree(store, 'java', '21.0.5'), marker('java', '21.0.5'))
  t.same(await summary(store), ['java:-:21.0.5'], 'a committed version')
  await store.switchCurrent('java', '21.0.5')
  t.same(await summary(store), ['java:21.0.5:21.0.5'], 'a switched current link')
  await store.commit(await stagedTree(store, 'java', '17.0.1'), marker('java', '17.0.1'))
  t.same(await summary(store), ['java:21.0.5:21.0.5,17.0.1'])

  const first = store.list()
  t.equal(store.list(), first, 'no write since: the same read')
  await store.remove('java', '17.0.1')
  t.not(store.list(), first, 'a write: read again')
  t.same(await summary(store), ['java:21.0.5:21.0.5'], 'a removed version')
  await store.switchCurrent('java', null)
  await store.remove('java', '21.0.5')
  await store.pruneEmpty('java')
  t.same(await summary(store), [], 'everything removed')
})

t.test('a list read while a write is under way is not kept for after it', async (t) => {
  const paths = agentPaths(t.testdir())
  const store = new RuntimeStore(paths, createAgentLogger({ level: 'silent' }))
  await store.init()
  const tree = await stagedTree(store, 'node', '24.1.0')
  const writing = store.commit(tree, marker('node', '24.1.0'))
  const during = store.list()
  await writing
  await during
  t.same(await summary(store), ['node:-:24.1.0'], 'the list after the write has it')
})

t.test('recover() is a write too: what it removes disappears from the list', async (t) => {
  const paths = agentPaths(t.testdir())
  const store = new RuntimeStore(paths, createAgentLogger({ level: 'silent' }))
  await store.init()
  await store.commit(await stagedTree(store, 'go', '1.23.0'), marker('go', '1.23.0'))
  t.same(await summary(store), ['go:-:1.23.0'])
  // A marker that no longer says verified: recover() moves the version out.
  const file = path.join(paths.runtimeVersionDir('go', '1.23.0'), '.zlh-install.json')
  fs.writeFileSync(file, JSON.stringify({ ...marker('go', '1.23.0'), verified: false }))
  await store.recover()
  t.same(await summary(store), [])
})
