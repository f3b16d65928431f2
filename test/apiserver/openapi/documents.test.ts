import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { parse } from 'yaml'
import {
  buildOpenApiV3,
  openApiV3ForGroupVersion,
  openApiV3Root,
  openApiV2,
  documentHash,
  builtinSchema,
  definitionName,
} from '../../../src/apiserver/openapi/index.ts'

const crdDir = new URL('../../../crds/', import.meta.url)
const crds = readdirSync(crdDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(new URL(f, crdDir), 'utf8')))

/** Every $ref in the document, with where it was found. */
function refs(v: unknown, at = '#', out: Array<[string, string]> = []): Array<[string, string]> {
  if (Array.isArray(v))
    v.forEach((x, i) => {
      refs(x, `${at}/${i}`, out)
    })
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string') out.push([at, x])
      else refs(x, `${at}/${k}`, out)
    }
  }
  return out
}

function resolve(doc: any, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((o: any, k) => o?.[k], doc)
}

t.test('the index lists every group-version with its hash', async (t) => {
  const set = buildOpenApiV3(crds)
  t.same(Object.keys(set.root.paths).sort(), [
    'api/v1',
    'apis/apiextensions.k8s.io/v1',
    'apis/coordination.k8s.io/v1',
    'apis/events.k8s.io/v1',
    'apis/rbac.authorization.k8s.io/v1',
    'apis/zerolaghub.dev/v1alpha1',
  ])
  for (const [p, entry] of Object.entries(set.root.paths)) {
    const d = set.documents.get(p)!
    t.equal(entry.serverRelativeURL, `/openapi/v3/${p}?hash=${d.hash}`)
    t.equal(d.hash, documentHash(d.json))
    t.match(d.hash, /^[0-9A-F]{128}$/)
    t.same(JSON.parse(d.json), d.document)
  }
  t.same(openApiV3Root(['v1', 'zerolaghub.dev/v1alpha1']), {
    paths: {
      'api/v1': { serverRelativeURL: '/openapi/v3/api/v1' },
      'apis/zerolaghub.dev/v1alpha1': { serverRelativeURL: '/openapi/v3/apis/zerolaghub.dev/v1alpha1' },
    },
  })
  const changed = buildOpenApiV3(
    crds.map((c) =>
      c.spec.names.kind === 'GameServer'
        ? { ...c, spec: { ...c.spec, versions: [{ ...c.spec.versions[0], schema: { openAPIV3Schema: { type: 'object' } } }] } }
        : c,
    ),
  )
  t.not(
    changed.documents.get('apis/zerolaghub.dev/v1alpha1')!.hash,
    set.documents.get('apis/zerolaghub.dev/v1alpha1')!.hash,
    'a schema change changes the hash',
  )
  t.equal(changed.documents.get('api/v1')!.hash, set.documents.get('api/v1')!.hash)
})

t.test('every $ref resolves, in every document', async (t) => {
  const set = buildOpenApiV3(crds)
  for (const [p, { document }] of set.documents) {
    const all = refs(document)
    t.ok(all.length > 10, `${p} has refs`)
    const broken = all.filter(([, r]) => resolve(document, r) === undefined)
    t.same(broken, [], `${p}: no dangling $ref`)
  }
  const v2 = openApiV2(crds)
  t.same(
    refs(v2).filter(([, r]) => resolve(v2, r) === undefined),
    [],
    'v2: no dangling $ref',
  )
  t.ok(refs(v2).every(([, r]) => r.startsWith('#/definitions/')))
})

