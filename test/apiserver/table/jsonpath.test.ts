import t from 'tap'
import {
  evaluateJsonPath,
  isValidColumnPath,
  columnPathError,
  parseJsonPath,
  JsonPathError,
  humanDuration,
  ageOf,
} from '../../../src/apiserver/table/index.ts'

const obj = {
  metadata: { name: 'mc', labels: { 'app.kubernetes.io/name': 'web', '~weird^': 'x' } },
  spec: {
    ports: [
      { name: 'game', port: 25565 },
      { name: 'rcon', port: 25575 },
    ],
  },
  status: {
    conditions: [
      { type: 'Provisioned', status: 'True', n: 1 },
      { type: 'Ready', status: 'False', n: 5 },
    ],
    list: [1, 2, 3, 4, 5],
    phase: 'Running',
  },
}

t.test('kubectl JSONPath forms', async (t) => {
  const cases: Array<[string, unknown[]]> = [
    ['.status.phase', ['Running']],
    ['{.status.phase}', ['Running']],
    ['$.status.phase', ['Running']],
    ['.status.missing', []],
    ['.status.phase.deeper', []],
    ['.status.list[0]', [1]],
    ['.status.list[-1]', [5]],
    ['.status.list[9]', []],
    ['.status.list[1:3]', [2, 3]],
    ['.status.list[::2]', [1, 3, 5]],
    ['.status.list[-2:]', [4, 5]],
    ['.status.list[0,2]', [1, 3]],
    ['.spec.ports[*].port', [25565, 25575]],
    ['.spec.ports.*.name', ['game', 'rcon']],
    ['.status.conditions[?(@.type=="Ready")].status', ['False']],
    [".status.conditions[?(@.type=='Ready')].status", ['False']],
    ['.status.conditions[?(@.type!="Ready")].type', ['Provisioned']],
    ['.status.conditions[?(@.n>2)].type', ['Ready']],
    ['.status.conditions[?(@.n<=1)].type', ['Provisioned']],
    ['.status.conditions[?(@.n=="1")].type', []],
    ['.status.conditions[?(@.type=="Nope")].status', []],
    ['.status.conditions[?(@.n)].type', ['Provisioned', 'Ready']],
    [".metadata.labels['app.kubernetes.io/name']", ['web']],
    ['.metadata.labels.app\\.kubernetes\\.io/name', ['web']],
    [".metadata.labels['~weird^']", ['x']],
    [".metadata['name','labels'].app\\.kubernetes\\.io/name", ['web']],
    ['..port', [25565, 25575]],
    ['.', [obj]],
  ]
  for (const [path, want] of cases) t.same(evaluateJsonPath(obj, path), want, path)
})

t.test('column path validation', async (t) => {
  for (const good of ['.status.phase', '.status.conditions[?(@.type=="Ready")].status', '.spec.a[0].b', '.metadata.creationTimestamp']) {
    t.ok(isValidColumnPath(good), good)
  }
  const bad: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['status.phase', /starting with \./],
    ['.status[', /unclosed '\['/],
    ['.status[abc]', /must hold an index/],
    ['.status[?(@.a==bare)]', /must be a quoted string/],
    ['.status[?(x)]', /must start with @/],
    ['.a[1:2:3:4]', /invalid slice/],
    [".a['unterminated]", /unterminated quote|unclosed/],
  ]
  for (const [path, re] of bad) {
    t.notOk(isValidColumnPath(path), `${JSON.stringify(path)} rejected`)
    let why = columnPathError(path)
    if (why === undefined) {
      // apiextensions accepts any path starting with "."; parse problems show in the JSONPath error.
      try {
        parseJsonPath(path)
      } catch (e) {
        why = (e as Error).message
      }
    }
    t.match(why, re, `${JSON.stringify(path)}: ${why}`)
  }
  t.equal(columnPathError('.status['), undefined, 'apiextensions accepts it (as kube-apiserver does)')
})

t.test('human durations as apimachinery prints them', async (t) => {
  const s = 1000
  const m = 60 * s
  const h = 60 * m
  const d = 24 * h
  const cases: Array<[number, string]> = [
    [-5 * s, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [59 * s, '59s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [5 * m + 30 * s, '5m30s'],
    [10 * m + 30 * s, '10m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [7 * h + 59 * m, '7h59m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [2 * d, '2d'],
    [3 * d + 4 * h, '3d4h'],
    [8 * d, '8d'],
    [400 * d, '400d'],
    [730 * d, '2y'],
    [800 * d, '2y70d'],
    [9 * 365 * d, '9y'],
  ]
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, `${ms} ms`)
  const now = new Date('2026-01-01T00:10:00Z')
  t.equal(ageOf('2026-01-01T00:05:00Z', now), '5m')
  t.equal(ageOf('2026-01-01T00:05:00.123456Z', now), '4m59s')
  t.equal(ageOf('2026-01-01T01:05:00+01:00', now), '5m')
  t.equal(ageOf('', now), '<unknown>')
  t.equal(ageOf(null, now), '<unknown>')
  t.equal(ageOf('yesterday', now), '<invalid>')
})

t.test('arbitrary paths either parse or fail with JsonPathError', async (t) => {
  let seed = 7
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
  const pieces = [
    '.',
    '..',
    'status',
    'a',
    '[',
    ']',
    '0',
    '-1',
    ':',
    '*',
    '?(',
    '@',
    '.type',
    '==',
    '"R"',
    "'x'",
    ')',
    ',',
    '\\.',
    '{',
    '}',
    '$',
  ]
  let parsed = 0
  for (let i = 0; i < 3000; i++) {
    const p = Array.from({ length: 1 + Math.floor(rnd() * 7) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('')
    try {
      evaluateJsonPath(obj, p)
      parsed++
    } catch (e) {
      if (!(e instanceof JsonPathError)) t.fail(`${JSON.stringify(p)} threw ${String(e)}`)
    }
  }
  t.ok(parsed > 100, `${parsed} of 3000 parsed and evaluated`)
})
