// The cached bundle (src/platform/node-bundle.ts): built once, reused while its inputs are
// unchanged, rebuilt into a new directory when one changes (the old one kept for programs still
// running from it), complete for concurrent builders, and the ES module code inside it still knows
// where it lives.
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { KEEP_BUILDS, bundle, type BundleSpec } from '../../src/platform/node-bundle.ts'

function project(t: Test): BundleSpec {
  const dir = t.testdir()
  mkdirSync(path.join(dir, 'src'))
  writeFileSync(path.join(dir, 'src/lib.ts'), "export const word: string = 'one'\n")
  writeFileSync(
    path.join(dir, 'src/main.ts'),
    "import path from 'node:path'\nimport { word } from './lib.ts'\nconsole.log(word, path.basename(import.meta.filename), path.basename(import.meta.dirname))\n",
  )
  writeFileSync(path.join(dir, 'src/other.ts'), "console.log('other')\n")
  return { entries: { main: path.join(dir, 'src/main.ts'), other: path.join(dir, 'src/other.ts') }, cacheDir: path.join(dir, 'cache') }
}
/** Whether a 64-bit ELF file names a program interpreter (PT_INTERP): a dynamically linked executable does. */
function hasInterpreter(file: string): boolean {
  const elf = readFileSync(file)
  const phoff = Number(elf.readBigUInt64LE(0x20))
  const size = elf.readUInt16LE(0x36)
  return Array.from({ length: elf.readUInt16LE(0x38) }, (_, i) => elf.readUInt32LE(phoff + i * size)).includes(3)
}
const run = (file: string) => execFileSync(process.execPath, [file], { encoding: 'utf8' }).trim()
/** This process's children that are esbuild (its service process). */
const esbuildChildren = (): string[] =>
  execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('esbuild'))

t.test('built once, then taken from the cache; the output runs and knows its own file', async (t) => {
  const spec = project(t)
  const first = await bundle(spec)
  t.equal(first.built, true)
  t.same(Object.keys(first.files).sort(), ['main', 'other'])
  t.equal(path.dirname(first.files.main!), first.dir)
  t.equal(
    run(first.files.main!),
    `one main.cjs ${path.basename(first.dir)}`,
    'import.meta.filename/dirname are the bundle file and its directory',
  )
  t.equal(run(first.files.other!), 'other')
  const second = await bundle(spec)
  t.equal(second.built, false, 'unchanged inputs: the cached build')
  t.equal(second.dir, first.dir)
})

t.test('a changed input builds a new directory; the old one stays for what still runs from it', async (t) => {
  const spec = project(t)
  const first = await bundle(spec)
  writeFileSync(path.join(path.dirname(spec.entries.main!), 'lib.ts'), "export const word: string = 'two'\n")
  const second = await bundle(spec)
  t.equal(second.built, true)
  t.not(second.dir, first.dir)
  t.match(run(second.files.main!), /^two /)
  t.ok(existsSync(first.files.main!), 'the previous build is kept')
})

t.test('concurrent builders each get a complete build, and no scratch directory is left', async (t) => {
  const spec = project(t)
  const builds = await Promise.all([bundle(spec), bundle(spec), bundle(spec)])
  for (const b of builds) t.match(run(b.files.main!), /^one /)
  t.equal(new Set(builds.map((b) => b.dir)).size, 1, 'one build directory')
  t.same(
    readdirSync(spec.cacheDir).filter((n) => n.startsWith('.')),
    [],
    'scratch directories removed',
  )
  t.same(esbuildChildren(), [], "esbuild's service process (≈100 MiB) is stopped once no build runs")
})

t.test('a build that fails names the cause and leaves nothing behind', async (t) => {
  const spec = project(t)
  writeFileSync(spec.entries.main!, "import { nothing } from './missing.ts'\nconsole.log(nothing)\n")
  await t.rejects(bundle(spec), /missing\.ts/)
  t.same(existsSync(spec.cacheDir) ? readdirSync(spec.cacheDir) : [], [])
})

t.test('old builds are pruned beyond the newest KEEP_BUILDS, but none younger than a day', async (t) => {
  const spec = project(t)
  const lib = path.join(path.dirname(spec.entries.main!), 'lib.ts')
  const dirs: string[] = []
  for (let i = 0; i < KEEP_BUILDS + 2; i++) {
    writeFileSync(lib, `export const word: string = 'v${i}'\n`)
    dirs.push((await bundle(spec)).dir)
  }
  t.ok(
    dirs.every((d) => existsSync(d)),
    'all builds of the last day are kept',
  )
  // All but the newest made two days old, in build order.
  dirs.slice(0, -1).forEach((d, i) => {
    const when = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000 + i * 1000)
    utimesSync(d, when, when)
  })
  writeFileSync(lib, "export const word: string = 'last'\n")
  const last = await bundle(spec)
  const kept = readdirSync(spec.cacheDir).filter((n) => /^[0-9a-f]{32}$/.test(n))
  t.equal(kept.length, KEEP_BUILDS, `the newest ${KEEP_BUILDS} builds are kept`)
  t.ok(kept.includes(path.basename(last.dir)))
  t.notOk(existsSync(dirs[0]!), 'the oldest build is removed')
})