t.test('the GameServer document: schema, GVK extensions, paths, operations', async (t) => {
  const doc = openApiV3ForGroupVersion(crds, 'zerolaghub.dev', 'v1alpha1')!
  const gsDef = definitionName('zerolaghub.dev', 'v1alpha1', 'GameServer')
  t.equal(gsDef, 'dev.zerolaghub.v1alpha1.GameServer')
  const gs = doc.components.schemas[gsDef]
  t.same(gs['x-kubernetes-group-version-kind'], [{ group: 'zerolaghub.dev', kind: 'GameServer', version: 'v1alpha1' }])
  t.same(gs.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }])
  t.ok(gs.properties.spec.properties.supervision.properties.backoffSeconds, 'the CRD schema is carried over')
  t.equal(gs.properties.spec.properties.supervision.properties.backoffSeconds['x-kubernetes-list-type'], 'atomic')
  t.ok(gs.properties.apiVersion.description.startsWith('APIVersion defines'))
  const list = doc.components.schemas['dev.zerolaghub.v1alpha1.GameServerList']
  t.same(list['x-kubernetes-group-version-kind'], [{ group: 'zerolaghub.dev', kind: 'GameServerList', version: 'v1alpha1' }])
  t.same(list.properties.items.items, { $ref: `#/components/schemas/${gsDef}` })

  t.same(
    Object.keys(doc.paths)
      .filter((p) => p.includes('/gameservers'))
      .sort(),
    [
      '/apis/zerolaghub.dev/v1alpha1/gameservers',
      '/apis/zerolaghub.dev/v1alpha1/namespaces/{namespace}/gameservers',
      '/apis/zerolaghub.dev/v1alpha1/namespaces/{namespace}/gameservers/{name}',
      '/apis/zerolaghub.dev/v1alpha1/namespaces/{namespace}/gameservers/{name}/status',
    ],
  )
  t.ok(doc.paths['/apis/zerolaghub.dev/v1alpha1/runtimecatalogs/{name}'], 'cluster-scoped kinds have no namespace segment')
  const item = doc.paths['/apis/zerolaghub.dev/v1alpha1/namespaces/{namespace}/gameservers/{name}']
  for (const m of ['get', 'put', 'patch', 'delete']) {
    t.same(
      item[m]['x-kubernetes-group-version-kind'],
      { group: 'zerolaghub.dev', kind: 'GameServer', version: 'v1alpha1' },
      `${m} carries the GVK`,
    )
  }
  t.equal(item.get.operationId, 'readZerolaghubDevV1alpha1NamespacedGameServer')
  t.same(
    item.patch.parameters.map((p: any) => [p.name, p.in]),
    [
      ['dryRun', 'query'],
      ['fieldManager', 'query'],
      ['fieldValidation', 'query'],
      ['force', 'query'],
    ],
    'PATCH advertises fieldValidation, so kubectl validates on the server',
  )
  t.same(
    Object.keys(item.patch.requestBody.content),
    ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'],
    'no strategic merge patch for custom resources',
  )
  t.same(
    item.parameters.map((p: any) => p.name),
    ['name', 'namespace', 'pretty'],
  )
  const listOp = doc.paths['/apis/zerolaghub.dev/v1alpha1/namespaces/{namespace}/gameservers'].get
  t.equal(listOp['x-kubernetes-action'], 'list')
  t.equal(listOp.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/dev.zerolaghub.v1alpha1.GameServerList')
  t.ok(listOp.parameters.some((p: any) => p.name === 'watch'))
  t.equal(openApiV3ForGroupVersion(crds, 'nope.dev', 'v1'), undefined)
})

t.test('built-in kinds', async (t) => {
  const core = openApiV3ForGroupVersion([], '', 'v1')!
  for (const k of ['Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'Event']) {
    t.same(
      core.components.schemas[`io.k8s.api.core.v1.${k}`]['x-kubernetes-group-version-kind'],
      [{ group: '', kind: k, version: 'v1' }],
      k,
    )
  }
  t.ok(core.paths['/api/v1/namespaces/{name}/status'], 'Namespace status')
  t.ok(core.paths['/api/v1/namespaces/{namespace}/configmaps/{name}'])
  t.ok(
    'application/strategic-merge-patch+json' in core.paths['/api/v1/namespaces/{namespace}/configmaps/{name}'].patch.requestBody.content,
    'built-ins take strategic merge patch',
  )
  t.equal(core.paths['/api/v1/namespaces/{namespace}/configmaps/{name}'].get.operationId, 'readCoreV1NamespacedConfigMap')
  t.ok(
    openApiV3ForGroupVersion([], 'coordination.k8s.io', 'v1')!.components.schemas['io.k8s.api.coordination.v1.Lease'].properties.spec
      .properties.holderIdentity,
  )
  t.ok(openApiV3ForGroupVersion([], 'events.k8s.io', 'v1')!.components.schemas['io.k8s.api.events.v1.Event'].properties.note)
  t.ok(
    openApiV3ForGroupVersion([], 'apiextensions.k8s.io', 'v1')!.paths['/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}']
      .patch,
  )
  t.equal(builtinSchema('', 'v1', 'ConfigMap')!.properties!.data!.type, 'object')
  t.equal(builtinSchema('', 'v1', 'Nope'), undefined)
})

t.test('Swagger 2.0', async (t) => {
  const v2 = openApiV2(crds)
  t.equal(v2.swagger, '2.0')
  const gs = v2.definitions['dev.zerolaghub.v1alpha1.GameServer']
  t.same(gs['x-kubernetes-group-version-kind'], [{ group: 'zerolaghub.dev', kind: 'GameServer', version: 'v1alpha1' }])
  t.same(gs.properties.metadata, {
    $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    description: gs.properties.metadata.description,
  })
  t.notOk(JSON.stringify(gs).includes('"oneOf"'), 'oneOf is dropped for Swagger 2.0')
  t.notOk(JSON.stringify(gs).includes('"nullable"'))
  const patch = v2.paths['/apis/zerolaghub.dev/v1alpha1/namespaces/{namespace}/gameservers/{name}'].patch
  t.same(patch.parameters[0], {
    name: 'body',
    in: 'body',
    required: true,
    schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' },
  })
  t.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.type === 'string'))
  t.ok(v2.paths['/api/v1/namespaces/{namespace}/secrets'])
})
