// `zlh artifacts publish` and `zlh artifacts serve` through the real CLI: catalogs whose sha256 is
// sha256sum's, that pass the CRD schema (zlh validate) and the embedded API server; uploads to a
// served directory with a token; --apply and --provider read back with real kubectl; nothing is
// emitted or applied when a served file does not hash right or an upload is refused.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { CRDS, startServer } from '../../apiserver/harness.ts'
import { operatorTree, serve, zlh } from './cli.ts'

const root = mkdtempSync(join(tmpdir(), 'zlh-artifacts-publish-'))
t.teardown(() => rmSync(root, { recursive: true, force: true }))
const out = join(root, 'out')

interface Catalog {
  metadata: { name: string }
  spec: {
    versions: Array<{ version: string; artifacts: Array<{ url: string; sha256: string; sizeBytes: number }> }>
    channels: { stable: string }
  }
}

t.before(async () => {
  const r = await zlh([
    'artifacts',
    'build',
    '--out',
    out,
    '--only',
    'flying-squid',
    '--pack',
    `java@17.0.2=${operatorTree(root, 'java', '17.0.2')}`,
    '--pack',
    `java@21.0.5=${operatorTree(root, 'java', '21.0.5')}`,
  ])
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`)
})

const sha256sum = (file: string): string => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!

t.test("publish emits one catalog per runtime with sha256sum's hashes, stable = newest; zlh validate accepts it", async (t) => {
  const served = await serve(t, out)
  const base = `http://127.0.0.1:${served.port}`
  const r = await zlh(['artifacts', 'publish', '--dir', out, '--base-url', base])
  t.equal(r.code, 0, r.stderr)
  const catalogs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Catalog)
  t.same(
    catalogs.map((c) => c.metadata.name),
    ['flying-squid', 'java'],
  )
  const java = catalogs[1]!
  t.same(
    java.spec.versions.map((v) => v.version),
    ['17.0.2', '21.0.5'],
  )
  t.equal(java.spec.channels.stable, '21.0.5', 'stable is the newest version')
  for (const c of catalogs) {
    for (const v of c.spec.versions) {
      const a = v.artifacts[0]!
      const file = a.url.slice(`${base}/`.length)
      t.equal(a.url, `${base}/${file}`)
      t.equal(a.sha256, sha256sum(join(out, file)), `${file}: sha256 as sha256sum computes it`)
    }
  }
  t.match(r.stderr, new RegExp(`add ${base}/ to a ContainerProvider's spec.outbound.allowedSources`))
  const yamlFile = join(root, 'catalogs.yaml')
  writeFileSync(yamlFile, r.stdout)
  const valid = await zlh(['validate', yamlFile])
  t.equal(valid.code, 0, valid.stdout + valid.stderr)
  t.match(valid.stdout, /RuntimeCatalog\/java: valid/)
})

t.test('a file served with another hash stops publish: no YAML, exit 2', async (t) => {
  const other = join(root, 'tampered')
  mkdirSync(other)
  for (const f of readdirSync(out)) copyFileSync(join(out, f), join(other, f))
  writeFileSync(join(other, 'java-17.0.2.tar.gz'), 'not the artifact')
  const served = await serve(t, other)
  const r = await zlh(['artifacts', 'publish', '--dir', out, '--base-url', `http://127.0.0.1:${served.port}/`])
  t.equal(r.code, 2)
  t.equal(r.stdout, '', 'nothing emitted')
  t.match(r.stderr, /java-17\.0\.2\.tar\.gz is served with sha256 [a-f0-9]{64}, the file here has/)
})

