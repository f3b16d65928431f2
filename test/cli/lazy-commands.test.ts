// `zlh <command>` loads only that command's modules (src/cli/main.ts): the agent runs in every
// container, and loading the API server, the controller and the gateway before picking `agent`
// cost it ≈ 62 MiB and 0.65 s (issue 23). Which modules a run loads is recorded by a module
// resolve hook (module.registerHooks) preloaded with --import.
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const REPO = path.join(import.meta.dirname, '..', '..')
const BIN = path.join(REPO, 'bin', 'zlh.js')

/** The repository files (not node_modules) a `zlh …` run resolves, relative to the repository. */
function modulesLoadedBy(t: Test, args: string[]): { files: string[]; stdout: string } {
  const dir = t.testdir()
  const hook = path.join(dir, 'record.mjs')
  const log = path.join(dir, 'modules.txt')
  writeFileSync(log, '')
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module'
import { appendFileSync } from 'node:fs'
registerHooks({ resolve(specifier, context, next) {
  const found = next(specifier, context)
  if (found.url.startsWith('file:')) appendFileSync(${JSON.stringify(log)}, found.url + '\\n')
  return found
} })
`,
  )
  const stdout = execFileSync(process.execPath, ['--import', pathToFileURL(hook).href, BIN, ...args], { encoding: 'utf8', cwd: REPO })
  const root = `${pathToFileURL(REPO).href}/`
  const files = [...new Set(readFileSync(log, 'utf8').split('\n'))]
    .filter((u) => u.startsWith(root) && !u.includes('/node_modules/'))
    .map((u) => u.slice(root.length))
  return { files, stdout }
}

t.test('zlh agent loads the agent and nothing of the API server, controller, gateway or up', async (t) => {
  const { files, stdout } = modulesLoadedBy(t, ['agent', '--help'])
  t.match(stdout, /Usage: zlh agent/)
  t.ok(files.includes('agent/cli.ts'), 'the agent command module is loaded')
  const foreign = files.filter((f) => /^(src\/apiserver|src\/gateway|src\/runtime|controller|src\/cli\/up|src\/cli\/artifacts)\//.test(f))
  t.same(foreign, [], 'no other component is loaded')
})

t.test('zlh validate loads the validator, not the agent', async (t) => {
  const { files, stdout } = modulesLoadedBy(t, ['validate', '--help'])
  t.match(stdout, /Usage: zlh validate/)
  t.same(
    files.filter((f) => f.startsWith('agent/') || f.startsWith('controller/')),
    [],
  )
})

t.test('without a command name every command is listed, in the usual order', async (t) => {
  const { stdout } = modulesLoadedBy(t, ['--help'])
  const listed = [...stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1])
  t.same(listed, ['validate', 'agent', 'apiserver', 'controller', 'gateway', 'up', 'kubeconfig', 'status', 'ide', 'artifacts', 'help'])
})