t.test('lazy builtins load on first use, and work through require, default and named imports', async (t) => {
  const dir = t.testdir({
    'dep.cjs':
      "const http2 = require('node:http2')\nconst tls = require('tls')\nmodule.exports = { later: () => typeof http2.connect + typeof tls.connect }\n",
    'main.ts': [
      "import dns, { lookup } from 'node:dns/promises'",
      "import { later } from './dep.cjs'",
      'const loaded = (name: string) => process.moduleLoadList.includes(`NativeModule ${name}`)',
      "const before = ['http2', 'tls', 'dns/promises'].map(loaded)",
      'const calls = later() + typeof lookup + typeof dns.resolve',
      "const after = ['http2', 'tls', 'dns/promises'].map(loaded)",
      'console.log(JSON.stringify({ before, calls, after }))',
      '',
    ].join('\n'),
  })
  const b = await bundle({
    entries: { main: path.join(dir, 'main.ts') },
    cacheDir: path.join(dir, 'cache'),
    lazyBuiltins: ['http2', 'tls', 'dns/promises'],
  })
  // An empty environment: the test runner's NODE_OPTIONS preloads modules of its own.
  const runClean = (file: string) => execFileSync(process.execPath, [file], { encoding: 'utf8', env: {} }).trim()
  const out = JSON.parse(runClean(b.files.main!)) as { before: boolean[]; calls: string; after: boolean[] }
  // An ES module import copies the module's keys at load (dns/promises); CommonJS requires wait.
  t.same(out.before, [false, false, true], 'http2 and tls are not loaded by requiring them')
  t.equal(out.calls, 'functionfunctionfunctionfunction', 'their functions are reached through the proxy')
  t.same(out.after, [true, true, true], 'and loaded by that first use')
  const plain = await bundle({ entries: { main: path.join(dir, 'main.ts') }, cacheDir: path.join(dir, 'cache') })
  t.not(plain.dir, b.dir, 'the lazy list is part of the build hash')
  t.same((JSON.parse(runClean(plain.files.main!)) as { before: boolean[] }).before, [true, true, true], 'without it they load at require')
})

t.test(
  'a native program is compiled into the bundle, rebuilt when its source changes, and missing with a reason without a compiler',
  async (t) => {
    const spec = project(t)
    const source = path.join(path.dirname(spec.entries.main!), 'hello.c')
    writeFileSync(source, '#include <stdio.h>\nint main(void) { puts("hello from C"); return 0; }\n')
    spec.native = { hello: source }
    const first = await bundle(spec)
    t.same(first.nativeMissing, {})
    t.equal(first.files.hello, path.join(first.dir, 'hello'))
    t.equal(execFileSync(first.files.hello!, { encoding: 'utf8' }), 'hello from C\n')
    t.notOk(hasInterpreter(first.files.hello!), 'static (no ELF interpreter): it runs whatever the C library of the container')
    const again = await bundle(spec)
    t.equal(again.built, false)
    t.equal(again.files.hello, first.files.hello)

    writeFileSync(source, '#include <stdio.h>\nint main(void) { puts("changed"); return 0; }\n')
    const changed = await bundle(spec)
    t.not(changed.dir, first.dir, 'a changed C source is a new build')
    t.equal(execFileSync(changed.files.hello!, { encoding: 'utf8' }), 'changed\n')

    writeFileSync(source, 'int main(void) { return undeclared; }\n')
    const broken = await bundle(spec)
    t.equal(broken.files.hello, undefined)
    t.match(broken.nativeMissing.hello, /could not compile .*hello\.c: .*undeclared/s, 'the compiler says why')
    t.ok(broken.files.main, 'the JavaScript outputs are there all the same')

    const saved = process.env.CC
    process.env.CC = '/nonexistent/cc'
    t.teardown(() => {
      if (saved === undefined) delete process.env.CC
      else process.env.CC = saved
    })
    const none = await bundle(spec)
    t.match(none.nativeMissing.hello, /^no C compiler: \/nonexistent\/cc --version failed \(ENOENT\)/)
    t.not(none.dir, broken.dir, 'the compiler is one of the inputs: installing one builds again')
    delete process.env.CC
    writeFileSync(source, '#include <stdio.h>\nint main(void) { puts("fixed"); return 0; }\n')
    const fixed = await bundle(spec)
    t.equal(execFileSync(fixed.files.hello!, { encoding: 'utf8' }), 'fixed\n')
  },
)
