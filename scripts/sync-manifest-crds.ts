// Writes manifests/base/crds/ from crds/ (kustomize loads nothing outside the kustomization's root, so
// the base carries copies). The copies are generated, never edited: test/manifests/kustomize.test.ts
// fails while they differ from expectedManifestCrds(). Run: npm run gen:manifests
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const repo = join(import.meta.dirname, '..')
export const MANIFEST_CRDS_DIR = join(repo, 'manifests', 'base', 'crds')
const HEADER = '# GENERATED from crds/ by scripts/sync-manifest-crds.ts (npm run gen:manifests): do not edit.\n'

/** File name → content that manifests/base/crds/ must hold. */
export function expectedManifestCrds(): Map<string, string> {
  const files = readdirSync(join(repo, 'crds'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
  const out = new Map<string, string>()
  for (const f of files) out.set(f, HEADER + readFileSync(join(repo, 'crds', f), 'utf8'))
  out.set(
    'kustomization.yaml',
    `${HEADER}apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${files.map((f) => `  - ${f}\n`).join('')}`,
  )
  return out
}

if (import.meta.main) {
  rmSync(MANIFEST_CRDS_DIR, { recursive: true, force: true })
  mkdirSync(MANIFEST_CRDS_DIR, { recursive: true })
  for (const [name, text] of expectedManifestCrds()) writeFileSync(join(MANIFEST_CRDS_DIR, name), text)
  console.log(`wrote ${MANIFEST_CRDS_DIR}`)
}
