import t from 'tap'
import { parseLabelSelector, labelSelectorFromObject, SelectorError } from '../../../src/apiserver/selectors/index.ts'

const labels = { app: 'web', tier: 'frontend', 'zerolaghub.dev/game': 'minecraft', empty: '', n: '10' }

t.test('good selectors: canonical form and matching', async (t) => {
  // [selector, canonical text, matches `labels`]
  const corpus: Array<[string, string, boolean]> = [
    ['', '', true],
    ['app=web', 'app=web', true],
    ['app==web', 'app==web', true],
    ['app = web', 'app=web', true],
    ['app!=web', 'app!=web', false],
    ['app!=db', 'app!=db', true],
    ['missing!=x', 'missing!=x', true],
    ['missing=x', 'missing=x', false],
    ['app', 'app', true],
    ['missing', 'missing', false],
    ['!missing', '!missing', true],
    ['!app', '!app', false],
    ['! app', '!app', false],
    ['app in (web,db)', 'app in (db,web)', true],
    ['app in(db)', 'app in (db)', false],
    ['app notin (db, cache)', 'app notin (cache,db)', true],
    ['app notin (web)', 'app notin (web)', false],
    ['missing notin (web)', 'missing notin (web)', true],
    ['missing in (web)', 'missing in (web)', false],
    ['tier=frontend,app=web', 'app=web,tier=frontend', true],
    ['tier=frontend,app=db', 'app=db,tier=frontend', false],
    ['zerolaghub.dev/game=minecraft', 'zerolaghub.dev/game=minecraft', true],
    ['empty=', 'empty=', true],
    ['app=', 'app=', false],
    ['empty in (,x)', 'empty in (,x)', true],
    ['empty in (x,)', 'empty in (,x)', true],
    ['n>5', 'n>5', true],
    ['n<5', 'n<5', false],
    ['app>5', 'app>5', false],
    ['a.b_c-D=A.b_c-9', 'a.b_c-D=A.b_c-9', false],
    [`${'k'.repeat(63)}=${'v'.repeat(63)}`, `${'k'.repeat(63)}=${'v'.repeat(63)}`, false],
    ['in=x', 'in=x', false],
    ['app in (web),!missing,tier', 'app in (web),!missing,tier', true],
  ]
  for (const [s, canon, m] of corpus) {
    const sel = parseLabelSelector(s)
    t.equal(sel.toString(), canon, `canonical form of ${JSON.stringify(s)}`)
    t.equal(sel.matches(labels), m, `${JSON.stringify(s)} ${m ? 'matches' : 'does not match'}`)
    t.equal(parseLabelSelector(sel.toString()).toString(), canon, `canonical form of ${JSON.stringify(s)} re-parses`)
  }
  t.ok(parseLabelSelector('').empty)
  t.ok(parseLabelSelector('!a').matches(undefined), 'undefined labels are the empty set')
  t.notOk(parseLabelSelector('a').matches(undefined))
})

