// `npm install` compiles nothing: no locked package has an install script (or a binding.gyp, which
// npm turns into an implicit `node-gyp rebuild`) except the pinned `node`, which only unpacks its
// binary, and esbuild (the agent's bundler), whose script only checks the prebuilt binary that its
// per-platform optional dependency brought from the npm registry; `allowScripts` in package.json
// allows exactly those two. The PTY for dev consoles comes
// from @lydell/node-pty, whose per-platform binaries are plain optional dependencies.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const REPO = join(import.meta.dirname, '..')
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
  allowScripts?: Record<string, unknown>
}
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean; optional?: boolean }>
}

t.test('no locked package runs an install script but the pinned node and esbuild', async (t) => {
  const withScripts = Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && p.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ''))
  t.same(withScripts.sort(), ['esbuild', 'node'], 'anything else here compiles or downloads at install: find a prebuilt distribution')
  t.same(Object.keys(pkg.allowScripts ?? {}).sort(), ['esbuild', 'node'], 'allowScripts names exactly the packages whose scripts must run')
  for (const platform of ['linux-x64', 'linux-arm64']) {
    t.ok(
      lock.packages[`node_modules/@esbuild/${platform}`]?.optional,
      `esbuild's ${platform} binary locked: its script has nothing to fetch`,
    )
  }
})

t.test('the PTY comes prebuilt for the platforms we run on', async (t) => {
  t.notOk(pkg.dependencies['node-pty'], 'node-pty compiles on Linux (its prebuilds are macOS/Windows only)')
  t.ok(pkg.dependencies['@lydell/node-pty'])
  for (const platform of ['linux-x64', 'linux-arm64']) {
    t.ok(lock.packages[`node_modules/@lydell/node-pty-${platform}`]?.optional, `${platform} binary locked`)
  }
})
