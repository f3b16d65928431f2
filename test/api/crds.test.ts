import t from 'tap'
import { JSONPath } from 'jsonpath-plus'
import { loadCrds, GROUP, validateResource } from '../../src/api/index.ts'
import { structuralViolations, type JSONSchemaProps } from '../../src/apiserver/schema/index.ts'
import { loadExamples } from './fixtures.ts'

// Short names of kubectl's built-in resources (kubectl api-resources on 1.32), which ours must not shadow.
const BUILTIN_SHORT_NAMES = new Set([
  'cs',
  'cm',
  'ep',
  'ev',
  'limits',
  'ns',
  'no',
  'pvc',
  'pv',
  'po',
  'pod',
  'rc',
  'quota',
  'sa',
  'svc',
  'crd',
  'crds',
  'ds',
  'deploy',
  'rs',
  'sts',
  'hpa',
  'cj',
  'csr',
  'ing',
  'netpol',
  'pdb',
  'pc',
  'sc',
  'ev',
  'vac',
  'ipa',
  'sd',
  'ingclass',
])

const crds = loadCrds()

t.test('four CRDs in our group, each with one served storage version v1alpha1', async (t) => {
  t.same(crds.map((c) => c.spec.names.kind).sort(), ['ContainerProvider', 'DevServer', 'GameServer', 'RuntimeCatalog'])
  for (const c of crds) {
    t.equal(c.apiVersion, 'apiextensions.k8s.io/v1')
    t.equal(c.spec.group, GROUP)
    t.equal(c.metadata.name, `${c.spec.names.plural}.${GROUP}`, 'CRD name is <plural>.<group>')
    t.same(
      c.spec.versions.map((v) => [v.name, v.served, v.storage]),
      [['v1alpha1', true, true]],
    )
    t.ok(c.spec.versions[0]!.subresources?.status, `${c.spec.names.kind} has the status subresource`)
  }
  const scope = Object.fromEntries(crds.map((c) => [c.spec.names.kind, c.spec.scope]))
  t.same(scope, { ContainerProvider: 'Cluster', DevServer: 'Namespaced', GameServer: 'Namespaced', RuntimeCatalog: 'Cluster' })
})

t.test('every schema is structural (types everywhere, no additionalProperties beside properties, valid defaults)', async (t) => {
  for (const c of crds) t.same(structuralViolations(c.spec.versions[0]!.schema.openAPIV3Schema), [], c.spec.names.kind)
})

t.test('names: category zlh, short names that shadow no built-in and no other', async (t) => {
  const seen = new Set<string>()
  for (const c of crds) {
    t.ok(c.spec.names.categories?.includes('zlh'), `${c.spec.names.kind} in category zlh`)
    for (const s of c.spec.names.shortNames ?? []) {
      t.notOk(BUILTIN_SHORT_NAMES.has(s), `${s} collides with a built-in resource`)
      t.notOk(seen.has(s), `${s} used twice`)
      seen.add(s)
    }
  }
})

// Resolves a column's path to the schema node it names, proving the column reads a declared field.
function schemaAt(root: JSONSchemaProps, jsonPath: string): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = root
  for (const part of jsonPath
    .replace(/\[\?\(.*?\)\]/g, '[*]')
    .split(/\.|(?=\[)/)
    .filter(Boolean)) {
    if (!node) return undefined
    if (part.startsWith('[')) node = node.items
    else if (part === 'metadata') node = { type: 'object', properties: { creationTimestamp: { type: 'string' }, name: { type: 'string' } } }
    else node = node.properties?.[part] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined)
  }
  return node
}

t.test('printer columns name declared fields and resolve on examples', async (t) => {
  const columns = new Map<string, string[]>()
  for (const c of crds) {
    const v = c.spec.versions[0]!
    const cols = v.additionalPrinterColumns ?? []
    t.ok(cols.length >= 3, `${c.spec.names.kind} has columns`)
    for (const col of cols) {
      const node = schemaAt(v.schema.openAPIV3Schema, col.jsonPath)
      t.ok(node, `${c.spec.names.kind} column ${col.name} (${col.jsonPath}) names a declared field`)
      const want = col.type === 'date' ? 'string' : col.type
      if (node?.type) t.equal(node.type, want, `${col.name} type matches the field`)
    }
    columns.set(
      c.spec.names.kind,
      cols.map((x) => x.name),
    )
  }
  t.same(
    columns.get('GameServer')!.filter((n) => ['Phase', 'Runtime', 'VMID', 'Address', 'Restarts', 'Age'].includes(n)),
    ['Phase', 'Runtime', 'VMID', 'Address', 'Restarts', 'Age'],
    'GameServer reads like a dashboard',
  )
  t.ok(columns.get('DevServer')!.includes('IDE'), 'DevServer shows the IDE URL')

  // Evaluate every column on each example with a plausible status, as the API server's table printer would.
  for (const ex of loadExamples()) {
    const crd = crds.find((c) => c.spec.names.kind === ex.kind)!
    const obj = validateResource(ex).object
    ;(obj.metadata as Record<string, unknown>).creationTimestamp = '2026-11-25T00:00:00Z'
    obj.status = {
      phase: 'Running',
      vmid: 5001,
      address: '10.0.0.5',
      restarts: 2,
      verifiedCount: 1,
      containers: 1,
      runtimes: [{ name: 'node', version: '24.21.0' }],
      ide: { host: 'dev-5001.example', url: 'https://dev-5001.example/' },
      lastCrash: { classification: 'oom' },
      players: { online: 1, max: 20 },
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Synced', status: 'True' },
      ],
    }
    for (const col of crd.spec.versions[0]!.additionalPrinterColumns ?? []) {
      if (col.jsonPath === '.spec.channels.beta') continue // optional channel, absent in the samples
      const r = JSONPath({ path: `$${col.jsonPath}`, json: obj, wrap: true }) as unknown[]
      t.ok(r.length > 0, `${ex.kind}/${ex.metadata.name}: column ${col.name} resolves`)
    }
  }
})
