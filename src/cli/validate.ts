// `zlh validate FILE|DIR...`: checks manifests against crds/ as the API server would, before they are applied.

import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { validateResource } from '../api/index.ts'

function yamlFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f))
}

/** Validates every document; prints one line per document and returns the number of invalid ones. */
export function validateFiles(paths: string[], out: (line: string) => void): number {
  let bad = 0
  for (const file of paths.flatMap(yamlFiles)) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'))
    for (const doc of docs) {
      if (doc.errors.length) {
        bad++
        out(`${file}: YAML error: ${doc.errors[0]!.message}`)
        continue
      }
      const m = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null
      if (m === null) continue
      const r = validateResource(m)
      const id = `${file}: ${m.kind ?? '?'}/${m.metadata?.name ?? '?'}`
      if (r.valid) out(`${id}: valid`)
      else {
        bad++
        out(`${id}: invalid`)
        for (const e of r.errors) out(`  ${e.message}`)
      }
    }
  }
  return bad
}
