// The shared conformance suite against the process provider: real `zlh agent` processes,
// detached, on loopback ports; each fresh provider object is a restarted controller finding them.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ProcessBackend, randomPortBaseBelowEphemeral } from '../../../src/providers/process/index.ts'
import { runConformance } from '../conformance.ts'

// Outside the project (t.testdir() would put it under .tap/, which the lxc provider bind-mounts).
const rootDir = mkdtempSync(join(tmpdir(), 'zlh-process-conformance-'))
const portRangeStart = randomPortBaseBelowEphemeral(100)
t.teardown(() => rmSync(rootDir, { recursive: true, force: true }))

runConformance(t, {
  make: () => new ProcessBackend({ rootDir, portRangeStart, cliPath: resolve(import.meta.dirname, '../../../bin/zlh.js') }),
  tokenRotation: 'restarts-agent',
  agentTimeoutSeconds: 60,
})
