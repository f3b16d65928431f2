// The code-server build's orchestration, with a fake npm (the real ~3 min build is exercised by the
// browser test): a clean environment whatever the parent's npm variables; one per-user cache
// reused by every state dir; concurrent builders build once; a partial or damaged cache is rebuilt;
// a failure carries npm's last lines (secrets redacted) and names the missing package.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  cleanBuildEnv,
  CodeServerBuildError,
  ensureCodeServerBuild,
  lastLines,
  linkInto,
  missingPrerequisite,
  validBuild,
} from '../../../src/cli/up/code-server-build.ts'
import { resolveCacheDir } from '../../../src/cli/state-dir.ts'
import { fakeNpm, FAKE_VERSION, setFail } from './fake-npm.ts'

t.setTimeout(240_000)

const npmStartEnv = {
  PATH: `/work/x/node_modules/.bin:/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin:/usr/bin:/bin`,
  HOME: '/home/someone',
  LANG: 'C.UTF-8',
  npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
  npm_lifecycle_event: 'start',
  npm_lifecycle_script: 'node src/cli/main.ts up',
  npm_execpath: '/nonexistent/npm-cli.js',
  npm_node_execpath: '/usr/bin/node',
  npm_package_name: 'zlh',
  npm_config_cache: '/home/someone/.npm',
  INIT_CWD: '/work/x',
  NODE_OPTIONS: '--max-old-space-size=64',
  FORCE_NODE_VERSION: '20',
  SECRET_TOKEN: 'x',
}

t.test('the cache directory: $ZLH_CACHE_DIR, else $XDG_CACHE_HOME/zlh, else ~/.cache/zlh', async (t) => {
  t.equal(resolveCacheDir({ ZLH_CACHE_DIR: '/c/z', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c/z')
  t.equal(resolveCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/zlh')
  t.equal(resolveCacheDir({ HOME: '/h' }), '/h/.cache/zlh')
})

t.test('npm runs in a clean environment even under `npm start` on another Node', async (t) => {
  const env = cleanBuildEnv(npmStartEnv)
  t.same(
    Object.keys(env).filter((k) => k.toLowerCase().startsWith('npm_')),
    [],
    'no npm_* variable',
  )
  t.notOk('NODE_OPTIONS' in env || 'FORCE_NODE_VERSION' in env || 'SECRET_TOKEN' in env || 'INIT_CWD' in env)
  const path = (env.PATH as string).split(':')
  t.match(path[0], /node_modules\/node\/bin$/, 'the pinned Node first')
  t.notOk(
    path.some((d) => d.includes('node_modules/.bin') || d.includes('node-gyp-bin')),
    'not what npm run prepended',
  )
  t.equal(env.HOME, '/home/someone')

  const dir = t.testdir()
  const fake = fakeNpm(join(dir, 'fake'))
  await ensureCodeServerBuild({ cacheDir: join(dir, 'cache'), npm: fake.npm, parentEnv: npmStartEnv, detail: () => {} })
  const [run] = fake.runs()
  t.ok(run, 'npm ran')
  t.same(
    Object.keys(run as object).filter((k) => /^npm_/i.test(k)),
    [],
    'the child saw no npm_* variable',
  )
  t.notOk((run as Record<string, string>).FORCE_NODE_VERSION)
  t.match((run as Record<string, string>).PATH, /^[^:]*node_modules\/node\/bin:/)
})

t.test('one cache serves two state dirs; concurrent builders build once', async (t) => {
  const dir = t.testdir()
  const fake = fakeNpm(join(dir, 'fake'), { gated: true })
  const cacheDir = join(dir, 'cache', 'code-server')
  const details: string[] = []
  const a = ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: (s) => details.push(s) })
  const b = ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: (s) => details.push(s) })
  // Both started: one holds the lock, the other waits for it.
  for (let i = 0; i < 200 && !details.some((d) => d.startsWith('waiting for another build')); i++)
    await new Promise((r) => setTimeout(r, 50))
  t.ok(
    details.some((d) => d.startsWith('waiting for another build of code-server (pid')),
    'the second builder waits for the first',
  )
  writeFileSync(fake.gateFile, '')
  const [x, y] = await Promise.all([a, b])
  t.equal(fake.runs().length, 1, 'npm ran once')
  t.equal(x.sha256, y.sha256)
  t.equal(x.version, FAKE_VERSION)
  t.notOk(existsSync(join(cacheDir, 'build.lock')), 'lock released')

  const stateA = join(dir, 'stateA', 'artifacts')
  const stateB = join(dir, 'stateB', 'artifacts')
  for (const out of [stateA, stateB]) {
    const again = await ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: () => {} })
    const served = await linkInto(again, out)
    t.equal(statSync(served).size, again.sizeBytes, `${out}: the cached tarball, linked`)
  }
  t.equal(fake.runs().length, 1, 'a second state dir reuses the cache: npm did not run again')
})

