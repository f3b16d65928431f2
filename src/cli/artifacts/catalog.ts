// RuntimeCatalog objects for built artifacts: one catalog per runtime name, each version with its
// real url, sha256, size and a verify command, plus channels.
import { basename } from 'node:path'
import type { BuiltArtifact } from './build.ts'

export interface CatalogVersionInput {
  artifact: BuiltArtifact
  /** Download URL (the artifact server's). */
  url: string
  /** Catalog version label; defaults to the artifact's own version. */
  version?: string
  verify?: { command: string[], expectOutput?: string }
}

/** How each runtime proves an extracted tree works (run by the agent in the staged tree). */
export function defaultVerify(name: string, version: string): { command: string[], expectOutput?: string } | undefined {
  if (name === 'node') return { command: ['bin/node', '--version'], expectOutput: `v${version}` }
  if (name === 'flying-squid') return { command: ['test', '-x', 'bin/flying-squid'] }
  if (name === 'code-server') return { command: ['bin/code-server', '--version'], expectOutput: version }
  return undefined
}

export function runtimeCatalog(name: string, versions: CatalogVersionInput[], channels: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'RuntimeCatalog',
    metadata: { name },
    spec: {
      versions: versions.map((v) => {
        const version = v.version ?? v.artifact.version
        const verify = v.verify ?? defaultVerify(name, v.artifact.version)
        return {
          version,
          artifacts: [{ arch: 'x64', url: v.url, sha256: v.artifact.sha256, sizeBytes: v.artifact.sizeBytes }],
          ...(verify ? { verify } : {}),
        }
      }),
      channels,
    },
  }
}

export function artifactFileName(a: BuiltArtifact): string { return basename(a.file) }
