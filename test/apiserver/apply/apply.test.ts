import t from 'tap'
import {
  applyPatch,
  trackUpdate,
  conflictMessage,
  conflictCauses,
  ApplyError,
  LAST_APPLIED_ANNOTATION,
} from '../../../src/apiserver/apply/index.ts'
import { gsSchema, gameServer, stored, AV, T0, T1 } from './helpers.ts'

const server = (port: number, extra: Record<string, unknown> = {}) => ({ command: ['flying-squid'], port, ...extra })
const base = (extra: Record<string, unknown> = {}) => ({
  game: 'minecraft',
  runtime: { name: 'node', channel: 'stable' },
  server: server(25565),
  ...extra,
})

function apply(
  live: Record<string, any> | undefined,
  patch: Record<string, any>,
  manager: string,
  opts: { force?: boolean; subresource?: string; now?: Date } = {},
) {
  return applyPatch({
    live,
    patch,
    manager,
    force: opts.force ?? false,
    schema: gsSchema,
    subresource: opts.subresource,
    now: opts.now ?? T0,
  })
}

t.test('apply creates an object and records ownership in FieldsV1', async (t) => {
  const patch = gameServer({ ...base(), mods: [{ name: 'a', url: 'https://x/a.jar', sha256: 'aa' }] }, { labels: { app: 'mc' } })
  const r = apply(undefined, patch, 'flux')
  t.equal(r.conflicts, undefined)
  t.ok(r.changed)
  const { managedFields, ...meta } = r.object.metadata
  t.same(meta, { name: 'mc', namespace: 'default', labels: { app: 'mc' } })
  t.same(r.object.spec, patch.spec)
  t.same(managedFields, [
    {
      manager: 'flux',
      operation: 'Apply',
      apiVersion: AV,
      time: '2026-01-01T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:game': {},
          'f:mods': { 'k:{"name":"a"}': { '.': {}, 'f:name': {}, 'f:sha256': {}, 'f:url': {} } },
          'f:runtime': { 'f:channel': {}, 'f:name': {} },
          'f:server': { 'f:command': {}, 'f:port': {} },
        },
      },
    },
  ])
  t.notOk('f:apiVersion' in managedFields[0].fieldsV1, 'identity fields are owned by nobody')
})

t.test('a second manager changing an owned field conflicts; the same value is shared', async (t) => {
  const live = stored(apply(undefined, gameServer(base()), 'flux').object)
  const clash = apply(live, gameServer({ server: server(25566) }), 'argocd', { now: T1 })
  t.same(
    clash.conflicts!.map((c) => [c.manager, c.field]),
    [['flux', '.spec.server.port']],
    'the unchanged command is no conflict',
  )
  t.equal(clash.object, live, 'nothing is written on conflict')
  t.equal(conflictMessage(clash.conflicts!), 'Apply failed with 1 conflict: conflict with "flux": .spec.server.port')
  t.same(conflictCauses(clash.conflicts!), [{ type: 'FieldManagerConflict', message: 'conflict with "flux"', field: '.spec.server.port' }])

  const shared = apply(live, gameServer({ server: server(25565) }), 'argocd', { now: T1 })
  t.equal(shared.conflicts, undefined)
  const owners = (o: any, f: string) =>
    o.metadata.managedFields.filter((m: any) => m.fieldsV1['f:spec']?.['f:server']?.[f]).map((m: any) => m.manager)
  t.same(owners(shared.object, 'f:port'), ['argocd', 'flux'], 'both own the port (an entry without time sorts first, as in kube)')
  t.equal(
    shared.object.metadata.managedFields.find((m: any) => m.manager === 'argocd').time,
    undefined,
    'no time for an apply that changed nothing (as kube)',
  )
  t.ok(shared.changed, 'managedFields changed, so there is something to write')
  // flux stops applying the server block: argocd still owns it, so it stays
  const fluxOmits = apply(stored(shared.object), gameServer({ game: 'minecraft', runtime: { name: 'node', channel: 'stable' } }), 'flux', {
    now: T1,
  })
  t.equal(fluxOmits.object.spec.server.port, 25565)
  t.same(owners(fluxOmits.object, 'f:port'), ['argocd'])
  // and when argocd omits it too, it goes
  const argoOmits = apply(stored(fluxOmits.object), gameServer({}), 'argocd', { now: T1 })
  t.equal(argoOmits.object.spec.server, undefined, 'an emptied struct disappears')
  t.same(
    argoOmits.object.metadata.managedFields.map((m: any) => [m.manager, m.fieldsV1['f:spec']['f:server']]),
    [
      ['flux', undefined],
      ['argocd', undefined],
    ],
    'sorted by time',
  )
  t.same(
    argoOmits.object.metadata.managedFields.find((m: any) => m.manager === 'argocd').fieldsV1,
    { 'f:spec': {} },
    'applying an empty spec owns the (empty) spec itself',
  )
})

