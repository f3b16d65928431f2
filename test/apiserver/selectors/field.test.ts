import t from 'tap'
import { parseFieldSelector, SelectorError } from '../../../src/apiserver/selectors/index.ts'

const allowed = ['metadata.name', 'metadata.namespace']
const fields = { 'metadata.name': 'web-1', 'metadata.namespace': 'default' }

t.test('good field selectors', async (t) => {
  const corpus: Array<[string, string, boolean]> = [
    ['', '', true],
    ['metadata.name=web-1', 'metadata.name=web-1', true],
    ['metadata.name==web-1', 'metadata.name==web-1', true],
    ['metadata.name!=web-1', 'metadata.name!=web-1', false],
    ['metadata.namespace=default,metadata.name=web-2', 'metadata.name=web-2,metadata.namespace=default', false],
    ['metadata.namespace!=kube-system,', 'metadata.namespace!=kube-system', true],
    ['metadata.name=', 'metadata.name=', false],
    ['metadata.name=a\\,b', 'metadata.name=a\\,b', false],
  ]
  for (const [s, canon, m] of corpus) {
    const sel = parseFieldSelector(s, allowed)
    t.equal(sel.toString(), canon, `canonical form of ${JSON.stringify(s)}`)
    t.equal(sel.matches(fields), m, `${JSON.stringify(s)} ${m ? 'matches' : 'does not match'}`)
  }
  t.ok(parseFieldSelector('metadata.name=a\\,b\\=c\\\\d', allowed).matches({ 'metadata.name': 'a,b=c\\d' }), 'escapes')
  t.ok(parseFieldSelector('metadata.name=', allowed).matches({}), 'a missing field is the empty string')
  t.equal(parseFieldSelector('metadata.namespace!=x,metadata.name==y', allowed).requiredValue('metadata.name'), 'y')
  t.equal(parseFieldSelector('metadata.name!=y', allowed).requiredValue('metadata.name'), undefined)
  t.ok(parseFieldSelector('', allowed).empty)
})

t.test('bad field selectors', async (t) => {
  const corpus: Array<[string, RegExp]> = [
    ['spec.x=1', /field label not supported: "spec.x"; this resource supports: metadata.name, metadata.namespace/],
    ['metadata.name', /can't understand 'metadata.name'/],
    ['metadata.name=a=b', /unescaped '='/],
    ['metadata.name=a\\x', /invalid escape sequence/],
    ['metadata.name=a,oops', /can't understand 'oops'/],
  ]
  for (const [s, re] of corpus) {
    try {
      parseFieldSelector(s, allowed)
      t.fail(`${JSON.stringify(s)} was accepted`)
    } catch (e) {
      t.ok(e instanceof SelectorError)
      t.equal((e as SelectorError).kind, 'field')
      t.match((e as Error).message, re, (e as Error).message)
    }
  }
})
