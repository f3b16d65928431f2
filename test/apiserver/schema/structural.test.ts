import t from 'tap'
import {
  structuralViolations,
  applyDefaults,
  pruneUnknown,
  validateValue,
  type JSONSchemaProps,
} from '../../../src/apiserver/schema/index.ts'

const obj = (properties: Record<string, JSONSchemaProps>, extra: Partial<JSONSchemaProps> = {}): JSONSchemaProps => ({
  type: 'object',
  properties,
  ...extra,
})

t.test('a structural schema passes', async (t) => {
  t.same(structuralViolations(obj({ spec: obj({ a: { type: 'string', default: 'x' } }) })), [])
})

t.test('each structural rule is enforced', async (t) => {
  const cases: Array<[string, JSONSchemaProps, RegExp]> = [
    ['missing type', obj({ spec: { properties: { a: { type: 'string' } } } }), /properties\[spec\]\.type: Required value/],
    [
      'properties beside additionalProperties',
      obj({ spec: obj({ a: { type: 'string' } }, { additionalProperties: { type: 'string' } }) }),
      /mutually exclusive/,
    ],
    ['array without items', obj({ l: { type: 'array' } }), /items: Required value/],
    ['default of the wrong type', obj({ n: { type: 'integer', default: 'five' } }), /default: Invalid value/],
    ['default that breaks a constraint', obj({ n: { type: 'integer', minimum: 1, default: 0 } }), /greater than or equal to 1/],
    [
      'default with pruned fields',
      obj({ o: obj({ a: { type: 'string' } }, { default: { a: 'x', b: 'y' } }) }),
      /defaults must not contain fields/,
    ],
    ['type inside oneOf', obj({ o: obj({ a: { type: 'string' } }, { oneOf: [{ type: 'object' }] }) }), /oneOf\[0\]\.type: Forbidden/],
    [
      'default inside anyOf',
      obj({ o: obj({ a: { type: 'string' } }, { anyOf: [{ properties: { a: { default: 'x' } } }] }) }),
      /anyOf\[0\]\.properties\[a\]\.default: Forbidden/,
    ],
    [
      'junctor names an undeclared field',
      obj({ o: obj({ a: { type: 'string' } }, { oneOf: [{ required: ['b'] }] }) }),
      /"b" is not declared/,
    ],
    [
      'list-type map without keys',
      obj({ l: { type: 'array', 'x-kubernetes-list-type': 'map', items: obj({ k: { type: 'string' } }) } }),
      /needs keys/,
    ],
    [
      'list map key optional without default',
      obj({
        l: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'], items: obj({ k: { type: 'string' } }) },
      }),
      /required or have a default/,
    ],
    [
      'set of objects',
      obj({ l: { type: 'array', 'x-kubernetes-list-type': 'set', items: obj({ k: { type: 'string' } }) } }),
      /sets need scalar items/,
    ],
    ['$ref', obj({ a: { type: 'string', ...({ $ref: '#/x' } as object) } }), /\$ref: Forbidden/],
    ['restricting metadata beyond name', obj({ metadata: obj({ labels: { type: 'object' } }) }), /only name and generateName/],
    ['root not an object', { type: 'string' }, /must be object at the root/],
  ]
  for (const [what, s, re] of cases) {
    const v = structuralViolations(s)
    t.ok(
      v.some((m) => re.test(m)),
      `${what}: ${v.join(' | ') || 'no violation'}`,
    )
  }
})

t.test('defaulting applies only under present parents and recurses into defaulted objects', async (t) => {
  const s = obj({ a: obj({ b: { type: 'integer', default: 1 } }, { default: {} }), c: obj({ d: { type: 'integer', default: 2 } }) })
  t.same(applyDefaults(s, {}), { a: { b: 1 } })
  t.same(applyDefaults(s, { c: {} }), { a: { b: 1 }, c: { d: 2 } })
  const items = obj({ l: { type: 'array', items: obj({ x: { type: 'string', default: 'y' } }) } })
  t.same(applyDefaults(items, { l: [{}, { x: 'z' }] }), { l: [{ x: 'y' }, { x: 'z' }] })
})

t.test('pruning keeps apiVersion/kind/metadata at the root and honours preserve-unknown-fields', async (t) => {
  const s = obj({ spec: obj({ a: { type: 'string' }, free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }) })
  const v = {
    apiVersion: 'x/v1',
    kind: 'X',
    metadata: { name: 'n', labels: { a: 'b' } },
    spec: { a: 'x', b: 1, free: { anything: [1] } },
    extra: true,
  }
  t.same(pruneUnknown(s, v, '', true).sort(), ['extra', 'spec.b'])
  t.same(v, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'n', labels: { a: 'b' } }, spec: { a: 'x', free: { anything: [1] } } })
})

t.test('validation maps OpenAPI v3.0 features', async (t) => {
  const s = obj({
    n: { type: 'integer', minimum: 0, exclusiveMinimum: true },
    ios: { 'x-kubernetes-int-or-string': true },
    nul: { type: 'string', nullable: true },
    when: { type: 'string', format: 'date-time' },
    big: { type: 'integer', format: 'int64' },
  })
  t.same(validateValue(s, { n: 1, ios: 'x', nul: null, when: '2026-01-01T00:00:00Z', big: 5 }), [])
  t.equal(validateValue(s, { n: 0 })[0]?.field, 'n', 'exclusiveMinimum as a boolean')
  t.equal(validateValue(s, { ios: true })[0]?.field, 'ios')
  t.equal(validateValue(s, { when: 'yesterday' })[0]?.field, 'when')
})