t.test('force takes ownership', async (t) => {
  const live = stored(apply(undefined, gameServer(base()), 'flux').object)
  const r = apply(live, gameServer({ server: server(25566) }), 'argocd', { force: true, now: T1 })
  t.equal(r.conflicts, undefined)
  t.equal(r.object.spec.server.port, 25566)
  const flux = r.object.metadata.managedFields.find((m: any) => m.manager === 'flux')
  t.same(flux.fieldsV1['f:spec']['f:server'], { 'f:command': {} }, 'flux lost the port, kept the command it shares')
  const argo = r.object.metadata.managedFields.find((m: any) => m.manager === 'argocd')
  t.same(argo.fieldsV1['f:spec']['f:server'], { 'f:command': {}, 'f:port': {} })
  t.equal(argo.time, '2026-01-01T00:01:00Z')
})

t.test('fields a manager omits are removed unless another applier owns them', async (t) => {
  const first = apply(undefined, gameServer(base({ running: true }), { labels: { a: '1', b: '2' }, annotations: { note: 'x' } }), 'flux')
  const second = apply(stored(first.object), gameServer(base(), { labels: { a: '1' } }), 'flux', { now: T1 })
  t.same(second.object.metadata.labels, { a: '1' })
  t.equal(second.object.metadata.annotations, undefined)
  t.equal(second.object.spec.running, undefined)
  t.same(
    Object.keys(second.object.metadata).sort(),
    ['creationTimestamp', 'generation', 'labels', 'managedFields', 'name', 'namespace', 'resourceVersion', 'uid'],
    'server-set metadata is kept',
  )
})

t.test('fields set by an update manager are kept when an applier never applied them', async (t) => {
  const created = stored(apply(undefined, gameServer(base()), 'flux').object)
  const edited = structuredClone(created)
  edited.metadata.labels = { team: 'ops' }
  edited.spec.running = false
  edited.metadata.managedFields = trackUpdate({ oldObj: created, newObj: edited, manager: 'kubectl-edit', schema: gsSchema, now: T1 })
  const editEntry = edited.metadata.managedFields.find((m: any) => m.manager === 'kubectl-edit')
  t.same(editEntry, {
    manager: 'kubectl-edit',
    operation: 'Update',
    apiVersion: AV,
    time: '2026-01-01T00:01:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:team': {} } }, 'f:spec': { 'f:running': {} } },
  })
  const again = apply(edited, gameServer(base()), 'flux', { now: T1 })
  t.same(again.object.metadata.labels, { team: 'ops' })
  t.equal(again.object.spec.running, false)
  t.notOk(again.changed, 'an identical re-apply writes nothing')
})

t.test('list maps merge by key and keep foreign items in place', async (t) => {
  const mod = (name: string, sha = name) => ({ name, url: `https://x/${name}.jar`, sha256: sha })
  const a = stored(apply(undefined, gameServer(base({ mods: [mod('a'), mod('b')] })), 'flux').object)
  const b = apply(a, gameServer({ mods: [mod('c'), mod('b')] }), 'ops', { now: T1 })
  t.equal(b.conflicts, undefined)
  t.same(
    b.object.spec.mods.map((m: any) => m.name),
    ['a', 'c', 'b'],
    'shared b follows the configuration; a keeps its place',
  )
  const c = apply(stored(b.object), gameServer(base({ mods: [mod('b')] })), 'flux', { now: T1 })
  t.same(
    c.object.spec.mods.map((m: any) => m.name),
    ['c', 'b'],
    'a is removed: flux applied it before and nobody else owns it',
  )
  const d = apply(stored(c.object), gameServer({ mods: [mod('b', 'changed')] }), 'ops', { now: T1 })
  t.same(
    d.conflicts?.map((x) => x.field),
    ['.spec.mods[name="b"].sha256'],
  )
  t.equal(conflictMessage(d.conflicts!), 'Apply failed with 1 conflict: conflict with "flux": .spec.mods[name="b"].sha256')
})

t.test('env (list map inside a struct) merges item fields', async (t) => {
  const a = stored(apply(undefined, gameServer(base({ server: server(1, { env: [{ name: 'A', value: '1' }] }) })), 'flux').object)
  const b = apply(a, gameServer({ server: { env: [{ name: 'B', value: '2' }] } }), 'ops', { now: T1 })
  t.same(b.object.spec.server.env, [
    { name: 'A', value: '1' },
    { name: 'B', value: '2' },
  ])
})