t.test('bad selectors throw SelectorError naming the problem', async (t) => {
  const corpus: Array<[string, RegExp]> = [
    ['app=web=db', /found '=', expected: ',' or 'end of string'/],
    ['app in web', /expected: '\('/],
    ['app in (web', /expected: ',', '\)' or identifier|found 'end of string'/],
    ['app in ()', /values set can't be empty/],
    ['app notin ()', /values set can't be empty/],
    ['app in (a b)', /expected: ',' or '\)'/],
    [',app', /found ',', expected: !, identifier/],
    ['app,', /identifier after ','/],
    ['app,,b', /identifier after ','/],
    ['app web', /found 'web', expected: one of/],
    ['!app=web', /found '=', expected: ',' or 'end of string'/],
    ['!', /found 'end of string', expected: identifier/],
    ['app=!web', /found '!', expected: identifier/],
    ['(app)', /found '\(', expected: !, identifier/],
    ['-app=x', /invalid label key "-app"/],
    ['app-=x', /invalid label key/],
    [`${'k'.repeat(64)}=x`, /no more than 63 characters/],
    [`${'p'.repeat(254)}/k=x`, /prefix part must be no more than 253/],
    ['Example.com/k=x', /RFC 1123 subdomain/],
    ['/k=x', /prefix part must be non-empty/],
    ['a/b/c=x', /qualified name/],
    ['example.com/=x', /name part must be non-empty/],
    ['app=-web', /invalid label value "-web"/],
    [`app=${'v'.repeat(64)}`, /no more than 63 characters/],
    ['app in (ok,bad value)', /expected: ',' or '\)'/],
    ['app in (ok,-bad)', /invalid label value "-bad"/],
    ['n>x', /exactly one integer/],
    ['n<', /exactly one integer/],
    ['app<>1', /not an operator|expected/],
    ['app!==x', /found '=', expected: identifier|not an operator/],
  ]
  for (const [s, re] of corpus) {
    try {
      parseLabelSelector(s)
      t.fail(`${JSON.stringify(s)} was accepted`)
    } catch (e) {
      t.ok(e instanceof SelectorError, `${JSON.stringify(s)} throws SelectorError`)
      t.match((e as Error).message, re, `${JSON.stringify(s)}: ${(e as Error).message}`)
      t.equal((e as SelectorError).kind, 'label')
    }
  }
})

t.test('labelSelectorFromObject follows LabelSelectorAsSelector', async (t) => {
  t.notOk(labelSelectorFromObject(null).matches({}), 'null selects nothing')
  t.notOk(labelSelectorFromObject(undefined).matches(labels))
  t.ok(labelSelectorFromObject({}).matches({}), 'empty selects everything')
  const sel = labelSelectorFromObject({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['frontend', 'backend'] },
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'zerolaghub.dev/game', operator: 'Exists' },
      { key: 'legacy', operator: 'DoesNotExist' },
    ],
  })
  t.equal(sel.toString(), 'app=web,env notin (prod),!legacy,tier in (backend,frontend),zerolaghub.dev/game')
  t.ok(sel.matches(labels))
  t.notOk(sel.matches({ ...labels, legacy: 'x' }))
  t.notOk(sel.matches({ ...labels, env: 'prod' }))
  t.notOk(sel.matches({ ...labels, tier: 'db' }))
  const bad: Array<[unknown, RegExp]> = [
    [{ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, /"Equals" is not a valid label selector operator/],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, /matchExpressions\[0\]: .*can't be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, /values set must be empty/],
    [{ matchLabels: { 'bad key': 'x' } }, /matchLabels\["bad key"\]: invalid label key/],
    [{ matchLabels: { a: 'bad value' } }, /invalid label value/],
    [{ matchLabels: { a: 5 } }, /value must be a string/],
  ]
  for (const [obj, re] of bad) {
    t.throws(() => labelSelectorFromObject(obj as never), re, JSON.stringify(obj))
  }
})

t.test('arbitrary input either parses or fails with SelectorError, and canonical forms are stable', async (t) => {
  let seed = 42
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
  const pieces = ['a', 'b', 'app', 'x.io/k', '=', '==', '!=', '!', '(', ')', ',', ' ', 'in', 'notin', '>', '<', '1', '-', 'v', '']
  let parsed = 0
  for (let i = 0; i < 3000; i++) {
    const s = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => pieces[Math.floor(rnd() * pieces.length)]).join('')
    try {
      const sel = parseLabelSelector(s)
      parsed++
      const again = parseLabelSelector(sel.toString())
      if (again.toString() !== sel.toString()) t.fail(`canonical form of ${JSON.stringify(s)} is not stable`)
      if (again.matches({ a: 'v', app: 'b' }) !== sel.matches({ a: 'v', app: 'b' }))
        t.fail(`re-parsed ${JSON.stringify(s)} matches differently`)
    } catch (e) {
      if (!(e instanceof SelectorError)) t.fail(`${JSON.stringify(s)} threw ${String(e)}`)
    }
  }
  t.ok(parsed > 100 && parsed < 3000, `${parsed} of 3000 parsed`)
})