t.test('a partial or damaged cache is rebuilt', async (t) => {
  const dir = t.testdir()
  const fake = fakeNpm(join(dir, 'fake'))
  const cacheDir = join(dir, 'cache')
  const first = await ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: () => {} })

  truncateSync(first.file, 1000) // a tarball cut short
  t.equal(await validBuild(cacheDir), undefined, 'a truncated tarball is not a valid build')
  const second = await ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: () => {} })
  t.equal(fake.runs().length, 2, 'rebuilt')
  t.equal(second.version, first.version)
  t.ok(await validBuild(cacheDir), 'valid again')

  rmSync(join(cacheDir, 'current', 'built.json')) // an interrupted build without its marker
  mkdirSync(join(cacheDir, 'tmp-999999-1'), { recursive: true }) // another builder's leftover
  writeFileSync(join(cacheDir, 'build.lock'), '999999\n') // …and its lock (that pid is not alive)
  await ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: () => {} })
  t.equal(fake.runs().length, 3, 'rebuilt')
  t.notOk(existsSync(join(cacheDir, 'tmp-999999-1')), 'leftover removed')
  t.notOk(existsSync(join(cacheDir, 'build.lock')), 'stale lock replaced and released')
  t.ok(await validBuild(cacheDir))
})

t.test("a failed build: npm's last lines, secrets redacted, the missing package named; nothing cached", async (t) => {
  const dir = t.testdir()
  const fake = fakeNpm(join(dir, 'fake'))
  setFail(fake, true)
  const cacheDir = join(dir, 'cache')
  const err = await ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: () => {} }).catch((e: unknown) => e)
  t.ok(err instanceof CodeServerBuildError)
  const msg = (err as Error).message
  t.match(
    msg,
    /^npm install code-server@4 failed \(exit 1\): the Kerberos headers are missing: install libkrb5-dev \(Debian\/Ubuntu\) or krb5-devel/,
  )
  t.match(msg, /krb5-config: not found/)
  t.notMatch(msg, /npm_abcdefghijklmnopqrstuvwxyz0123/, 'the token is redacted')
  t.match(msg, /_authToken=\*\*\*/)
  t.notOk(existsSync(join(cacheDir, 'current')), 'no cache entry')
  t.notOk(existsSync(join(cacheDir, 'build.lock')))

  t.equal(missingPrerequisite('gyp ERR! find Python\ngyp ERR! not found'), 'Python is missing: install python3')
  t.equal(missingPrerequisite('all fine'), undefined)
  // What a build with no reachable header download printed (node-gyp found Python, then failed on the headers).
  const noHeaders = [
    'gyp info find Python using Python version 3.11.2 found at "/usr/bin/python3"',
    'gyp ERR! configure error',
    'gyp ERR! stack Error: This is most likely not a problem with node-gyp or the package itself and',
    'gyp ERR! stack is related to network connectivity. In most cases you are behind a proxy or have bad',
    'gyp ERR! stack at async getNodeDir (/usr/lib/node_modules/npm/node_modules/node-gyp/lib/configure.js:79:7)',
  ].join('\n')
  t.match(missingPrerequisite(noHeaders), /could not download the Node headers/, 'a header download failure is named as such')
  t.notMatch(missingPrerequisite(noHeaders) ?? '', /Python is missing/, 'node-gyp\'s "find Python" info line is not a missing Python')
  t.same(lastLines('\x1b[31mred\x1b[0m\n\nAuthorization: Bearer abc.def\nlast', 2), ['Authorization: Bearer ***', 'last'])
  t.same(lastLines('npm error code ECONNREFUSED\na\nb\nc', 2), ['npm error code ECONNREFUSED', '…', 'b', 'c'], "npm's error code is kept")
  t.equal(lastLines('https://me:hunter2@registry.example/x')[0], 'https://***@registry.example/x')
})

t.test('the linked artifact survives a rebuild of the cache', async (t) => {
  const dir = t.testdir()
  const fake = fakeNpm(join(dir, 'fake'))
  const cacheDir = join(dir, 'cache')
  const built = await ensureCodeServerBuild({ cacheDir, npm: fake.npm, detail: () => {} })
  const served = await linkInto(built, join(dir, 'artifacts'))
  const before = readFileSync(served)
  rmSync(join(cacheDir, 'current'), { recursive: true })
  t.same(readFileSync(served), before, 'the state dir keeps its own link')
})
