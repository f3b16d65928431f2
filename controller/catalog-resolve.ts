// Resolving a server's runtime reference ({name, version | channel}) against the RuntimeCatalog
// of that name. Pure functions: the reconcilers pass what they read.
//
// Rules
//  - An exact version must exist in the catalog and be Verified (the catalog reconciler checked
//    its artifact's sha256 and size): a server is never pointed at an unverified version.
//  - A channel resolves to the version it names now for a server that has none installed yet.
//    A server already running a channel's older version holds it until the rollout admits it
//    (annotation rollout.zerolaghub.dev/<runtime>), so a promotion moves servers one at a time.
import type { RuntimeCatalog } from './kinds.ts'
import { Reason } from './condition-reasons.ts'

export interface RuntimeRef {
  name: string
  version?: string
  channel?: string
}

export interface ResolvedRuntime {
  name: string
  version: string
  channel?: string
  url: string
  sha256: string
  sizeBytes?: number
  verify?: { command: string[]; expectOutput?: string }
}

export type Resolution = { ok: true; runtime: ResolvedRuntime } | { ok: false; reason: string; message: string }

export const ARCH = process.arch === 'arm64' ? 'arm64' : 'x64'

/** Whether the catalog's status records `version` as verified for its current artifact. */
export function isVerified(catalog: RuntimeCatalog, version: string): boolean {
  const spec = catalog.spec.versions.find((v) => v.version === version)
  const artifact = spec?.artifacts.find((a) => a.arch === ARCH)
  const st = catalog.status?.versions?.find((v) => v.version === version)
  return artifact !== undefined && st?.verified === true && st.sha256 === artifact.sha256
}

export function resolveRuntime(
  ref: RuntimeRef,
  catalog: RuntimeCatalog | undefined,
  held: { installed?: string; admitted?: string } = {},
): Resolution {
  if (catalog === undefined) {
    return {
      ok: false,
      reason: Reason.CatalogNotFound,
      message: `no RuntimeCatalog named ${ref.name}: create it (kubectl get runtimecatalogs lists the ones that exist) or fix the runtime name`,
    }
  }
  let version: string
  if (ref.version !== undefined) {
    version = ref.version
  } else {
    const channel = ref.channel ?? ''
    const target = catalog.spec.channels?.[channel]
    if (target === undefined) {
      const known = Object.keys(catalog.spec.channels ?? {}).join(', ') || 'none'
      return {
        ok: false,
        reason: Reason.ChannelNotFound,
        message: `RuntimeCatalog ${ref.name} has no channel ${channel} (channels: ${known}); pick one of them or add it to the catalog`,
      }
    }
    version = held.installed === undefined ? target : (held.admitted ?? held.installed)
  }
  const entry = catalog.spec.versions.find((v) => v.version === version)
  if (entry === undefined) {
    const known = catalog.spec.versions.map((v) => v.version).join(', ')
    return {
      ok: false,
      reason: Reason.VersionNotFound,
      message: `RuntimeCatalog ${ref.name} has no version ${version} (versions: ${known}); use one of them or add it to the catalog`,
    }
  }
  const artifact = entry.artifacts.find((a) => a.arch === ARCH)
  if (artifact === undefined) {
    return {
      ok: false,
      reason: Reason.ArchNotAvailable,
      message: `RuntimeCatalog ${ref.name} version ${version} has no ${ARCH} artifact; add one`,
    }
  }
  if (!isVerified(catalog, version)) {
    const st = catalog.status?.versions?.find((v) => v.version === version)
    const why = st?.message
      ? `: ${st.message}`
      : ' yet; the controller checks each artifact once (sha256 and size) before any server may use it'
    return { ok: false, reason: Reason.VersionNotVerified, message: `RuntimeCatalog ${ref.name} version ${version} is not verified${why}` }
  }
  return {
    ok: true,
    runtime: {
      name: ref.name,
      version,
      ...(ref.channel !== undefined ? { channel: ref.channel } : {}),
      url: artifact.url,
      sha256: artifact.sha256,
      ...(artifact.sizeBytes !== undefined ? { sizeBytes: artifact.sizeBytes } : {}),
      ...(entry.verify
        ? {
            verify: {
              command: [...entry.verify.command],
              ...(entry.verify.expectOutput !== undefined ? { expectOutput: entry.verify.expectOutput } : {}),
            },
          }
        : {}),
    },
  }
}
