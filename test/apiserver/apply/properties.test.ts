// Invariants of apply over many generated configurations (seeded, so failures reproduce):
// re-applying is a no-op, applied values are what the object holds, and once every applier drops
// everything nothing is left but empty lists (which nobody owns, as in kube).
import t from 'tap'
import { applyPatch, trackUpdate, FieldSet } from '../../../src/apiserver/apply/index.ts'
import { compare } from '../../../src/apiserver/apply/walk.ts'
import { rootNode } from '../../../src/apiserver/apply/schema.ts'
import type { JSONSchemaProps } from '../../../src/apiserver/schema/index.ts'

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        count: { type: 'integer' },
        tags: { type: 'object', additionalProperties: { type: 'string' } },
        args: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'string' } },
        set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        items: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['id'],
          items: {
            type: 'object',
            required: ['id'],
            properties: {
              id: { type: 'string' },
              v: { type: 'integer' },
              sub: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } },
            },
          },
        },
        nested: { type: 'object', properties: { x: { type: 'string' }, y: { type: 'object', properties: { z: { type: 'integer' } } } } },
      },
    },
  },
}

/** Mulberry32: small seeded PRNG. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function genSpec(r: () => number): Record<string, unknown> {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!
  const some = <T>(xs: T[]): T[] => [...new Set(xs.filter(() => r() < 0.5))]
  const spec: Record<string, unknown> = {}
  if (r() < 0.6) spec.name = pick(['a', 'b', 'c'])
  if (r() < 0.5) spec.count = pick([1, 2, 3])
  if (r() < 0.5) spec.tags = Object.fromEntries(some(['t1', 't2', 't3']).map((k) => [k, pick(['x', 'y'])]))
  if (r() < 0.4) spec.args = some(['--a', '--b', '--c'])
  if (r() < 0.5) spec.set = some(['s1', 's2', 's3', 's4'])
  if (r() < 0.6) {
    spec.items = some(['i1', 'i2', 'i3']).map((id) => {
      const item: Record<string, unknown> = { id }
      if (r() < 0.6) item.v = pick([1, 2])
      if (r() < 0.4) item.sub = r() < 0.5 ? { a: pick(['p', 'q']) } : { b: 'r' }
      return item
    })
  }
  if (r() < 0.5) spec.nested = r() < 0.5 ? { x: pick(['m', 'n']) } : { y: { z: pick([1, 2]) } }
  return spec
}

const wrap = (spec: Record<string, unknown>) => ({ apiVersion: 'x.dev/v1', kind: 'X', metadata: { name: 'x' }, spec })
const root = rootNode(schema)

t.test('apply invariants over generated configurations', async (t) => {
  const r = rng(20261125)
  let checked = 0
  for (let round = 0; round < 150; round++) {
    let live: Record<string, any> | undefined
    const managers = ['m1', 'm2', 'm3']
    for (let step = 0; step < 6; step++) {
      const manager = managers[Math.floor(r() * managers.length)]!
      const cfg = wrap(genSpec(r))
      const res = applyPatch({ live, patch: cfg, manager, force: true, schema })
      t.notOk(res.conflicts, 'force never reports conflicts')
      // Everything the configuration says is what the object now holds.
      const c = compare(
        res.object,
        { ...res.object, ...cfg, metadata: res.object.metadata, spec: mergeDeepForCheck(res.object.spec, cfg.spec) },
        root,
      )
      if (!c.modified.isEmpty()) t.fail(`round ${round} step ${step}: applied values not held: ${JSON.stringify(c.modified.toFieldsV1())}`)
      // Re-applying the same configuration changes nothing.
      const again = applyPatch({ live: res.object, patch: cfg, manager, force: true, schema })
      if (again.changed) t.fail(`round ${round} step ${step}: re-apply changed the object: ${JSON.stringify(cfg)}`)
      live = res.object
      checked++
    }
    // Every manager drops everything: nothing but identity stays.
    for (const m of managers) {
      const res = applyPatch({
        live,
        patch: { apiVersion: 'x.dev/v1', kind: 'X', metadata: { name: 'x' } },
        manager: m,
        force: true,
        schema,
      })
      live = res.object
    }
    const { metadata, apiVersion, kind, ...rest } = live!
    // Only empty lists may linger: nobody owns an applied empty list (as in kube), so nobody removes it.
    t.same(withoutEmptyLists(rest), {}, `round ${round}: all applied fields removed once no manager applies them`)
    t.equal(metadata.managedFields, undefined, 'and no ownership is left')
    t.equal(apiVersion, 'x.dev/v1')
    t.equal(kind, 'X')
  }
  t.equal(checked, 900)
})

t.test('update invariants: changed fields belong to the writer alone; conflicts leave the object alone', async (t) => {
  const r = rng(7)
  let conflicted = 0
  for (let round = 0; round < 150; round++) {
    let live: Record<string, any> = applyPatch({ live: undefined, patch: wrap(genSpec(r)), manager: 'flux', force: false, schema }).object
    const next: Record<string, any> = { ...wrap(genSpec(r)), metadata: live.metadata }
    next.metadata = { ...next.metadata, managedFields: trackUpdate({ oldObj: live, newObj: next, manager: 'edit', schema }) }
    const bare = (o: Record<string, any>) => ({ ...o, metadata: { name: o.metadata.name } })
    const changed = compare(bare(live), bare(next), root)
    const written = changed.modified.union(changed.added)
    const mine = new Map<string, FieldSet>(
      next.metadata.managedFields?.map((e: any) => [e.manager, FieldSet.fromFieldsV1(e.fieldsV1)]) ?? [],
    )
    const wrote = mine.get('edit') ?? new FieldSet()
    t.ok(written.difference(wrote).isEmpty(), `round ${round}: the writer owns every field it changed`)
    t.ok((mine.get('flux') ?? new FieldSet()).intersection(written).isEmpty(), `round ${round}: no one else does`)
    t.ok((mine.get('flux') ?? new FieldSet()).intersection(changed.removed).isEmpty(), `round ${round}: removed fields have no owner`)
    live = next
    // flux re-applies something different without force: either it applies cleanly or nothing changes.
    const cfg = wrap(genSpec(r))
    const res = applyPatch({ live, patch: cfg, manager: 'flux', force: false, schema })
    if (res.conflicts) {
      conflicted++
      t.equal(res.object, live, `round ${round}: a conflicted apply returns the live object`)
      t.ok(
        res.conflicts.every((c) => c.manager === 'edit'),
        'only the other manager conflicts',
      )
    }
  }
  t.ok(conflicted > 10 && conflicted < 140, `both outcomes were exercised (${conflicted} of 150 conflicted)`)
})

function withoutEmptyLists(v: unknown): unknown {
  if (Array.isArray(v) || typeof v !== 'object' || v === null) return v
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) {
    if (Array.isArray(x) && x.length === 0) continue
    const y = withoutEmptyLists(x)
    if (typeof y === 'object' && y !== null && !Array.isArray(y) && Object.keys(y).length === 0 && Object.keys(x as object).length > 0)
      continue
    out[k] = y
  }
  return out
}

/** Overlays the configuration's values on the object the way a reader expects them to be visible. */
function mergeDeepForCheck(obj: unknown, cfg: unknown): unknown {
  if (cfg === undefined) return obj
  if (Array.isArray(cfg) || typeof cfg !== 'object' || cfg === null || typeof obj !== 'object' || obj === null || Array.isArray(obj))
    return obj
  const out: Record<string, unknown> = { ...(obj as Record<string, unknown>) }
  for (const [k, v] of Object.entries(cfg)) {
    const cur = (obj as Record<string, unknown>)[k]
    out[k] =
      Array.isArray(v) || typeof v !== 'object' || v === null
        ? Array.isArray(v) && Array.isArray(cur)
          ? cur
          : v
        : mergeDeepForCheck(cur, v)
  }
  return out
}
