// Loads the manifests under manifests/examples (and its catalog/ folder) for tests.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'

export const EXAMPLES_DIR = join(import.meta.dirname, '..', '..', 'manifests', 'examples')

export interface Manifest {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string }
  spec: Record<string, unknown>
}

export function loadExamples(dir = EXAMPLES_DIR): Manifest[] {
  const out: Manifest[] = []
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f)
    if (statSync(p).isDirectory()) out.push(...loadExamples(p))
    else if (f.endsWith('.yaml')) for (const d of parseAllDocuments(readFileSync(p, 'utf8'))) out.push(d.toJS() as Manifest)
  }
  return out
}
