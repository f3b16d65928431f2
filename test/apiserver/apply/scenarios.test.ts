// Multi-manager sequences (apply / update) with the outcomes structured-merge-diff specifies for
// them: which fields survive, and who owns what afterwards.
import t from 'tap'
import { applyPatch, trackUpdate } from '../../../src/apiserver/apply/index.ts'
import type { JSONSchemaProps } from '../../../src/apiserver/schema/index.ts'

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    struct: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        scalarField: { type: 'string' },
        other: { type: 'string' },
        complexField: { type: 'object', properties: { name: { type: 'string' } } },
      },
    },
    list: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
  },
}

type Op = ['apply' | 'update', string, Record<string, unknown>]
const wrap = (body: Record<string, unknown>) => ({ apiVersion: 'x.dev/v1', kind: 'X', metadata: { name: 'x' }, ...body })

function run(ops: Op[]): Record<string, any> {
  let live: Record<string, any> | undefined
  for (const [kind, manager, body] of ops) {
    if (kind === 'apply') {
      const r = applyPatch({ live, patch: wrap(body), manager, force: false, schema })
      if (r.conflicts) throw new Error(`unexpected conflicts: ${JSON.stringify(r.conflicts)}`)
      live = r.object
    } else {
      const next: Record<string, any> = { ...wrap(body), metadata: { ...(live?.metadata ?? { name: 'x' }) } }
      next.metadata.managedFields = trackUpdate({ oldObj: live, newObj: next, manager, schema })
      live = next
    }
  }
  return live!
}

const owned = (o: Record<string, any>) => Object.fromEntries(o.metadata.managedFields.map((e: any) => [e.manager, e.fieldsV1]))
const body = (o: Record<string, any>) => {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = o
  return rest
}

t.test('an applier unsetting its sole-owned scalar removes it', async (t) => {
  const o = run([
    ['apply', 'one', { struct: { name: 'a', scalarField: 'a' } }],
    ['apply', 'one', { struct: { name: 'a' } }],
  ])
  t.same(body(o), { struct: { name: 'a' } })
  t.same(owned(o), { one: { 'f:struct': { 'f:name': {} } } })
})

t.test('a scalar shared with another applier stays', async (t) => {
  const o = run([
    ['apply', 'one', { struct: { name: 'a', scalarField: 'a' } }],
    ['apply', 'two', { struct: { scalarField: 'a' } }],
    ['apply', 'one', { struct: { name: 'a' } }],
  ])
  t.same(body(o), { struct: { name: 'a', scalarField: 'a' } })
  t.same(owned(o), { one: { 'f:struct': { 'f:name': {} } }, two: { 'f:struct': { 'f:scalarField': {} } } })
})

t.test('a scalar shared with an updater stays', async (t) => {
  const o = run([
    ['update', 'updater', { struct: { name: 'a', scalarField: 'a' } }],
    ['apply', 'applier', { struct: { name: 'a', scalarField: 'a' } }],
    ['apply', 'applier', { struct: { name: 'a' } }],
  ])
  t.same(body(o), { struct: { name: 'a', scalarField: 'a' } })
  t.same(owned(o).updater, { 'f:struct': { '.': {}, 'f:name': {}, 'f:scalarField': {} } })
  t.same(owned(o).applier, { 'f:struct': { 'f:name': {} } })
})

t.test('an updater changing an applied field takes it', async (t) => {
  const o = run([
    ['apply', 'applier', { struct: { name: 'a', scalarField: 'a' } }],
    ['update', 'updater', { struct: { name: 'a', scalarField: 'b' } }],
  ])
  t.same(body(o), { struct: { name: 'a', scalarField: 'b' } })
  t.same(owned(o), { applier: { 'f:struct': { 'f:name': {} } }, updater: { 'f:struct': { 'f:scalarField': {} } } })
})

t.test('a struct unset by its sole owner goes as a whole', async (t) => {
  const o = run([
    ['apply', 'one', { struct: { name: 'a', complexField: { name: 'b' } } }],
    ['apply', 'one', { struct: { name: 'a' } }],
  ])
  t.same(body(o), { struct: { name: 'a' } })
  const shared = run([
    ['apply', 'one', { struct: { name: 'a', complexField: { name: 'b' } } }],
    ['apply', 'two', { struct: { complexField: { name: 'b' } } }],
    ['apply', 'one', { struct: { name: 'a' } }],
  ])
  t.same(body(shared), { struct: { name: 'a', complexField: { name: 'b' } } })
})

t.test('a struct the applier owned goes even with unowned fields left in it', async (t) => {
  // "other" is set by an updater whose entry is then reset: it is owned by nobody.
  let o = run([['apply', 'one', { struct: { scalarField: 'a' } }]])
  const next: Record<string, any> = { ...structuredClone(o), struct: { scalarField: 'a', other: 'x' } }
  next.metadata.managedFields = trackUpdate({ oldObj: o, newObj: next, manager: 'tmp', schema })
  next.metadata.managedFields = next.metadata.managedFields.filter((e: any) => e.manager !== 'tmp')
  o = applyPatch({ live: next, patch: wrap({}), manager: 'one', force: false, schema }).object
  t.same(body(o), {}, 'struct is removed entirely')
})

t.test('sets: apply, update, apply', async (t) => {
  const o = run([
    ['apply', 'default', { list: ['a', 'c'] }],
    ['update', 'controller', { list: ['a', 'b', 'c', 'd'] }],
    ['apply', 'default', { list: ['a', 'aprime', 'c', 'cprime'] }],
  ])
  t.same(body(o), { list: ['a', 'b', 'aprime', 'c', 'd', 'cprime'] })
  t.same(owned(o).default, { 'f:list': { 'v:"a"': {}, 'v:"aprime"': {}, 'v:"c"': {}, 'v:"cprime"': {} } })
  t.same(owned(o).controller, { 'f:list': { 'v:"b"': {}, 'v:"d"': {} } })
  const overlap = run([
    ['apply', 'default', { list: ['a', 'c'] }],
    ['update', 'controller', { list: ['a', 'b', 'c', 'd'] }],
    ['apply', 'default', { list: ['a', 'b', 'c'] }],
  ])
  t.same(body(overlap), { list: ['a', 'b', 'c', 'd'] })
  const removed = run([
    ['apply', 'default', { list: ['a', 'b', 'c', 'd'] }],
    ['apply', 'default', { list: ['a', 'd'] }],
  ])
  t.same(body(removed), { list: ['a', 'd'] })
})
