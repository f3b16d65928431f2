// How a provider starts the agent in a container: `node <bundle>/agent.cjs <zlh agent flags>`.
//
// The agent and its game wrapper ship as one bundle (src/platform/node-bundle.ts) built from the
// project's sources the first time a provider needs it and cached in
// <project>/node_modules/.cache/zlh-agent/<hash of the inputs>/ — never committed. The lxc
// provider bind-mounts the project, so the same files are seen inside the container.
// Chosen over running the TypeScript sources (`zlh agent`, kept for development) because the
// bundle starts in a fraction of the time and memory: one CommonJS file, no type stripping, no
// module graph (bench/footprint.ts, bench/RESULTS.md "Footprint").
//
// The game wrapper is native where the machine building the bundle has a C compiler
// (agent/game/wrapper.c, ≈1 MiB of memory per game instead of Node's ≈48): the bundle's
// game-wrapper. Without a compiler it is wrapper.cjs, the same program in Node, and the reason is
// in `nativeMissing` for the caller to show.
//
// Guarantees: the wrapper the agent starts is the bundle's own, beside agent.cjs
// (agent/game/launcher.ts picks the wrapper beside itself, the native one first). One build per
// process: the first call builds or checks the cache; later calls reuse its answer.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { bundle } from '../platform/node-bundle.ts'

export interface AgentLaunch {
  /** the Node binary */
  command: string
  /** arguments before the agent's own flags (`--root`, `--listen`, …) */
  args: string[]
  /** the bundle's agent and wrapper files (the wrapper: game-wrapper when compiled, else wrapper.cjs) */
  agentScript: string
  wrapperScript: string
  /** why the native wrapper is not in the bundle, when it is not */
  nativeWrapperMissing?: string
}

/** The native wrapper's file name in the bundle: the name agent/game/launcher.ts looks for beside itself. */
const NATIVE_WRAPPER = 'game-wrapper'

/**
 * Node flags for the agent (measured in bench/footprint.ts): V8's lite mode (no optimizing
 * compilers, feedback allocated lazily) saves ≈20 MiB of an idle agent, and a 1 MiB semi-space
 * keeps the young generation from growing under request bursts and installs (≈60 MiB of peak).
 * The agent's hot paths (hashing, gunzip, sockets) run in native code, so the lost JIT matters little.
 * `--expose-gc` lets downloads free their dead Buffers as they go (src/platform/dead-buffers.ts):
 * ≈13 MiB less at the peak of an install. `--bytecode-old-age=2`: the bytecode of a function not
 * run across two major GCs is dropped (V8's default waits for six), so what only the start ran is
 * freed once the agent settles (≈1.5 MiB of an idle agent); a function run again is compiled again
 * at its next call.
 * Lite mode has no WebAssembly: the agent must not use what needs it (Node's global fetch, type
 * stripping); its HTTP client is node:http.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--lite-mode', '--max-semi-space-size=1', '--expose-gc', '--bytecode-old-age=2']

/** Where a project's agent bundle is cached. */
export function agentBundleDir(projectDir: string): string {
  return path.join(projectDir, 'node_modules', '.cache', 'zlh-agent')
}

const execFileAsync = promisify(execFile)
const builds = new Map<string, Promise<AgentLaunch>>()

/**
 * Fills the bundle's compile cache (agent/bundle-entry.ts) by loading the agent once with --help:
 * every module is compiled and nothing starts. Run with the agent's own Node and flags, which the
 * cache is only valid for, and an empty environment. Once per build; a failure only leaves the
 * cache empty (the agent then compiles at each start, as without it).
 */
async function warmCompileCache(nodePath: string, agentScript: string): Promise<void> {
  if (existsSync(path.join(path.dirname(agentScript), 'compile-cache'))) return
  await execFileAsync(nodePath, [...AGENT_NODE_FLAGS, agentScript, '--help'], { env: {}, timeout: 60_000 }).catch(() => undefined)
}

/** The command that starts the agent of `projectDir` (bundled on first use). */
export function agentLaunch(projectDir: string, nodePath = process.execPath): Promise<AgentLaunch> {
  const key = `${projectDir}\0${nodePath}`
  let launch = builds.get(key)
  if (!launch) {
    launch = bundle({
      entries: {
        agent: path.join(projectDir, 'agent/bundle-entry.ts'),
        'agent-main': path.join(projectDir, 'agent/bin.ts'),
        wrapper: path.join(projectDir, 'agent/game/wrapper.ts'),
      },
      cacheDir: agentBundleDir(projectDir),
      // Native addon: loaded from the project's node_modules at run time; agent-main.cjs is the
      // bundle's own sibling, required by the entry once the compile cache is on.
      external: ['@lydell/node-pty', './agent-main.cjs'],
      // Required at load by fastify and ws, used by the agent only when it fetches over https
      // (tls, https, dns) or never (http2): ≈3 MiB of every idle agent (bench/footprint.ts).
      lazyBuiltins: ['http2', 'https', 'tls', 'dns', 'dns/promises', 'dgram', 'zlib'],
      native: { [NATIVE_WRAPPER]: path.join(projectDir, 'agent/game/wrapper.c') },
      // The compile cache kept in the build directory is valid only for these flags.
      extraKey: AGENT_NODE_FLAGS.join(' '),
    }).then(async (b) => {
      await warmCompileCache(nodePath, b.files.agent!)
      const nativeWrapperMissing = b.nativeMissing[NATIVE_WRAPPER]
      // Once per build, where the person who started zlh reads: everything works, at a cost per game.
      if (nativeWrapperMissing !== undefined && b.built)
        console.warn(
          `zlh: games will be held by the Node game wrapper (≈48 MiB each instead of ≈1 MiB): ${nativeWrapperMissing.split('\n')[0]}. Install a C compiler with static libc (Debian: gcc libc6-dev) to build the native one.`,
        )
      return {
        command: nodePath,
        args: [...AGENT_NODE_FLAGS, b.files.agent!],
        agentScript: b.files.agent!,
        wrapperScript: b.files[NATIVE_WRAPPER] ?? b.files.wrapper!,
        ...(nativeWrapperMissing === undefined ? {} : { nativeWrapperMissing }),
      }
    })
    // A failed build is not remembered: the next call tries again.
    launch.catch(() => builds.delete(key))
    builds.set(key, launch)
  }
  return launch
}
