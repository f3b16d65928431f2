// Field error wording: exactly what kube-apiserver prints (apimachinery field.Error through
// apiextensions' schema validation), in the schema layer, the 422 Status, kubectl and zlh validate.

import t from 'tap'
import { validateValue, type JSONSchemaProps } from '../../../src/apiserver/schema/index.ts'
import { validateResource } from '../../../src/api/index.ts'
import { CRDS, request, startServer, writeTemp } from '../harness.ts'

const schema: JSONSchemaProps = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', maxLength: 5 },
    port: { type: 'integer', minimum: 1 },
    tags: { type: 'array', maxItems: 2, items: { type: 'string' } },
    mode: { type: 'string', enum: ['a', 'b'] },
    size: { type: 'integer', enum: [1, 2] },
    when: { type: 'string', format: 'date-time' },
  },
}

const messages = (value: unknown) => validateValue(schema, value, 'spec').map((e) => e.message)

t.test('each schema rule reads as kube-apiserver prints it', async (t) => {
  t.same(messages({}), ['spec.name: Required value'], 'a missing field: the type once, no repeated detail')
  t.same(messages({ name: 'x', port: 0 }), ['spec.port: Invalid value: 0: spec.port in body should be greater than or equal to 1'])
  t.same(messages({ name: 'toolong' }), ['spec.name: Too long: may not be more than 5 bytes'], 'Too long never shows the value')
  t.same(messages({ name: 'x', tags: ['a', 'b', 'c'] }), ['spec.tags: Too many: 3: must have at most 2 items'], 'Too many shows the count')
  t.same(messages({ name: 'x', mode: 'c' }), ['spec.mode: Unsupported value: "c": supported values: "a", "b"'])
  t.same(messages({ name: 'x', size: 3 }), ['spec.size: Unsupported value: 3: supported values: "1", "2"'])
  t.same(messages({ name: 'x', port: 'abc' }), ['spec.port: Invalid value: "string": spec.port in body must be of type integer: "string"'])
  t.same(messages({ name: 'x', port: 1.5 }), ['spec.port: Invalid value: "number": spec.port in body must be of type integer: "number"'])
  t.same(messages({ name: 'x', when: 'soon' }), ['spec.when: Invalid value: "soon": spec.when in body must be of type date-time: "soon"'])
  for (const m of messages({ port: 'x', tags: [1] })) t.notMatch(m, /Required value: Required value|(\S+): \1:/, `no repeat in ${m}`)
})

t.test('zlh validate and the portal word metadata errors as the API server does', async (t) => {
  const r = validateResource({ apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer', metadata: { namespace: 'default' }, spec: {} })
  t.same(
    r.errors.map((e) => e.message),
    ['metadata.name: Required value: name or generateName is required'],
  )
})

t.test('the 422, kubectl apply and its causes print each field once', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', CRDS)
  await h.k('wait', '--for=condition=Established', 'crd/gameservers.zerolaghub.dev', '--timeout=30s')
  const bad = {
    apiVersion: 'zerolaghub.dev/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'x', namespace: 'default' },
    spec: { game: 'mc', runtime: { channel: 'stable' }, server: { command: ['a'], port: 0 } },
  }
  const r = await request(h.server, 'POST', '/apis/zerolaghub.dev/v1alpha1/namespaces/default/gameservers', {
    body: JSON.stringify(bad),
    contentType: 'application/json',
  })
  t.equal(r.status, 422)
  const status = r.json()
  t.equal(
    status.message,
    'GameServer.zerolaghub.dev "x" is invalid: [spec.runtime.name: Required value, spec.server.port: Invalid value: 0: spec.server.port in body should be greater than or equal to 1]',
  )
  t.same(status.details.causes.map((c: { field: string; message: string; reason: string }) => [c.reason, c.field, c.message]).sort(), [
    ['FieldValueInvalid', 'spec.server.port', 'Invalid value: 0: spec.server.port in body should be greater than or equal to 1'],
    ['FieldValueRequired', 'spec.runtime.name', 'Required value'],
  ])

  const k = await h.kubectl(['apply', '-f', writeTemp(h, 'bad.json', JSON.stringify(bad))])
  t.not(k.code, 0)
  const lines = k.stderr.split('\n').filter((l) => l.startsWith('* '))
  t.same(
    lines.sort(),
    [
      '* spec.runtime.name: Required value',
      '* spec.server.port: Invalid value: 0: spec.server.port in body should be greater than or equal to 1',
    ],
    k.stderr,
  )
})
