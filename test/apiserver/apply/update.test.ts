import t from 'tap'
import { trackUpdate, applyPatch, FieldSet, pathString } from '../../../src/apiserver/apply/index.ts'
import { gsSchema, gameServer, stored, AV, T0, T1 } from './helpers.ts'

const spec = () => ({ game: 'minecraft', runtime: { name: 'node', channel: 'stable' }, server: { command: ['flying-squid'], port: 25565 } })

t.test('FieldsV1 round trip and path strings', async (t) => {
  const v1 = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:a': {} } },
    'f:spec': { 'f:mods': { 'k:{"name":"a"}': { '.': {}, 'f:url': {} } }, 'f:x': { 'v:"y"': {}, 'i:0': {} } },
  }
  const set = FieldSet.fromFieldsV1(v1)
  t.same(set.toFieldsV1(), v1)
  t.ok(set.has(['f:metadata', 'f:labels']))
  t.notOk(set.has(['f:metadata']))
  t.same(set.paths().map(pathString), [
    '.metadata.labels',
    '.metadata.labels.a',
    '.spec.mods[name="a"]',
    '.spec.mods[name="a"].url',
    '.spec.x[="y"]',
    '.spec.x[0]',
  ])
  const other = FieldSet.of([
    ['f:metadata', 'f:labels', 'f:a'],
    ['f:spec', 'f:z'],
  ])
  t.same(set.intersection(other).paths().map(pathString), ['.metadata.labels.a'])
  t.same(set.difference(other).has(['f:metadata', 'f:labels', 'f:a']), false)
  t.ok(set.union(other).has(['f:spec', 'f:z']))
  t.throws(() => FieldSet.fromFieldsV1({ 'x:bad': {} }), /invalid path element/)
  t.same(pathString(['f:spec', 'k:{"port":80,"protocol":"TCP"}', 'f:name']), '.spec[port=80,protocol="TCP"].name')
})

t.test('create and update ownership', async (t) => {
  const created = stored(gameServer(spec(), { labels: { app: 'mc' } }))
  const entries = trackUpdate({ oldObj: undefined, newObj: created, manager: 'kubectl-create', schema: gsSchema, now: T0 })
  t.same(
    entries,
    [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: AV,
        time: '2026-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            '.': {},
            'f:game': {},
            'f:runtime': { '.': {}, 'f:channel': {}, 'f:name': {} },
            'f:server': { '.': {}, 'f:command': {}, 'f:port': {} },
          },
        },
      },
    ],
    'server-set metadata (uid, resourceVersion, ...) is owned by nobody',
  )
  created.metadata.managedFields = entries

  const edited = structuredClone(created)
  edited.spec.server.port = 25570
  delete edited.metadata.labels
  edited.metadata.managedFields = trackUpdate({ oldObj: created, newObj: edited, manager: 'kubectl-edit', schema: gsSchema, now: T1 })
  const byName = Object.fromEntries(edited.metadata.managedFields.map((m: any) => [m.manager, m]))
  t.same(byName['kubectl-edit'].fieldsV1, { 'f:spec': { 'f:server': { 'f:port': {} } } })
  t.notOk(byName['kubectl-create'].fieldsV1['f:metadata'], 'removed fields leave their owner')
  t.notOk(byName['kubectl-create'].fieldsV1['f:spec']['f:server']['f:port'], 'changed fields move to the writer')
  t.same(
    edited.metadata.managedFields.map((m: any) => m.manager),
    ['kubectl-create', 'kubectl-edit'],
    'sorted by time',
  )

  const noop = trackUpdate({ oldObj: edited, newObj: structuredClone(edited), manager: 'other', schema: gsSchema, now: T1 })
  t.same(noop, edited.metadata.managedFields, 'a write that changes nothing records nothing')
})

t.test('the main resource does not track status; /status tracks only status', async (t) => {
  const old = stored(gameServer(spec()))
  old.metadata.managedFields = trackUpdate({ oldObj: undefined, newObj: old, manager: 'create', schema: gsSchema, now: T0 })
  const next: Record<string, any> = { ...structuredClone(old), status: { phase: 'Running' } }
  next.spec.running = true
  const status = trackUpdate({ oldObj: old, newObj: next, manager: 'controller', subresource: 'status', schema: gsSchema, now: T1 })
  t.same(
    status.find((e) => e.manager === 'controller'),
    {
      manager: 'controller',
      operation: 'Update',
      apiVersion: AV,
      time: '2026-01-01T00:01:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { '.': {}, 'f:phase': {} } },
      subresource: 'status',
    },
  )
  const main = trackUpdate({ oldObj: old, newObj: next, manager: 'edit', schema: gsSchema, now: T1 })
  t.same(main.find((e) => e.manager === 'edit')!.fieldsV1, { 'f:spec': { 'f:running': {} } })
  const noSub = trackUpdate({ oldObj: old, newObj: next, manager: 'edit', schema: gsSchema, statusSubresource: false, now: T1 })
  t.same(
    noSub.find((e) => e.manager === 'edit')!.fieldsV1,
    { 'f:spec': { 'f:running': {} }, 'f:status': { '.': {}, 'f:phase': {} } },
    'without a status subresource status is an ordinary field',
  )
})

