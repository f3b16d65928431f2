// A code-server STAND-IN for tests: a small HTTP program packaged like code-server's release
// tarball (bin/code-server, accepts --bind-addr and --version, serves /healthz). It is NOT
// code-server; it stands in for the 750 MB build where only the lifecycle matters. Test-only:
// product code never ships it (`zlh artifacts build --only code-server` packs the real one).
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { packTree, type BuiltArtifact } from '../../src/cli/artifacts/index.ts'

const codeServerStandIn = `'use strict'
// code-server STAND-IN (not code-server): accepts --bind-addr, serves /healthz and a page.
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const args = process.argv.slice(2)
if (args.includes('--version')) { console.log(fs.readFileSync(path.join(__dirname, 'VERSION'), 'utf8').trim()); process.exit(0) }
const bind = args[args.indexOf('--bind-addr') + 1] || '127.0.0.1:6000'
const host = bind.slice(0, bind.lastIndexOf(':'))
const port = Number(bind.slice(bind.lastIndexOf(':') + 1))
http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end(JSON.stringify({ status: 'alive', lastHeartbeat: Date.now() }))
  res.setHeader('content-type', 'text/html')
  res.end('<!doctype html><title>code-server stand-in</title><p>code-server stand-in</p>')
}).listen(port, host)
process.on('SIGTERM', () => process.exit(0))
`

/** code-server-<version>.tar.gz in outDir: the stand-in, packaged like code-server. */
export async function buildCodeServerStandIn(outDir: string, version = '4.99.0-standin'): Promise<BuiltArtifact> {
  await mkdir(outDir, { recursive: true })
  const staging = await mkdtemp(join(outDir, '.staging-'))
  try {
    await mkdir(join(staging, 'bin'))
    await mkdir(join(staging, 'lib'))
    await writeFile(join(staging, 'bin', 'code-server'), '#!/bin/sh\nexec node "$(dirname "$0")/../lib/stand-in.cjs" "$@"\n', {
      mode: 0o755,
    })
    await writeFile(join(staging, 'lib', 'stand-in.cjs'), codeServerStandIn)
    await writeFile(join(staging, 'lib', 'VERSION'), `${version}\n`)
    return await packTree(staging, outDir, 'code-server', version)
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}
