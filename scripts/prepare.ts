// npm `prepare`: rebuilds tap's plugin set (package.json "tap.plugin" drops @tapjs/typescript so Node's
// own type stripping runs the tests). Skipped where dev dependencies are not installed (production images).

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const tap = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tap')
if (existsSync(tap)) {
  const r = spawnSync(tap, ['build'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (r.status !== 0) {
    console.error('prepare: `tap build` failed; tests would load the wrong plugins. Run `npx tap build` to see why.')
    process.exit(r.status ?? 1)
  }
}
