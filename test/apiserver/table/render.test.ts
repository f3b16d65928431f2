import t from 'tap'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { renderTable, builtinColumns, type TableColumn } from '../../../src/apiserver/table/index.ts'

const now = new Date('2026-03-01T12:00:00Z')
const crd = parse(readFileSync(new URL('../../../crds/gameservers.zerolaghub.dev.yaml', import.meta.url), 'utf8'))
const columns: TableColumn[] = crd.spec.versions[0].additionalPrinterColumns

const gs = (name: string, status: Record<string, unknown> | undefined, created = '2026-03-01T11:55:00Z') => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'GameServer',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '42', creationTimestamp: created, labels: { a: 'b' } },
  spec: { game: 'minecraft', runtime: { name: 'node', version: '24.21.0' } },
  ...(status ? { status } : {}),
})

t.test('a CRD table follows additionalPrinterColumns', async (t) => {
  const running = gs('mc-1', {
    phase: 'Running',
    runtimes: [{ name: 'node', version: '24.21.0' }],
    vmid: 5001,
    address: '10.0.0.5',
    restarts: 2,
    players: { online: 3, max: 20 },
    lastCrash: { classification: 'oom' },
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'Synced', status: 'False', reason: 'Forbidden' },
    ],
  })
  const fresh = gs('mc-2', undefined, '2026-02-27T08:00:00Z')
  const table = renderTable([running, fresh], columns, {
    includeObject: 'None',
    listMeta: { resourceVersion: '99', continue: 'tok', remainingItemCount: 3 },
    now,
  })
  t.equal(table.kind, 'Table')
  t.equal(table.apiVersion, 'meta.k8s.io/v1')
  t.same(table.metadata, { resourceVersion: '99', continue: 'tok', remainingItemCount: 3 })
  t.same(
    table.columnDefinitions!.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Phase', 'string', '', 0],
      ['Runtime', 'string', '', 0],
      ['Version', 'string', '', 0],
      ['VMID', 'integer', '', 0],
      ['Address', 'string', '', 0],
      ['Restarts', 'integer', '', 0],
      ['Players', 'integer', '', 0],
      ['Last-Crash', 'string', '', 1],
      ['Synced', 'string', '', 1],
      ['Age', 'date', '', 0],
    ],
  )
  t.equal(table.columnDefinitions![1]!.description, 'Custom resource definition column (in JSONPath format): .status.phase')
  t.same(table.rows[0]!.cells, ['mc-1', 'Running', 'node', '24.21.0', 5001, '10.0.0.5', 2, 3, 'oom', 'False', '5m'])
  t.same(table.rows[1]!.cells, ['mc-2', null, 'node', null, null, null, null, null, null, null, '2d4h'], 'missing values are empty cells')
  t.equal(table.rows[0]!.object, null)
})

