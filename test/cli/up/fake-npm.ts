// A fake `npm` for the code-server build's orchestration tests: a shell script that records each
// run (and its environment), prints npm-like progress, and either installs a tiny code-server
// stand-in (node_modules/code-server: package.json + out/node/entry.js answering --version and
// /healthz on --bind-addr) and exits 0, or — while the fail file exists — prints npm's real
// kerberos failure and exits 1. The build runs npm in a clean environment, so everything the
// script needs is baked into it, not passed through variables.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { NpmCommand } from '../../../src/cli/up/code-server-build.ts'

export const FAKE_VERSION = '4.99.1'

const ENTRY = `'use strict'
// code-server STAND-IN (test fake, not code-server): --version, /healthz on --bind-addr.
const http = require('node:http')
const args = process.argv.slice(2)
if (args.includes('--version')) { console.log('${FAKE_VERSION} fake'); process.exit(0) }
const bind = args[args.indexOf('--bind-addr') + 1] || '127.0.0.1:6000'
const host = bind.slice(0, bind.lastIndexOf(':'))
const port = Number(bind.slice(bind.lastIndexOf(':') + 1))
http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end(JSON.stringify({ status: 'alive', lastHeartbeat: Date.now() }))
  res.end('code-server stand-in')
}).listen(port, host)
process.on('SIGTERM', () => process.exit(0))
`

export interface FakeNpm {
  npm: NpmCommand
  /** While this file exists, the install fails like a machine without libkrb5-dev. */
  failFile: string
  /** One file per run, holding that run's environment (`env -0`-like, one VAR=value a line). */
  runs(): Array<Record<string, string>>
  /** Releases runs that wait for the gate (when created with gated: true). */
  gateFile: string
}

export function fakeNpm(dir: string, opts: { gated?: boolean } = {}): FakeNpm {
  mkdirSync(dir, { recursive: true })
  const runsDir = join(dir, 'runs')
  mkdirSync(runsDir, { recursive: true })
  const failFile = join(dir, 'fail')
  const gateFile = join(dir, 'gate')
  writeFileSync(join(dir, 'entry.js'), ENTRY)
  const script = join(dir, 'npm')
  writeFileSync(
    script,
    `#!/bin/sh
# fake npm (test): records the run, then installs a stand-in or fails like npm without libkrb5-dev
env > "${runsDir}/run-$$-$(date +%s%N)"
echo "npm http fetch GET 200 https://registry.npmjs.org/code-server"
${opts.gated ? `i=0; while [ ! -e "${gateFile}" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done` : ''}
if [ -e "${failFile}" ]; then
  echo "npm error code 1" >&2
  echo "npm error path $PWD/node_modules/kerberos" >&2
  echo "npm error command sh -c prebuild-install --runtime napi || node-gyp rebuild" >&2
  echo "npm error //registry.example.com/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123" >&2
  echo "npm error /bin/sh: 1: krb5-config: not found" >&2
  echo "npm error gyp: Call to 'krb5-config --libs gssapi' returned exit status 127 while in binding.gyp." >&2
  echo "npm error gyp ERR! configure error" >&2
  exit 1
fi
mkdir -p node_modules/code-server/out/node node_modules/dep
head -c 2000000 /dev/zero > node_modules/dep/blob
printf '{"name":"code-server","version":"${FAKE_VERSION}"}' > node_modules/code-server/package.json
cp "${join(dir, 'entry.js')}" node_modules/code-server/out/node/entry.js
echo "added 512 packages in 3s"
`,
    { mode: 0o755 },
  )
  return {
    npm: { cmd: script, args: [] },
    failFile,
    gateFile,
    runs: () =>
      readdirSync(runsDir)
        .sort()
        .map((f) =>
          Object.fromEntries(
            readFileSync(join(runsDir, f), 'utf8')
              .split('\n')
              .filter((l) => l.includes('='))
              .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
          ),
        ),
  }
}

export function setFail(fake: FakeNpm, fail: boolean): void {
  if (fail) writeFileSync(fake.failFile, '')
  else if (existsSync(fake.failFile)) rmSync(fake.failFile)
}
