// The agent bundle's entry (agent.cjs): turns on Node's compile cache kept beside the bundle, then
// loads the agent itself (agent-main.cjs, built from bin.ts, which takes the flags).
//
// Why a separate file: the cache must be on before the agent's 1.8 MB file is compiled, which no
// code inside that file can do; with it a start compiles ≈30–50 ms less (bench/footprint.ts).
// The cache is written once when the bundle is built (src/providers/agent-launch.ts runs the
// agent with --help); in a container the project is mounted read-only and the cache is only read.
// A missing, stale or unwritable cache costs only the compile: Node checks each entry against the
// file's content and its own version and flags, and never fails a start over it.
// Bundle only: the sources start through bin.ts or `zlh agent`.
import module, { createRequire } from 'node:module'
import path from 'node:path'

// Portable: entries are keyed relative to the cache, so the same files mounted elsewhere (the
// project inside a container) still hit.
module.enableCompileCache({ directory: path.join(import.meta.dirname, 'compile-cache'), portable: true })
createRequire(import.meta.filename)('./agent-main.cjs')
