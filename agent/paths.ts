// Every path the agent touches, derived from one configurable root.
//
// Guarantees: nothing here touches the disk; all paths are absolute and live under `root`.
// Assumptions: the staging directory sits on the same filesystem as the runtimes directory
// (both under <root>/opt/zlh), so a rename from staging into place is atomic.
import path from 'node:path'

export interface AgentPaths {
  /** The root every other path lives under: `/` in a real container, a directory otherwise. */
  readonly root: string
  /** Installed runtimes: `<runtimes>/<name>/<version>/` plus a `<runtimes>/<name>/current` link. */
  readonly runtimes: string
  /** Work area for in-flight installs and removals; wiped on start (crash leftovers). */
  readonly staging: string
  /** The agent's own durable state (desired code-server state, provisioning marker, pid files). */
  readonly state: string
  /** Log files the agent writes (code-server output, game logs). */
  readonly logs: string
  /** The game server's files. */
  readonly game: string
  /** The dev user's home and workspace. */
  readonly devHome: string
  readonly workspace: string
  /** The generated environment script (host-wide profile.d when root is `/`). */
  readonly profileScript: string
  /** code-server's user data and extensions, under the dev home. */
  readonly codeServerUserData: string
  readonly codeServerExtensions: string
  /** Resolve a path inside the root (`under('etc/hosts')` → `<root>/etc/hosts`). */
  under(...segments: string[]): string
  runtimeDir(name: string): string
  runtimeVersionDir(name: string, version: string): string
  runtimeCurrentLink(name: string): string
}

export function agentPaths(root: string): AgentPaths {
  const abs = path.resolve(root)
  const under = (...segments: string[]): string => path.join(abs, ...segments)
  const runtimes = under('opt/zlh/runtimes')
  const devHome = under('home/dev')
  return {
    root: abs,
    runtimes,
    staging: under('opt/zlh/.staging'),
    state: under('var/lib/zlh-agent'),
    logs: under('var/log/zlh'),
    game: under('srv/game'),
    devHome,
    workspace: path.join(devHome, 'workspace'),
    profileScript: under('etc/profile.d/zlh-dev-env.sh'),
    codeServerUserData: path.join(devHome, '.local/share/code-server'),
    codeServerExtensions: path.join(devHome, '.local/share/code-server/extensions'),
    under,
    runtimeDir: (name) => path.join(runtimes, name),
    runtimeVersionDir: (name, version) => path.join(runtimes, name, version),
    runtimeCurrentLink: (name) => path.join(runtimes, name, 'current'),
  }
}

/** True when the agent manages a whole machine (a real container) rather than a directory. */
export function isHostRoot(paths: AgentPaths): boolean {
  return paths.root === '/'
}