t.test('managedFields the client sends replace the stored ones; [{}] resets them', async (t) => {
  const old = stored(gameServer(spec()))
  old.metadata.managedFields = trackUpdate({
    oldObj: undefined,
    newObj: old,
    manager: 'kubectl-client-side-apply',
    schema: gsSchema,
    now: T0,
  })
  // what kubectl's client-side → server-side migration does: hand the fields to the "kubectl" applier
  const migrated = structuredClone(old)
  migrated.metadata.managedFields = [{ ...old.metadata.managedFields[0], manager: 'kubectl', operation: 'Apply' }]
  const out = trackUpdate({ oldObj: old, newObj: migrated, manager: 'kubectl-patch', schema: gsSchema, now: T1 })
  t.same(
    out.map((e) => [e.manager, e.operation]),
    [['kubectl', 'Apply']],
  )
  for (const sentFields of [[{}], []]) {
    const reset = structuredClone(old)
    reset.metadata.managedFields = sentFields
    t.same(trackUpdate({ oldObj: old, newObj: reset, manager: 'x', schema: gsSchema, now: T1 }), [], `${JSON.stringify(sentFields)} resets`)
  }
  const garbage = structuredClone(old)
  garbage.metadata.managedFields = [{ manager: 'x', operation: 'Explode', fieldsV1: {} }]
  t.same(
    trackUpdate({ oldObj: old, newObj: garbage, manager: 'x', schema: gsSchema, now: T1 }),
    old.metadata.managedFields,
    'malformed entries fall back to the stored ones',
  )
  t.same(
    trackUpdate({ oldObj: old, newObj: migrated, manager: 'x', subresource: 'status', schema: gsSchema, now: T1 }),
    old.metadata.managedFields,
    'a subresource write cannot rewrite managedFields',
  )
  // and after migration, kubectl's apply may drop fields without conflicts
  const live = { ...migrated, metadata: { ...migrated.metadata, managedFields: out } }
  const r = applyPatch({
    live,
    patch: gameServer({ game: 'minecraft', runtime: { name: 'node', channel: 'stable' } }),
    manager: 'kubectl',
    force: false,
    schema: gsSchema,
    now: T1,
  })
  t.equal(r.conflicts, undefined)
  t.equal(r.object.spec.server, undefined, 'the server block kubectl no longer applies is removed')
})

t.test('update managers are capped at 10, oldest folded into ancient-changes', async (t) => {
  let obj: Record<string, any> = stored(gameServer(spec()))
  for (let i = 0; i < 12; i++) {
    const next = structuredClone(obj)
    next.metadata.labels = { ...(next.metadata.labels ?? {}), [`l${i}`]: 'x' }
    next.metadata.managedFields = trackUpdate({
      oldObj: obj,
      newObj: next,
      manager: `m${i}`,
      schema: gsSchema,
      now: new Date(T0.getTime() + i * 1000),
    })
    obj = next
  }
  const names = obj.metadata.managedFields.map((e: any) => e.manager)
  t.equal(names.length, 10)
  t.ok(names.includes('ancient-changes'))
  t.notOk(names.includes('m0'))
  t.ok(names.includes('m11'))
  const ancient = obj.metadata.managedFields.find((e: any) => e.manager === 'ancient-changes')
  t.ok(
    ancient.fieldsV1['f:metadata']['f:labels']['f:l0'] && ancient.fieldsV1['f:metadata']['f:labels']['f:l2'],
    'the folded managers keep their fields',
  )
})

t.test('deduced types without a schema', async (t) => {
  const patch = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd' }, data: { a: '1' } }
  const r = applyPatch({ live: undefined, patch, manager: 'm', force: false, schema: undefined, now: T0 })
  t.same(
    r.object.metadata.managedFields[0].fieldsV1,
    { 'f:data': { '.': {}, 'f:a': {} } },
    'an untyped field is owned itself as well (pass a schema for exact kube parity)',
  )
  const typed = applyPatch({
    live: undefined,
    patch,
    manager: 'm',
    force: false,
    schema: { type: 'object', properties: { data: { type: 'object', additionalProperties: { type: 'string' } } } },
    now: T0,
  })
  t.same(typed.object.metadata.managedFields[0].fieldsV1, { 'f:data': { 'f:a': {} } })
  const r2 = applyPatch({ live: r.object, patch: { ...patch, data: { b: '2' } }, manager: 'n', force: false, schema: undefined, now: T0 })
  t.same(r2.object.data, { a: '1', b: '2' })
})
