// RuntimeCatalog objects for built artifacts: one catalog per runtime name, each version with its
// real url, sha256, size and a verify command, plus channels; `catalogsFor` groups published
// files by runtime name (channel stable = newest version).
import { basename } from 'node:path'
import semver from 'semver'
import { API_VERSION } from '../../api/index.ts'
import type { BuiltArtifact } from './build.ts'

export interface CatalogVersionInput {
  artifact: BuiltArtifact
  /** Download URL (the artifact server's). */
  url: string
  /** Catalog version label; defaults to the artifact's own version. */
  version?: string
  verify?: { command: string[]; expectOutput?: string }
}

/** How each runtime proves an extracted tree works (run by the agent in the staged tree). */
export function defaultVerify(name: string, version: string): { command: string[]; expectOutput?: string } | undefined {
  if (name === 'node') return { command: ['bin/node', '--version'], expectOutput: `v${version}` }
  if (name === 'flying-squid') return { command: ['test', '-x', 'bin/flying-squid'] }
  if (name === 'code-server') return { command: ['bin/code-server', '--version'], expectOutput: version }
  return undefined
}

type CatalogVersion = {
  version: string
  artifacts: Array<{ arch: string; url: string; sha256: string; sizeBytes: number }>
  verify?: unknown
}

/** The RuntimeCatalog object itself: the one place its apiVersion, kind and layout are spelled. */
function catalogObject(name: string, versions: CatalogVersion[], channels: Record<string, string>): Record<string, unknown> {
  return { apiVersion: API_VERSION, kind: 'RuntimeCatalog', metadata: { name }, spec: { versions, channels } }
}

export function runtimeCatalog(name: string, versions: CatalogVersionInput[], channels: Record<string, string>): Record<string, unknown> {
  return catalogObject(
    name,
    versions.map((v) => {
      const verify = v.verify ?? defaultVerify(name, v.artifact.version)
      return {
        version: v.version ?? v.artifact.version,
        artifacts: [{ arch: 'x64', url: v.url, sha256: v.artifact.sha256, sizeBytes: v.artifact.sizeBytes }],
        ...(verify ? { verify } : {}),
      }
    }),
    channels,
  )
}

export function artifactFileName(a: BuiltArtifact): string {
  return basename(a.file)
}

/** One published file: a runtime name, version and arch, where it is served, its hash and size. */
export interface PublishedArtifact {
  name: string
  version: string
  arch: 'x64' | 'arm64'
  url: string
  sha256: string
  sizeBytes: number
}

/** Orders versions oldest first: semver where both parse (coerced: `21` is 21.0.0), else by text. */
export function compareVersions(a: string, b: string): number {
  const sa = semver.valid(a) ?? semver.coerce(a, { includePrerelease: true })?.version
  const sb = semver.valid(b) ?? semver.coerce(b, { includePrerelease: true })?.version
  if (sa !== undefined && sb !== undefined) {
    const byVersion = semver.compare(sa, sb)
    if (byVersion !== 0) return byVersion
  }
  return a.localeCompare(b)
}

/** RuntimeCatalogs for published files: one per runtime name, every version found (each with its
 * arches), channel `stable` = the newest version. Sorted by name; versions oldest first. */
export function catalogsFor(artifacts: PublishedArtifact[]): Array<Record<string, unknown>> {
  const byName = new Map<string, Map<string, PublishedArtifact[]>>()
  for (const a of artifacts) {
    const versions = byName.get(a.name) ?? new Map<string, PublishedArtifact[]>()
    versions.set(a.version, [...(versions.get(a.version) ?? []), a])
    byName.set(a.name, versions)
  }
  return [...byName.keys()].sort().map((name) => {
    const versions = [...byName.get(name)!.keys()].sort(compareVersions)
    return catalogObject(
      name,
      versions.map((version) => {
        const verify = defaultVerify(name, version)
        const files = byName
          .get(name)!
          .get(version)!
          .sort((x, y) => x.arch.localeCompare(y.arch))
        return {
          version,
          artifacts: files.map((f) => ({ arch: f.arch, url: f.url, sha256: f.sha256, sizeBytes: f.sizeBytes })),
          ...(verify ? { verify } : {}),
        }
      }),
      { stable: versions[versions.length - 1]! },
    )
  })
}