t.test('atomic lists are replaced whole and owned whole', async (t) => {
  const a = stored(apply(undefined, gameServer(base({ server: server(1, { args: ['--offline', '--x'] }) })), 'flux').object)
  const mf = a.metadata.managedFields[0].fieldsV1['f:spec']['f:server']
  t.same(mf['f:args'], {}, 'the list is one field')
  const clash = apply(a, gameServer({ server: { args: ['--y'] } }), 'ops', { now: T1 })
  t.same(
    clash.conflicts!.map((c) => c.field),
    ['.spec.server.args'],
  )
  const forced = apply(a, gameServer({ server: { args: ['--y'] } }), 'ops', { now: T1, force: true })
  t.same(forced.object.spec.server.args, ['--y'])
})

t.test('sets (finalizers) union items and own them one by one', async (t) => {
  const a = stored(apply(undefined, gameServer(base(), { finalizers: ['zerolaghub.dev/container'] }), 'controller').object)
  const { spec: _none, ...noSpec } = gameServer({}, { finalizers: ['example.com/backup'] })
  const b = apply(a, noSpec, 'backup', { now: T1 })
  t.same(b.object.metadata.finalizers, ['zerolaghub.dev/container', 'example.com/backup'])
  const entry = b.object.metadata.managedFields.find((m: any) => m.manager === 'backup')
  t.same(entry.fieldsV1, { 'f:metadata': { 'f:finalizers': { 'v:"example.com/backup"': {} } } })
  const { spec: _none2, ...nothing } = gameServer({})
  const c = apply(stored(b.object), nothing, 'backup', { now: T1 })
  t.same(c.object.metadata.finalizers, ['zerolaghub.dev/container'])
})

