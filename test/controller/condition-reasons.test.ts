// Condition reasons are a catalog (controller/condition-reasons.ts): every reason the controller
// writes is named there with its meaning, and no controller module writes a bare reason string.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { CONDITION_REASONS, Reason, providerErrorReason } from '../../controller/condition-reasons.ts'

const CONTROLLER = join(import.meta.dirname, '..', '..', 'controller')

/** Bare reason literals in `source`: `reason: 'X'` (not an Event's: `warning: { reason: … }`) or a condition set with a literal reason. */
function bareReasons(source: string): string[] {
  const found: string[] = []
  for (const m of source.matchAll(/(?<!warning: \{ )\breason:\s*'([A-Z][A-Za-z]*)'/g)) found.push(m[1]!)
  for (const m of source.matchAll(/'(?:True|False|Unknown)',\s*'([A-Z][A-Za-z]*)'/g)) found.push(m[1]!)
  return found
}

t.test('the detector finds both spellings of a bare reason', async (t) => {
  t.same(bareReasons(`return { ok: false, reason: 'Oops', message: 'x' }\nconds.set('Ready', 'False', 'Nope', 'y')`), ['Oops', 'Nope'])
  t.same(bareReasons(`conds.set('Ready', 'False', Reason.Stopped, 'spec.running is false')`), [])
  t.same(bareReasons(`warning: { reason: 'ProvisioningFailed', message }`), [], 'an Event reason is not a condition reason')
})

t.test('no controller module writes a bare reason string', async (t) => {
  const offenders: string[] = []
  for (const e of readdirSync(CONTROLLER, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name === 'condition-reasons.ts') continue
    const file = join(e.parentPath, e.name)
    for (const r of bareReasons(readFileSync(file, 'utf8'))) offenders.push(`${relative(CONTROLLER, file)}: '${r}'`)
  }
  t.same(offenders, [], 'add the reason to controller/condition-reasons.ts and write Reason.<Name>')
})

t.test('every catalogued reason names itself, is UpperCamelCase and says what it means', async (t) => {
  for (const [name, meaning] of Object.entries(CONDITION_REASONS)) {
    t.equal(Reason[name as keyof typeof Reason], name)
    t.match(name, /^[A-Z][A-Za-z]*$/, `${name} is a valid metav1.Condition reason`)
    t.ok(meaning.length > 10, `${name} has a meaning`)
  }
  t.equal(providerErrorReason('Timeout'), 'ProviderTimeout')
  t.equal(providerErrorReason('ProviderUnreachable'), 'ProviderUnreachable', 'a code that carries the prefix is not prefixed twice')
})
