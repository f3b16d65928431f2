// docs/architecture.md stays true to the code: every relative import in the product's folders
// follows the "who may import whom" block of that page (the most specific folder line applies).
import t from 'tap'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const REPO = join(import.meta.dirname, '..')
const DOC = join(REPO, 'docs', 'architecture.md')

interface Rule {
  folder: string
  allowed: string[]
}

/** The `folder → a, b` lines of the doc's import block. */
function importRules(markdown: string): Rule[] {
  const rules: Rule[] = []
  for (const m of markdown.matchAll(/^([\w./-]+)\s+→\s+(.+)$/gm)) {
    const allowed = m[2]!.trim() === '(nothing)' ? [] : m[2]!.split(',').map((s) => s.trim())
    rules.push({ folder: m[1]!, allowed })
  }
  return rules
}

const inside = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`)

/** The most specific line for `file`, and its component: the least specific one (a folder imports itself freely). */
function ruleFor(rules: Rule[], file: string): (Rule & { component: string }) | undefined {
  const matching = rules.filter((r) => inside(file, r.folder)).sort((a, b) => b.folder.length - a.folder.length)
  return matching.length ? { ...matching[0]!, component: matching.at(-1)!.folder } : undefined
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(REPO, join(e.parentPath, e.name)))
}

/** Relative import specifiers of a module (static, dynamic, `export … from`), resolved to repo paths. */
function relativeImports(file: string): string[] {
  const text = readFileSync(join(REPO, file), 'utf8')
  const found: string[] = []
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.\.?\/[^'"]+)['"]/g)) {
    found.push(relative(REPO, resolve(REPO, dirname(file), m[1]!)))
  }
  return found
}

const rules = importRules(readFileSync(DOC, 'utf8'))

t.test('the doc names the rules of every product folder', async (t) => {
  const folders = rules.map((r) => r.folder)
  for (const f of [
    'src/runtime',
    'src/apiserver',
    'src/api',
    'src/platform',
    'src/providers',
    'src/agent-client',
    'src/gateway',
    'controller',
    'agent',
    'src/cli',
  ]) {
    t.ok(folders.includes(f), `docs/architecture.md has a line for ${f}`)
  }
})

t.test('the rule reader picks the most specific folder', async (t) => {
  const r = importRules('a → (nothing)\na/b → c, d\n')
  t.same(r, [
    { folder: 'a', allowed: [] },
    { folder: 'a/b', allowed: ['c', 'd'] },
  ])
  t.same(ruleFor(r, 'a/b/x.ts'), { folder: 'a/b', allowed: ['c', 'd'], component: 'a' })
  t.equal(ruleFor(r, 'a/bx.ts')!.folder, 'a')
})

t.test('every import in the product follows docs/architecture.md', async (t) => {
  const violations: string[] = []
  let checked = 0
  for (const top of ['src', 'controller', 'agent', 'examples']) {
    for (const file of tsFiles(top)) {
      const rule = ruleFor(rules, file)
      if (!rule) {
        violations.push(`${file}: no line of docs/architecture.md covers it`)
        continue
      }
      for (const target of relativeImports(file)) {
        checked++
        if (inside(target, rule.component) || rule.allowed.some((a) => inside(target, a))) continue
        // Outside the product folders (package.json, crds/, scripts): not governed by the block.
        if (!rules.some((r) => inside(target, r.folder))) continue
        violations.push(`${file} imports ${target} (${rule.folder} may import: ${rule.allowed.join(', ') || 'nothing'})`)
      }
    }
  }
  t.ok(checked > 100, `${checked} imports checked`)
  t.same(violations, [], 'fix the import, or change the rule and the page together')
})

// DESIGN: the platform leaf is generic (process identity, durable writes, clock, …) and imports
// nothing of ours; the framework may use it but still nothing of the product.
t.test('the platform leaf stays a leaf, and the framework reaches no product folder', async (t) => {
  const line = (folder: string) => rules.find((r) => r.folder === folder)
  t.same(line('src/platform')?.allowed, [], 'src/platform → (nothing)')
  const product = ['src/api', 'src/providers', 'src/agent-client', 'src/gateway', 'src/cli', 'controller', 'agent']
  for (const folder of ['src/runtime', 'src/apiserver', 'src/platform']) {
    const reached = (line(folder)?.allowed ?? []).filter((a) => product.some((p) => inside(a, p)))
    t.same(reached, [], `${folder} imports no product folder`)
  }
  t.ok(line('src/runtime')?.allowed.includes('src/platform'), 'the framework may use the platform leaf (its clock)')
})

/** One import circle among `files` (as a path list ending where it began), or undefined. Type-only imports count: they still tie the modules together. */
function findCircle(files: string[], importsOf: (file: string) => string[] = relativeImports): string[] | undefined {
  const known = new Set(files)
  const edges = new Map(files.map((f) => [f, importsOf(f).filter((g) => known.has(g))]))
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (f: string): string[] | undefined => {
    if (state.get(f) === 'done') return undefined
    if (state.get(f) === 'open') return [...path.slice(path.indexOf(f)), f]
    state.set(f, 'open')
    path.push(f)
    for (const g of edges.get(f) ?? []) {
      const circle = visit(g)
      if (circle) return circle
    }
    path.pop()
    state.set(f, 'done')
    return undefined
  }
  for (const f of files) {
    const circle = visit(f)
    if (circle) return circle
  }
  return undefined
}

t.test('the circle finder finds a circle, and only a circle', async (t) => {
  const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'] }
  t.same(
    findCircle(['d', 'a', 'b', 'c'], (f) => graph[f] ?? []),
    ['a', 'b', 'c', 'a'],
  )
  t.equal(
    findCircle(['a', 'b', 'd'], (f) => graph[f] ?? []),
    undefined,
    'a chain is no circle',
  )
})

// issue 20: the controller had deps.ts → workload.ts → status-util.ts → deps.ts, the portal
// api-tokens.ts ⇄ tenancy.ts; none may come back, anywhere in the product.
t.test('no import circle in src/, controller/ or agent/', async (t) => {
  for (const dir of ['controller', 'agent', 'src']) {
    t.equal(
      findCircle(tsFiles(dir))?.join(' → '),
      undefined,
      `${dir}: break the circle: move what both sides need into a module of its own`,
    )
  }
})

// The map names files (the GameServer's path names one per hop): each must exist, so a move or a
// rename updates the page too.
t.test('every repository path docs/architecture.md names exists', async (t) => {
  const text = readFileSync(DOC, 'utf8')
  const named = [...text.matchAll(/`((?:controller|src|agent|crds|manifests|test|docs|examples|bench)\/[\w./-]*)`/g)].map((m) => m[1]!)
  t.ok(named.length > 20, `${named.length} paths named`)
  t.same(
    named.filter((p) => !existsSync(join(REPO, p))),
    [],
    'update docs/architecture.md with the move',
  )
})
