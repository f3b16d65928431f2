// The Containerfile, checked without building it (no container runtime on the test machines):
// the base image's Node is the version package.json pins, the entrypoint is the `zlh` bin run by
// the pinned Node, only production dependencies are installed and everything `npm ci` runs is
// there when it runs, every COPY source exists and every module the entrypoint can import is in
// what is copied, and the user is the non-root uid the Deployments run as.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { REPO } from '../apiserver/harness.ts'
import { containerfileEntrypoint, containerfileInstructions, imageLayout, inCheckout } from './containerfile.ts'

const ins = containerfileInstructions()
const layout = imageLayout(ins)
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'))
/** COPY sources (repository paths) in order, with the index of their instruction. */
const copies = ins.flatMap(([k, rest], i) =>
  k === 'COPY'
    ? rest
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1)
        .map((src) => ({ src: src.replace(/\/$/, ''), i }))
    : [],
)

t.test('the base image runs the Node version package.json pins', async (t) => {
  const from = ins.find(([k]) => k === 'FROM')?.[1] ?? ''
  const tag = /node:(\d+\.\d+\.\d+)-/.exec(from)?.[1]
  t.equal(tag, pkg.dependencies.node, `FROM ${from} names node ${pkg.dependencies.node}`)
})

t.test('the entrypoint is the zlh bin on the pinned Node', async (t) => {
  t.same(layout.entrypoint, ['zlh'], 'ENTRYPOINT ["zlh"]: Deployment args start with the subcommand')
  const [interpreter, script] = containerfileEntrypoint(layout)
  t.equal(relative(REPO, script), pkg.bin.zlh.replace(/^\.\//, ''), "zlh resolves to package.json's bin")
  t.ok(statSync(script).mode & 0o111, 'the bin is executable (the symlink runs it)')
  t.equal(relative(REPO, interpreter), 'node_modules/.bin/node', 'its #!/usr/bin/env node finds the pinned node first on PATH')
  t.equal(execFileSync(interpreter, ['--version'], { encoding: 'utf8' }).trim(), `v${pkg.dependencies.node}`)
})

t.test('npm ci installs production dependencies only, with what its scripts need already copied', async (t) => {
  const ci = ins.findIndex(([k, rest]) => k === 'RUN' && /\bnpm ci\b/.test(rest))
  t.ok(ci >= 0, 'RUN npm ci')
  t.match(ins[ci][1], /--omit=dev/)
  const before = new Set(copies.filter((c) => c.i < ci).map((c) => c.src))
  t.ok(before.has('package.json') && before.has('package-lock.json'), 'package.json and the lockfile first')
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
    const script = pkg.scripts?.[hook]
    if (script === undefined) continue
    for (const file of script.match(/[\w./-]+\.(?:ts|js|mjs)/g) ?? [])
      t.ok(before.has(file) || [...before].some((d) => file.startsWith(`${d}/`)), `npm ci runs "${hook}": ${file} is copied before it`)
  }
})

t.test('every COPY source exists', async (t) => {
  for (const { src } of copies) t.ok(existsSync(join(REPO, src)), src)
})

t.test('every module the entrypoint can import is copied into the image', async (t) => {
  const copied = copies.map((c) => c.src)
  const isCopied = (file: string): boolean => {
    const r = relative(REPO, file)
    return copied.some((c) => r === c || r.startsWith(`${c}/`))
  }
  const seen = new Set<string>()
  const queue = [containerfileEntrypoint(layout)[1]]
  const missing: string[] = []
  while (queue.length > 0 && seen.size < 5000) {
    const file = queue.pop() as string
    if (seen.has(file)) continue
    seen.add(file)
    if (!isCopied(file)) missing.push(relative(REPO, file))
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
      const target = resolve(dirname(file), m[1])
      if (existsSync(target) && statSync(target).isFile()) queue.push(target)
    }
  }
  t.ok(seen.size > 50, `walked ${seen.size} modules`)
  t.same(missing, [], 'modules outside the copied directories')
})

t.test('a fixed non-root user, the one the Deployments run as', async (t) => {
  const user = ins.filter(([k]) => k === 'USER').at(-1)?.[1] ?? ''
  t.match(user, /^\d+:\d+$/, 'numeric uid:gid (runAsNonRoot can verify it)')
  const [uid, gid] = user.split(':').map(Number)
  t.not(uid, 0)
  const out = execFileSync('kubectl', ['kustomize', join(REPO, 'manifests')], { encoding: 'utf8', maxBuffer: 64 << 20 })
  for (const d of parseAllDocuments(out)
    .map((x) => x.toJS())
    .filter((o) => o?.kind === 'Deployment')) {
    const sc = d.spec.template.spec.securityContext
    t.same([sc.runAsUser, sc.runAsGroup, sc.runAsNonRoot], [uid, gid, true], `${d.metadata.name} runs as ${user}`)
    t.notOk(d.spec.template.spec.containers[0].command, `${d.metadata.name} keeps the image's ENTRYPOINT`)
  }
  t.ok(inCheckout(layout, layout.workdir), 'WORKDIR maps to the checkout')
})
