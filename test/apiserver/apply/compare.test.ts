// Added/removed/modified field sets, checked against structured-merge-diff's published expectations.
import t from 'tap'
import { compare, toFieldSet } from '../../../src/apiserver/apply/walk.ts'
import { pathString } from '../../../src/apiserver/apply/fieldset.ts'
import type { JSONSchemaProps } from '../../../src/apiserver/schema/index.ts'

const set = (type: 'string' | 'boolean' | 'number'): JSONSchemaProps => ({
  type: 'array',
  'x-kubernetes-list-type': 'set',
  items: { type },
})
const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    value: { 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-map-type': 'atomic' } as JSONSchemaProps,
    inner: { type: 'object', additionalProperties: { type: 'string' } },
    innerList: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'string' } },
    numeric: { type: 'number' },
    string: { type: 'string' },
    bool: { type: 'boolean' },
    setStr: set('string'),
    setBool: set('boolean'),
    setNumeric: set('number'),
    list: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['key', 'id'],
      items: {
        type: 'object',
        properties: {
          key: { type: 'string' },
          id: { type: 'number' },
          value: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  },
}

// [lhs, rhs, removed, modified, added] as Kubernetes prints paths
const vectors: Array<[string, string, string[], string[], string[]]> = [
  ['{"key":"foo","value":1}', '{"key":"foo","value":1}', [], [], []],
  ['{"key":"foo","value":1}', '{"key":"foo","value":{"x":{"y":1}}}', [], ['.value'], []],
  ['{"key":"foo"}', '{"value":true}', ['.key'], [], ['.value']],
  ['{"key":"foot"}', '{"key":"foo","value":true}', [], ['.key'], ['.value']],
  ['{}', '{"inner":{}}', [], [], ['.inner']],
  ['{}', '{"inner":null}', [], [], ['.inner']],
  ['{"inner":null}', '{"inner":{}}', [], ['.inner'], []],
  ['{"inner":{}}', '{"inner":null}', [], ['.inner'], []],
  ['{"inner":{}}', '{"inner":{}}', [], [], []],
  ['{}', '{"innerList":[]}', [], [], ['.innerList']],
  ['{"innerList":null}', '{"innerList":[]}', [], ['.innerList'], []],
  ['{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}', [], [], ['.setStr[="c"]']],
  ['{"setStr":["a"]}', '{"setStr":["a","b","b"]}', [], [], ['.setStr[="b"]']],
  ['{"setStr":["a","b"]}', '{"setStr":["a","b","b"]}', ['.setStr[="b"]'], [], ['.setStr[="b"]']],
  ['{"setStr":["a","b","c"]}', '{"setStr":[]}', ['.setStr[="a"]', '.setStr[="b"]', '.setStr[="c"]'], [], []],
  ['{"setBool":[true]}', '{"setBool":[false]}', ['.setBool[=true]'], [], ['.setBool[=false]']],
  ['{"setNumeric":[1,2,3.14159]}', '{"setNumeric":[1,2,3]}', ['.setNumeric[=3.14159]'], [], ['.setNumeric[=3]']],
  [
    '{"setNumeric":[1,2,2,3.14159,1]}',
    '{"setNumeric":[1,2,3]}',
    ['.setNumeric[=1]', '.setNumeric[=2]', '.setNumeric[=3.14159]'],
    [],
    ['.setNumeric[=1]', '.setNumeric[=2]', '.setNumeric[=3]'],
  ],
  [
    '{}',
    '{"list":[{"key":"a","id":1,"value":{"a":"a"}}]}',
    [],
    [],
    [
      '.list',
      '.list[id=1,key="a"]',
      '.list[id=1,key="a"].id',
      '.list[id=1,key="a"].key',
      '.list[id=1,key="a"].value',
      '.list[id=1,key="a"].value.a',
    ],
  ],
  [
    '{"list":[{"key":"a","id":1,"value":{"a":"a"}}]}',
    '{"list":[{"key":"a","id":1,"value":{"a":"b"}}]}',
    [],
    ['.list[id=1,key="a"].value.a'],
    [],
  ],
]

const paths = (s: ReturnType<typeof compare>['added']) => s.paths().map(pathString).sort()

t.test('compare follows structured-merge-diff', async (t) => {
  for (const [lhs, rhs, removed, modified, added] of vectors) {
    const c = compare(JSON.parse(lhs), JSON.parse(rhs), schema)
    t.same([paths(c.removed), paths(c.modified), paths(c.added)], [removed.sort(), modified.sort(), added.sort()], `${lhs} → ${rhs}`)
  }
})

t.test('the field set of a value', async (t) => {
  const fs = (v: unknown) => toFieldSet(v, schema, true).paths().map(pathString)
  t.same(fs({ key: 'x', inner: { a: 'b' }, innerList: ['q'] }), ['.inner.a', '.innerList', '.key'])
  t.same(fs({ inner: {}, setStr: ['a'] }), ['.inner', '.setStr[="a"]'], 'an empty map is owned itself')
  t.same(fs({ inner: null }), ['.inner'], 'so is a null')
  t.same(fs({ setStr: [] }), [], 'an empty granular list owns nothing')
  t.same(fs({ list: [{ key: 'a', id: 1 }] }), ['.list[id=1,key="a"]', '.list[id=1,key="a"].id', '.list[id=1,key="a"].key'])
  t.same(fs({ value: { deep: { x: 1 } } }), ['.value'], 'an atomic map is one field')
})