t.test('includeObject, single objects and noHeaders', async (t) => {
  const o = gs('mc-1', { phase: 'Running' })
  const meta = renderTable([o], columns, { now })
  t.same(
    meta.rows[0]!.object,
    { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    'Metadata is the default',
  )
  t.same(meta.metadata, { resourceVersion: '42' }, "a single object's resourceVersion")
  t.equal(renderTable([o], columns, { includeObject: 'Object', now }).rows[0]!.object, o)
  const noHeaders = renderTable([o], columns, { noHeaders: true, now })
  t.equal(noHeaders.columnDefinitions, undefined)
  t.equal(noHeaders.rows[0]!.cells.length, 11)
})

t.test('typed cells follow cellForJSONValue', async (t) => {
  const cols: TableColumn[] = [
    { name: 'S', type: 'string', jsonPath: '.v.obj' },
    { name: 'SN', type: 'string', jsonPath: '.v.num' },
    { name: 'SB', type: 'string', jsonPath: '.v.bool' },
    { name: 'SNull', type: 'string', jsonPath: '.v.nil' },
    { name: 'I', type: 'integer', jsonPath: '.v.float' },
    { name: 'IS', type: 'integer', jsonPath: '.v.str' },
    { name: 'N', type: 'number', jsonPath: '.v.num' },
    { name: 'B', type: 'boolean', jsonPath: '.v.bool' },
    { name: 'BS', type: 'boolean', jsonPath: '.v.str' },
    { name: 'D', type: 'date', jsonPath: '.v.str' },
    { name: 'DN', type: 'date', jsonPath: '.v.num' },
    { name: 'Bad', type: 'string', jsonPath: '.v[' },
    { name: 'First', type: 'string', jsonPath: '.v.list[*]' },
    { name: 'Filtered', type: 'string', jsonPath: '.v.conds[?(@.type=="Ready")].status' },
  ]
  const o = {
    metadata: { name: 'x' },
    v: {
      obj: { b: 1, a: [true] },
      num: 1.5,
      bool: false,
      nil: null,
      float: 3.9,
      str: 'text',
      list: ['p', 'q'],
      conds: [{ type: 'Ready', status: 'True' }],
    },
  }
  t.same(renderTable([o], cols, { now }).rows[0]!.cells, [
    'x',
    '{"a":[true],"b":1}',
    '1.5',
    'false',
    null,
    3,
    null,
    1.5,
    false,
    null,
    '<invalid>',
    null,
    null,
    'p',
    'True',
  ])
})

t.test('numbers in string columns print as Go prints them', async (t) => {
  const col: TableColumn[] = [{ name: 'N', type: 'string', jsonPath: '.n' }]
  const cases: Array<[number, string]> = [
    [5, '5'],
    [1.5, '1.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [1e21, '1e+21'],
    [123456789012, '123456789012'],
    [-2.5, '-2.5'],
    [0, '0'],
  ]
  for (const [n, want] of cases) t.equal(renderTable([{ metadata: { name: 'x' }, n }], col, { now }).rows[0]!.cells[1], want, String(n))
})

t.test('a CRD without columns gets Name and Age', async (t) => {
  const table = renderTable([gs('a', undefined)], [], { now })
  t.same(
    table.columnDefinitions!.map((c) => [c.name, c.type]),
    [
      ['Name', 'string'],
      ['Age', 'date'],
    ],
  )
  t.same(table.rows[0]!.cells, ['a', '5m'])
})

t.test('built-in kinds get their kubectl columns', async (t) => {
  const created = '2026-03-01T11:00:00Z'
  const md = (name: string) => ({ name, namespace: 'default', creationTimestamp: created, resourceVersion: '7' })
  const cases: Array<[string, Record<string, unknown>, string[], unknown[]]> = [
    [
      'Namespace',
      { metadata: md('team-a'), status: { phase: 'Terminating' } },
      ['Name', 'Status', 'Age'],
      ['team-a', 'Terminating', '60m'],
    ],
    [
      'Secret',
      { metadata: md('s'), type: 'Opaque', data: { a: 'eA==', b: 'eQ==' } },
      ['Name', 'Type', 'Data', 'Age'],
      ['s', 'Opaque', 2, '60m'],
    ],
    ['ConfigMap', { metadata: md('c'), data: { a: 'x' }, binaryData: { b: 'eQ==' } }, ['Name', 'Data', 'Age'], ['c', 2, '60m']],
    ['ServiceAccount', { metadata: md('default') }, ['Name', 'Secrets', 'Age'], ['default', 0, '60m']],
    ['Lease', { metadata: md('leader'), spec: { holderIdentity: 'ctl-1' } }, ['Name', 'Holder', 'Age'], ['leader', 'ctl-1', '60m']],
    [
      'CustomResourceDefinition',
      { metadata: md('gameservers.zerolaghub.dev') },
      ['Name', 'Created At'],
      ['gameservers.zerolaghub.dev', created],
    ],
    [
      'Event',
      {
        metadata: md('mc.1'),
        type: 'Warning',
        reason: 'Crashed',
        message: ' exit 1 \n',
        involvedObject: { kind: 'GameServer', name: 'mc', fieldPath: 'spec' },
        source: { component: 'zlh-controller', host: 'node-1' },
        firstTimestamp: '2026-03-01T11:50:00Z',
        lastTimestamp: '2026-03-01T11:58:00Z',
        count: 3,
      },
      ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
      ['2m', 'Warning', 'Crashed', 'gameserver/mc', 'spec', 'zlh-controller, node-1', 'exit 1', '10m', 3, 'mc.1'],
    ],
    [
      'Event',
      {
        metadata: md('mc.2'),
        type: 'Normal',
        reason: 'Started',
        note: 'ok',
        regarding: { kind: 'GameServer', name: 'mc' },
        reportingController: 'zlh',
        eventTime: '2026-03-01T11:59:00.000000Z',
      },
      ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name'],
      ['60s', 'Normal', 'Started', 'gameserver/mc', '', 'zlh', 'ok', '60s', 1, 'mc.2'],
    ],
  ]
  for (const [kind, o, names, cells] of cases) {
    const table = renderTable([o], builtinColumns(kind), { now })
    t.same(
      table.columnDefinitions!.map((c) => c.name),
      names,
      `${kind} columns`,
    )
    t.same(table.rows[0]!.cells, cells, `${kind} cells`)
  }
  const ev = renderTable([], builtinColumns('Event'), { now }).columnDefinitions!
  t.same(
    ev.filter((c) => c.priority === 1).map((c) => c.name),
    ['Subobject', 'Source', 'First Seen', 'Count', 'Name'],
    'wide-only event columns',
  )
  t.equal(ev.find((c) => c.name === 'Name')!.format, 'name')
})
