// Writes docs/resources/<kind>.md for every CRD; `--check` exits 1 when a committed page is stale.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadCrds } from '../src/api/crds.ts'
import { renderResourceDoc } from '../src/api/docgen.ts'

const dir = join(import.meta.dirname, '..', 'docs', 'resources')
const check = process.argv.includes('--check')
let stale = 0
for (const crd of loadCrds()) {
  const file = join(dir, `${crd.spec.names.kind.toLowerCase()}.md`)
  const text = renderResourceDoc(crd)
  if (check) {
    let current = ''
    try {
      current = readFileSync(file, 'utf8')
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      console.error(`${file} is stale: run npm run gen:docs`)
      stale++
    }
  } else {
    mkdirSync(dir, { recursive: true })
    writeFileSync(file, text)
    console.log(`wrote ${file}`)
  }
}
process.exit(stale ? 1 : 0)
