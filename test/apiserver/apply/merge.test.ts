// List merge order and duplicate handling, checked against structured-merge-diff's published
// expectations (lhs = live, rhs = apply configuration, out = merged).
import t from 'tap'
import { merge } from '../../../src/apiserver/apply/walk.ts'
import type { JSONSchemaProps } from '../../../src/apiserver/schema/index.ts'

const set = (type: 'string' | 'boolean' | 'number'): JSONSchemaProps => ({
  type: 'array',
  'x-kubernetes-list-type': 'set',
  items: { type },
})
const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
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
          bv: { type: 'boolean' },
          nv: { type: 'number' },
        },
      },
    },
    atomicList: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'string' } },
  },
}

const vectors: Array<[string, string, string]> = [
  ['{"numeric":1}', '{"numeric":3.14159}', '{"numeric":3.14159}'],
  ['{"string":"aoeu"}', '{"bool":true}', '{"string":"aoeu","bool":true}'],
  ['{"setStr":["a","b","c"]}', '{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}'],
  ['{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}', '{"setStr":["a","b","c"]}'],
  ['{"setStr":["a","b","c"]}', '{"setStr":[]}', '{"setStr":["a","b","c"]}'],
  ['{"setStr":[]}', '{"setStr":["a","b","c"]}', '{"setStr":["a","b","c"]}'],
  ['{"setStr":["a","b"]}', '{"setStr":["b","a"]}', '{"setStr":["b","a"]}'],
  ['{"setStr":["a","b","c"]}', '{"setStr":["d","e","f"]}', '{"setStr":["a","b","c","d","e","f"]}'],
  ['{"setStr":["a","b","c"]}', '{"setStr":["c","d","e","f"]}', '{"setStr":["a","b","c","d","e","f"]}'],
  ['{"setStr":["a","b","c","g","f"]}', '{"setStr":["c","d","e","f"]}', '{"setStr":["a","b","c","g","d","e","f"]}'],
  ['{"setStr":["a","b","c"]}', '{"setStr":["d","e","f","x","y","z"]}', '{"setStr":["a","b","c","d","e","f","x","y","z"]}'],
  ['{"setStr":["c","d","e","f"]}', '{"setStr":["a","c","e"]}', '{"setStr":["a","c","d","e","f"]}'],
  ['{"setStr":["a","b","c","x","y","z"]}', '{"setStr":["d","e","f"]}', '{"setStr":["a","b","c","x","y","z","d","e","f"]}'],
  ['{"setStr":["a","b","c","x","y","z"]}', '{"setStr":["d","e","f","x","y","z"]}', '{"setStr":["a","b","c","d","e","f","x","y","z"]}'],
  ['{"setStr":["c","a","g","f"]}', '{"setStr":["c","f","a","g"]}', '{"setStr":["c","f","a","g"]}'],
  ['{"setStr":["a","b","c","d"]}', '{"setStr":["d","e","f","a"]}', '{"setStr":["b","c","d","e","f","a"]}'],
  [
    '{"setStr":["c","d","e","f","g","h","i","j"]}',
    '{"setStr":["2","h","3","e","4","k","l"]}',
    '{"setStr":["c","d","f","g","2","h","i","j","3","e","4","k","l"]}',
  ],
  [
    '{"setStr":["a","b","c","d","e","f","g","h","i","j"]}',
    '{"setStr":["1","b","2","h","3","e","4","k","l"]}',
    '{"setStr":["a","1","b","c","d","f","g","2","h","i","j","3","e","4","k","l"]}',
  ],
  ['{"setStr":["a","b","b"]}', '{"setStr":["c"]}', '{"setStr":["a","b","b","c"]}'],
  ['{"setStr":["a","b","b"]}', '{"setStr":["b"]}', '{"setStr":["a","b"]}'],
  ['{"setStr":["a","b","b"]}', '{"setStr":["a"]}', '{"setStr":["a","b","b"]}'],
  ['{"setStr":["a","b","c","d","e","c"]}', '{"setStr":["1","b","2","e","d"]}', '{"setStr":["a","1","b","c","2","e","c","d"]}'],
  ['{"setStr":["a","b","c","d","e","c"]}', '{"setStr":["1","b","2","c","e","d"]}', '{"setStr":["a","1","b","2","c","e","d"]}'],
  ['{"setStr":["a","a","b","b"]}', '{"setStr":["b","c","d"]}', '{"setStr":["a","a","b","c","d"]}'],
  ['{"setStr":["a","a","b","b"]}', '{"setStr":[]}', '{"setStr":["a","a","b","b"]}'],
  ['{"setBool":[true]}', '{"setBool":[false]}', '{"setBool":[true,false]}'],
  ['{"setNumeric":[1,2,3.14159]}', '{"setNumeric":[1,2,3]}', '{"setNumeric":[1,2,3.14159,3]}'],
  ['{"setStr":["c","a","g","f","c","a"]}', '{"setStr":["c","f","a","g"]}', '{"setStr":["c","f","a","g"]}'],
  ['{"setNumeric":[1,2,3.14159,1,2]}', '{"setNumeric":[1,2,3]}', '{"setNumeric":[1,2,3.14159,3]}'],
  ['{"setBool":[true,false,true]}', '{"setBool":[false]}', '{"setBool":[true,false,true]}'],
  ['{"setBool":[true,false,true]}', '{"setBool":[true]}', '{"setBool":[true,false]}'],
  [
    '{"list":[{"key":"a","id":1,"value":{"a":"a"}}]}',
    '{"list":[{"key":"a","id":2,"value":{"a":"a"}}]}',
    '{"list":[{"key":"a","id":1,"value":{"a":"a"}},{"key":"a","id":2,"value":{"a":"a"}}]}',
  ],
  [
    '{"list":[{"key":"a","id":1},{"key":"b","id":1}]}',
    '{"list":[{"key":"a","id":1},{"key":"a","id":2}]}',
    '{"list":[{"key":"a","id":1},{"key":"b","id":1},{"key":"a","id":2}]}',
  ],
  [
    '{"list":[{"key":"b","id":2}]}',
    '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
    '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
  ],
  [
    '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
    '{"list":[{"key":"c","id":3},{"key":"b","id":2}]}',
    '{"list":[{"key":"a","id":1},{"key":"c","id":3},{"key":"b","id":2}]}',
  ],
  [
    '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}',
    '{"list":[{"key":"c","id":3},{"key":"a","id":1}]}',
    '{"list":[{"key":"b","id":2},{"key":"c","id":3},{"key":"a","id":1}]}',
  ],
  ['{"atomicList":["a","a","a"]}', '{"atomicList":null}', '{"atomicList":null}'],
  ['{"atomicList":["a","b","c"]}', '{"atomicList":[]}', '{"atomicList":[]}'],
  ['{"atomicList":["a","a","a"]}', '{"atomicList":["a","a"]}', '{"atomicList":["a","a"]}'],
  [
    '{"list":[{"key":"a","id":1,"bv":true},{"key":"b","id":2},{"key":"a","id":1,"bv":false,"nv":2}]}',
    '{"list":[{"key":"a","id":1,"nv":3},{"key":"c","id":3},{"key":"b","id":2}]}',
    '{"list":[{"key":"a","id":1,"nv":3},{"key":"c","id":3},{"key":"b","id":2}]}',
  ],
  [
    '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}',
    '{"list":[]}',
    '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}',
  ],
  [
    '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}',
    '{}',
    '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}',
  ],
  [
    '{"list":[{"key":"a","id":1,"value":{"x":"1"}}]}',
    '{"list":[{"key":"a","id":1,"value":{"y":"2"}}]}',
    '{"list":[{"key":"a","id":1,"value":{"x":"1","y":"2"}}]}',
  ],
]

t.test('merge follows structured-merge-diff', async (t) => {
  for (const [lhs, rhs, out] of vectors) {
    t.same(merge(JSON.parse(lhs), JSON.parse(rhs), schema), JSON.parse(out), `${lhs} + ${rhs}`)
  }
})
