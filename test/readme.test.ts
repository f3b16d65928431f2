// The `kubectl get …` commands that README.md, docs/*.md and the `zlh up` banner tell a person to
// type work as written: each one runs with the real kubectl against the embedded API server with
// the CRDs and manifests/examples/ (with its catalog/) applied. A watch (-w) is ended by --request-timeout, which
// kubectl treats as a normal end of the watch; an unwatchable command fails before watching.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CRDS, EXAMPLES, REPO, startServer } from './apiserver/harness.ts'

const SOURCES = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'src/cli/up/command.ts',
]

/** Every `kubectl get …` in `text`, as argument lists (without `kubectl`), up to the end of the
 * command; a single-quoted argument (`-o jsonpath='{.spec}'`) is one argument, as the shell reads it. */
function kubectlGets(text: string): string[][] {
  const found: string[][] = []
  for (const m of text.matchAll(/kubectl get (?:'[^'\n`]*'|[^`'"\n&|;#)])*/g)) {
    const words =
      m[0]
        .trim()
        .replace(/[.,:]+$/, '')
        .match(/(?:'[^']*'|[^\s'])+/g) ?? []
    const args = words.map((w) => w.replaceAll("'", '')).slice(1)
    if (args.some((a) => /[<>…]/.test(a))) continue // a placeholder the reader fills in
    found.push(args)
  }
  return found
}

t.test('the extractor finds commands in prose, code blocks and string literals', async (t) => {
  t.same(kubectlGets('watch `kubectl get zgs -w`: it restarts'), [['get', 'zgs', '-w']])
  t.same(kubectlGets("    '  kubectl get gameservers -w',"), [['get', 'gameservers', '-w']])
  t.same(kubectlGets('$ kubectl get zlh\nkubectl apply -f x && kubectl get zlh -w\n'), [
    ['get', 'zlh'],
    ['get', 'zlh', '-w'],
  ])
  t.same(kubectlGets('kubectl get zgs <name> -o yaml'), [])
  t.same(kubectlGets("kubectl get zcp proxmox -o jsonpath='{.spec.outbound}'\n"), [
    ['get', 'zcp', 'proxmox', '-o', 'jsonpath={.spec.outbound}'],
  ])
})

t.test('every kubectl get in the docs and the start banner runs as written', async (t) => {
  const commands = new Map<string, string[]>()
  for (const file of SOURCES) {
    for (const args of kubectlGets(readFileSync(join(REPO, file), 'utf8'))) commands.set(`${file}: kubectl ${args.join(' ')}`, args)
  }
  t.ok(
    [...commands.keys()].some((k) => k.startsWith('src/cli/up/command.ts: kubectl get') && / -w$/.test(k)),
    'the banner tells how to watch',
  )
  t.ok(
    [...commands.keys()].some((k) => k.startsWith('README.md: kubectl get') && / -w$/.test(k)),
    'the README tells how to watch',
  )

  const h = await startServer(t)
  await h.k('apply', '-f', CRDS)
  await h.k('apply', '-R', '-f', EXAMPLES) // catalog/ too: the docs list providers and catalogs
  for (const [where, args] of commands) {
    const watch = args.includes('-w') || args.includes('--watch')
    const r = await h.kubectl(watch ? [...args, '--request-timeout=2s'] : args, { timeoutMs: 30_000 })
    t.equal(r.code, 0, r.stderr.trim() ? `${where}: ${r.stderr.trim()}` : where)
    t.notMatch(r.stderr, /error/i, where)
    t.not(r.stdout.trim(), '', `${where} shows something`)
  }
})
