// The agent as one self-contained tarball, for container templates whose agent is baked in (the
// Proxmox provider's ostemplate): the bundle the process and lxc providers start, its compile cache,
// the native node-pty it loads for dev shells, and bin/zlh-agent, which runs it with the agent's flags.
//
// Layout (root holds bin/, like every artifact): bin/zlh-agent; lib/agent.cjs, agent-main.cjs,
// wrapper.cjs, game-wrapper (the native wrapper, a static x64 executable: refused when this machine
// could not compile it, since a template is for many games), compile-cache/;
// lib/node_modules/@lydell/node-pty and its platform package.
// Assumptions: the template has Node 24 (the `node` runtime artifact) as `node` on PATH or $ZLH_NODE;
// the compile cache is used only by that exact Node with those flags (any other Node ignores it).
// Guarantees: nothing outside the tarball is needed at run time (a test runs it from a directory with no
// node_modules above it); the file is written like every artifact (temp name, fsync, rename).
import { chmod, cp, mkdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { agentVersion } from '../../../agent/version.ts'
import { AGENT_NODE_FLAGS, agentLaunch } from '../../providers/agent-launch.ts'
import { type BuiltArtifact, dependencyClosure, finish, pack, withStaging } from './build.ts'

const projectDir = resolve(import.meta.dirname, '../../..')
const nodeModules = join(projectDir, 'node_modules')

const launcherScript = `#!/bin/sh
# The ZeroLagHub agent (bundled): Node from $ZLH_NODE or PATH, with the agent's flags; arguments are
# those of \`zlh agent\` (--root, --listen, --token-file or --enroll, ...).
here=$(dirname "$(readlink -f "$0")")
exec "\${ZLH_NODE:-node}" ${AGENT_NODE_FLAGS.join(' ')} "$here/../lib/agent.cjs" "$@"
`

/** zlh-agent-<version>-x64.tar.gz in `outDir`. */
export async function buildAgentPack(outDir: string): Promise<BuiltArtifact> {
  const version = agentVersion
  const file = join(outDir, `zlh-agent-${version}-x64.tar.gz`)
  const launch = await agentLaunch(projectDir)
  if (launch.nativeWrapperMissing) throw new Error(`the agent pack needs the native game wrapper: ${launch.nativeWrapperMissing}`)
  const bundleDir = dirname(launch.agentScript)
  await withStaging(outDir, async (staging) => {
    await mkdir(join(staging, 'bin'))
    await writeFile(join(staging, 'bin', 'zlh-agent'), launcherScript)
    await chmod(join(staging, 'bin', 'zlh-agent'), 0o755)
    const lib = join(staging, 'lib')
    await mkdir(lib)
    for (const name of ['agent.cjs', 'agent-main.cjs', 'wrapper.cjs', basename(launch.wrapperScript), 'compile-cache'])
      await cp(join(bundleDir, name), join(lib, name), { recursive: true })
    const pty = join(nodeModules, '@lydell', 'node-pty')
    for (const pkg of ['@lydell/node-pty', ...dependencyClosure(pty)])
      await cp(join(nodeModules, pkg), join(lib, 'node_modules', pkg), { recursive: true, dereference: true })
    await pack(staging, ['bin', 'lib'], file)
  })
  return finish('zlh-agent', version, file)
}
