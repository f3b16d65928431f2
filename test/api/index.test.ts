// The public surface of src/api: the agent's wire types are importable through index.ts (type
// checked with the project's own compiler), and the controller uses that surface only.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const ROOT = resolve(import.meta.dirname, '../..')
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

t.test('agent wire types type-check when imported from src/api/index.ts', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'uses-wire-types.ts')
  writeFileSync(
    file,
    [
      `import type { AgentStatus, CodeServerState, GameInfo, GameSpecRequest, ModsListing, DirectoryListing, AgentErrorBody } from ${JSON.stringify(join(ROOT, 'src/api/index.ts'))}`,
      `export type All = [AgentStatus, CodeServerState, GameInfo, GameSpecRequest, ModsListing, DirectoryListing, AgentErrorBody]`,
      `export const phase: CodeServerState['phase'] = 'Running'`,
      '',
    ].join('\n'),
  )
  const args = [
    '--ignoreConfig',
    '--noEmit',
    '--strict',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2024',
    '--allowImportingTsExtensions',
    '--verbatimModuleSyntax',
    '--skipLibCheck',
    '--types',
    'node',
    '--typeRoots',
    join(ROOT, 'node_modules/@types'),
    file,
  ]
  // env -i: the test runner injects its loader into spawned children; the compiler must run as a plain program.
  const out = await promisify(execFile)('/usr/bin/env', ['-i', `PATH=${process.env.PATH ?? ''}`, process.execPath, TSC, ...args], {
    cwd: dir,
  }).then(
    () => '',
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
  )
  t.equal(out, '', 'tsc reports no errors')
})

t.test('controller imports src/api only through index.ts', async (t) => {
  const dir = join(ROOT, 'controller')
  const offenders: string[] = []
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts')) continue
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/from '((?:\.\.\/)+src\/api\/[^']+)'/g)) {
      if (!m[1]!.endsWith('src/api/index.ts')) offenders.push(`${f}: ${m[1]}`)
    }
  }
  t.same(offenders, [])
})