t.test('publish --upload to zlh artifacts serve, --apply and --provider, read back with kubectl', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', CRDS)
  const provider = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'ContainerProvider',
    metadata: { name: 'pve' },
    spec: { type: 'process', process: {}, outbound: { allowedSources: ['https://mirror.example.com/'] } },
  }
  const applied = await h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(provider) })
  t.equal(applied.code, 0, applied.stderr)

  const servedDir = join(root, 'served')
  mkdirSync(servedDir)
  const tokenFile = join(root, 'upload-token')
  writeFileSync(tokenFile, 'tok-3b1f0c9e5a7d42c8\n', { mode: 0o600 })
  const served = await serve(t, servedDir, ['--upload-token-file', tokenFile])
  const base = `http://127.0.0.1:${served.port}/`

  const wrongToken = join(root, 'wrong-token')
  writeFileSync(wrongToken, 'nope\n')
  const refused = await zlh([
    'artifacts',
    'publish',
    '--dir',
    out,
    '--base-url',
    base,
    '--upload',
    base,
    '--upload-token-file',
    wrongToken,
    '--apply',
    '--kubeconfig',
    h.server.kubeconfigPath,
  ])
  t.not(refused.code, 0)
  t.match(refused.stderr, /answered 401: ZLH_ARTIFACTS_TOKEN_REQUIRED/)
  t.equal(readdirSync(servedDir).length, 0, 'nothing stored')
  t.equal((await h.kubectl(['get', 'runtimecatalogs', '-o', 'name'])).stdout, '', 'nothing applied')

  const yamlFile = join(root, 'applied.yaml')
  const r = await zlh([
    'artifacts',
    'publish',
    '--dir',
    out,
    '--base-url',
    base,
    '--upload',
    base,
    '--upload-token-file',
    tokenFile,
    '-o',
    yamlFile,
    '--apply',
    '--provider',
    'pve',
    '--kubeconfig',
    h.server.kubeconfigPath,
  ])
  t.equal(r.code, 0, r.stderr)
  t.same(
    readdirSync(servedDir).sort(),
    ['flying-squid-1.12.0.tar.gz', 'java-17.0.2.tar.gz', 'java-21.0.5.tar.gz'],
    'every file uploaded, no temporary file left',
  )
  t.notOk(served.log().includes('tok-3b1f0c9e5a7d42c8'), 'the server never logs the token')
  t.notOk(r.stdout.includes('tok-3b1f0c9e5a7d42c8') || r.stderr.includes('tok-3b1f0c9e5a7d42c8'), 'publish never prints the token')

  const java = JSON.parse(await h.k('get', 'runtimecatalog', 'java', '-o', 'json', '--show-managed-fields')) as Catalog & {
    metadata: { managedFields: Array<{ manager: string }> }
  }
  t.equal(java.spec.channels.stable, '21.0.5')
  t.equal(
    java.spec.versions[1]!.artifacts[0]!.sha256,
    sha256sum(join(servedDir, 'java-21.0.5.tar.gz')),
    "the applied sha256 is the served file's",
  )
  t.equal(java.spec.versions[1]!.artifacts[0]!.url, `${base}java-21.0.5.tar.gz`)
  t.ok(
    java.metadata.managedFields.some((f) => f.manager === 'zlh-artifacts'),
    'applied with field manager zlh-artifacts',
  )
  t.same(
    parseAllDocuments(readFileSync(yamlFile, 'utf8')).map((d) => (d.toJS() as Catalog).metadata.name),
    ['flying-squid', 'java'],
    '-o holds the same catalogs',
  )

  const sources = async (): Promise<string[]> =>
    JSON.parse(await h.k('get', 'containerprovider', 'pve', '-o', 'jsonpath={.spec.outbound.allowedSources}')) as string[]
  t.same(await sources(), ['https://mirror.example.com/', base], '--provider added the base URL to what was there')
  const again = await zlh([
    'artifacts',
    'publish',
    '--dir',
    out,
    '--base-url',
    base,
    '--apply',
    '--provider',
    'pve',
    '--kubeconfig',
    h.server.kubeconfigPath,
  ])
  t.equal(again.code, 0, again.stderr)
  t.match(again.stderr, /already in spec\.outbound\.allowedSources/)
  t.same(await sources(), ['https://mirror.example.com/', base], 'no duplicate on a second run')

  const missing = await zlh([
    'artifacts',
    'publish',
    '--dir',
    out,
    '--base-url',
    base,
    '--provider',
    'nope',
    '--kubeconfig',
    h.server.kubeconfigPath,
  ])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /--provider nope: cannot read that ContainerProvider/)
})

t.test('publish refuses bad flags before doing anything', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--base-url', 'ftp://x/'], /must be http:\/\/ or https:\/\//],
    [['--base-url', 'http://user:pw@x/'], /user name or password/],
    [['--base-url', 'http://x/', '--upload', 'http://x/'], /--upload and --upload-token-file go together/],
    [['--base-url', 'http://x/', '--dir', join(root, 'nothing')], /has no artifacts/],
  ]
  for (const [args, message] of cases) {
    const r = await zlh(['artifacts', 'publish', '--dir', out, ...args, '--no-verify'])
    t.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    t.match(r.stderr, message)
  }
})
