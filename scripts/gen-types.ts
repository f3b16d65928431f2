// Generates src/api/types.generated.ts from the CRD schemas in crds/.
// `node scripts/gen-types.ts` writes it; `--check` exits 1 when the committed file is stale.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { renderTypes } from '../src/api/typegen.ts'
import { loadCrds } from '../src/api/crds.ts'

const target = join(import.meta.dirname, '..', 'src', 'api', 'types.generated.ts')
const text = renderTypes(loadCrds())
if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(target, 'utf8')
  } catch {
    /* missing counts as stale */
  }
  if (current !== text) {
    console.error(`${target} is stale: run npm run gen:types`)
    process.exit(1)
  }
} else {
  writeFileSync(target, text)
  console.log(`wrote ${target}`)
}
