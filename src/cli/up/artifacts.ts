// The all-in-one start's local artifacts: the node runtime (from the pinned `node` package) and
// the flying-squid game package, built once into <state>/artifacts and reused while their
// versions stay the same; served on loopback; RuntimeCatalogs with their real sha256s.
// Guarantees: a catalog's sha256 is always that of the file the artifact server serves (cached
// files are re-hashed at start, never trusted by name alone).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  artifactFileName,
  buildFlyingSquidPackage,
  buildNodeRuntime,
  fileDigest,
  flyingSquidVersion,
  pinnedNodeVersion,
  runtimeCatalog,
  startArtifactServer,
  type ArtifactServer,
  type BuiltArtifact,
} from '../artifacts/index.ts'

async function cachedOrBuilt(name: string, version: string, file: string, build: () => Promise<BuiltArtifact>): Promise<BuiltArtifact> {
  if (existsSync(file)) return { name, version, file, ...(await fileDigest(file)) }
  return build()
}

export async function localArtifacts(dir: string): Promise<{ node: BuiltArtifact; squid: BuiltArtifact }> {
  const nodeVersion = pinnedNodeVersion()
  const squidVersion = flyingSquidVersion()
  const [node, squid] = await Promise.all([
    cachedOrBuilt('node', nodeVersion, join(dir, `node-${nodeVersion}-x64.tar.gz`), () => buildNodeRuntime(dir)),
    cachedOrBuilt('flying-squid', squidVersion, join(dir, `flying-squid-${squidVersion}.tar.gz`), () => buildFlyingSquidPackage(dir)),
  ])
  return { node, squid }
}

/** Serves `dir` on `host` (loopback; an lxc bridge's address for real containers), on `port`
 * when it is free (so catalog URLs survive a restart). */
export async function serveArtifacts(dir: string, port: number | undefined, host = '127.0.0.1'): Promise<ArtifactServer> {
  if (port !== undefined) {
    try {
      return await startArtifactServer(dir, { host, port })
    } catch {
      /* taken: pick another */
    }
  }
  return startArtifactServer(dir, { host, port: 0 })
}

export function catalogFor(a: BuiltArtifact, server: ArtifactServer): Record<string, unknown> {
  return runtimeCatalog(a.name, [{ artifact: a, url: server.url(artifactFileName(a)) }], { stable: a.version })
}
