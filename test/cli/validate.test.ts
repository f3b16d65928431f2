import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const bin = join(import.meta.dirname, '..', '..', 'bin', 'zlh.js')
const zlh = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

t.test('zlh validate accepts the examples', async (t) => {
  const r = zlh('validate', 'manifests/examples', 'manifests/examples/catalog')
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /GameServer\/squid: valid/)
})

t.test('zlh validate names each bad field and exits 1', async (t) => {
  const dir = t.testdir({})
  const f = join(dir, 'bad.yaml')
  writeFileSync(
    f,
    'apiVersion: zerolaghub.dev/v1alpha1\nkind: GameServer\nmetadata: {name: x}\nspec: {game: mc, runtime: {}, server: {command: [a], port: 0}}\n---\nkind: [\n',
  )
  const r = zlh('validate', f)
  t.equal(r.status, 1)
  t.match(r.stdout, /spec\.runtime: Invalid value/)
  t.match(r.stdout, /spec\.server\.port: Invalid value: 0: spec\.server\.port in body should be greater than or equal to 1\n/)
  t.match(r.stdout, /^ {2}spec\.runtime\.name: Required value$/m, 'a missing field says "Required value" once')
  t.notMatch(r.stdout, /Required value: Required value/)
  t.match(r.stdout, /YAML error/)
  t.match(r.stderr, /2 invalid manifest/)
})

t.test('zlh validate reports a missing file with exit 2', async (t) => {
  const r = zlh('validate', '/nonexistent/zlh.yaml')
  t.equal(r.status, 2)
  t.match(r.stderr, /ENOENT/)
})