t.test('atomic and granular maps from the schema', async (t) => {
  const schema = {
    type: 'object' as const,
    properties: {
      spec: {
        type: 'object' as const,
        properties: {
          selector: {
            type: 'object' as const,
            'x-kubernetes-map-type': 'atomic' as const,
            additionalProperties: { type: 'string' as const },
          },
          tags: { type: 'object' as const, additionalProperties: { type: 'string' as const } },
          free: { type: 'object' as const, 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
  }
  const obj = (spec: Record<string, unknown>) => ({ apiVersion: 'x.dev/v1', kind: 'X', metadata: { name: 'x' }, spec })
  const a = applyPatch({
    live: undefined,
    patch: obj({ selector: { a: '1' }, tags: { a: '1' }, free: { deep: { k: 1 }, list: [1] } }),
    manager: 'm1',
    force: false,
    schema,
    now: T0,
  })
  t.same(a.object.metadata.managedFields[0].fieldsV1, {
    'f:spec': { 'f:free': { 'f:deep': { '.': {}, 'f:k': {} }, 'f:list': {} }, 'f:selector': {}, 'f:tags': { 'f:a': {} } },
  })
  const b = applyPatch({
    live: a.object,
    patch: obj({ tags: { b: '2' }, free: { deep: { j: 2 } } }),
    manager: 'm2',
    force: false,
    schema,
    now: T1,
  })
  t.same(b.object.spec.tags, { a: '1', b: '2' })
  t.same(b.object.spec.free.deep, { k: 1, j: 2 }, 'preserved unknown objects are granular')
  const c = applyPatch({ live: a.object, patch: obj({ selector: { b: '2' } }), manager: 'm2', force: false, schema, now: T1 })
  t.same(
    c.conflicts!.map((x) => x.field),
    ['.spec.selector'],
  )
})

t.test('status: the main resource ignores it; /status applies only it', async (t) => {
  const a = stored(apply(undefined, { ...gameServer(base()), status: { phase: 'Hacked' } }, 'flux').object)
  t.equal(a.status, undefined, 'status in a main-resource apply is ignored')
  const withStatus = { ...a, status: { phase: 'Pending' } }
  const s = apply(withStatus, { ...gameServer({ game: 'tetris' }), status: { phase: 'Running', vmid: 5001 } }, 'controller', {
    subresource: 'status',
    now: T1,
  })
  t.same(s.object.status, { phase: 'Running', vmid: 5001 })
  t.equal(s.object.spec.game, 'minecraft', 'spec in a status apply is ignored')
  const entry = s.object.metadata.managedFields.find((m: any) => m.manager === 'controller')
  t.same(entry, {
    manager: 'controller',
    operation: 'Apply',
    apiVersion: AV,
    time: '2026-01-01T00:01:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:status': { 'f:phase': {}, 'f:vmid': {} } },
    subresource: 'status',
  })
  const main = apply(stored(s.object), gameServer(base()), 'flux', { now: T1 })
  t.same(main.object.status, { phase: 'Running', vmid: 5001 }, 'a main-resource apply keeps status')
})

t.test('bad apply configurations are rejected with what to fix', async (t) => {
  const cases: Array<[Record<string, any>, RegExp]> = [
    [gameServer({ mods: [{ url: 'u', sha256: 's' }] }), /omits key field "name"/],
    [
      gameServer({
        mods: [
          { name: 'a', url: 'u', sha256: 's' },
          { name: 'a', url: 'v', sha256: 't' },
        ],
      }),
      /duplicate entries for key \[name="a"\]/,
    ],
    [gameServer({}, { managedFields: [{ manager: 'x' }] }), /managedFields must be nil/],
    [{ kind: 'GameServer', metadata: { name: 'x' } }, /apiVersion must be set/],
    [{ apiVersion: AV, metadata: { name: 'x' } }, /kind must be set/],
  ]
  for (const [patch, re] of cases) t.throws(() => apply(undefined, patch, 'm'), re)
  t.throws(() => apply(undefined, gameServer({}), ''), /fieldManager is required/)
  try {
    apply(undefined, gameServer({ mods: [{}] }), 'm')
  } catch (e) {
    t.ok(e instanceof ApplyError)
    t.equal((e as ApplyError).code, 'BadRequest')
  }
})

t.test('kubectl: client-side apply, then server-side apply', async (t) => {
  // kubectl apply (client-side) creates with the last-applied annotation, manager kubectl-client-side-apply
  const cfg = gameServer(base())
  const lastApplied = `${JSON.stringify(cfg)}\n`
  const createdBody = { ...cfg, metadata: { ...cfg.metadata, annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } } }
  const created = stored(createdBody)
  created.metadata.managedFields = trackUpdate({
    oldObj: undefined,
    newObj: created,
    manager: 'kubectl-client-side-apply',
    schema: gsSchema,
    now: T0,
  })
  t.same(
    created.metadata.managedFields.map((m: any) => [m.manager, m.operation]),
    [['kubectl-client-side-apply', 'Update']],
  )
  t.same(
    created.metadata.managedFields[0].fieldsV1['f:spec']['f:server'],
    { '.': {}, 'f:command': {}, 'f:port': {} },
    'an update owns the structs it created',
  )

  // someone else (kubectl patch) changes the port: now it differs from last-applied
  const patched = structuredClone(created)
  patched.spec.server.port = 25570
  patched.metadata.managedFields = trackUpdate({ oldObj: created, newObj: patched, manager: 'kubectl-patch', schema: gsSchema, now: T1 })

  // kubectl apply --server-side changing port and game: game is still as last applied (allowed), port is not
  const ssa = gameServer({ ...base(), game: 'minecraft-bedrock', server: server(25566) })
  const r = apply(patched, ssa, 'kubectl', { now: T1 })
  t.same(
    r.conflicts!.map((c) => [c.display, c.field]),
    [['"kubectl-patch" using zerolaghub.dev/v1alpha1', '.spec.server.port']],
  )
  t.equal(
    conflictMessage(r.conflicts!),
    'Apply failed with 1 conflict: conflict with "kubectl-patch" using zerolaghub.dev/v1alpha1: .spec.server.port',
  )

  const forced = apply(patched, ssa, 'kubectl', { now: T1, force: true })
  t.equal(forced.object.spec.game, 'minecraft-bedrock')
  t.equal(forced.object.spec.server.port, 25566)
  t.same(
    JSON.parse(forced.object.metadata.annotations[LAST_APPLIED_ANNOTATION]),
    ssa,
    'the client-side annotation follows the server-side apply',
  )
  t.ok(forced.object.metadata.annotations[LAST_APPLIED_ANNOTATION].endsWith('}\n'))

  // a manager other than kubectl gets no such allowance
  const other = apply(created, ssa, 'flux', { now: T1 })
  t.same(other.conflicts!.map((c) => c.field).sort(), ['.spec.game', '.spec.server.port'])
  t.equal(
    conflictMessage(other.conflicts!),
    'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using zerolaghub.dev/v1alpha1:\n- .spec.game\n- .spec.server.port',
  )
})

t.test('the result shares nothing with the inputs', async (t) => {
  const live = stored(apply(undefined, gameServer(base({ mods: [{ name: 'a', url: 'u', sha256: 's' }] })), 'flux').object)
  const before = structuredClone(live)
  const patch = gameServer({ running: true })
  const r = apply(live, patch, 'ops', { now: T1 })
  r.object.spec.server.port = 1
  r.object.spec.mods[0].url = 'changed'
  r.object.metadata.labels = { x: 'y' }
  t.same(live, before, 'mutating the result leaves the live object alone')
  t.same(patch, gameServer({ running: true }), 'the patch is untouched')
})
