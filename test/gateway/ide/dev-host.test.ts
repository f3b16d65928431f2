import t from 'tap'
import { DevHostMatcher } from '../../../src/gateway/index.ts'

const m = new DevHostMatcher('ide.example.com')

t.test('accepts dev-<vmid>.<suffix> with an optional port, case-insensitively', async (t) => {
  t.same(m.match('dev-101.ide.example.com'), { vmid: 101, authority: 'dev-101.ide.example.com' })
  t.same(m.match('DEV-7.IDE.Example.com:8443'), { vmid: 7, authority: 'dev-7.ide.example.com:8443' })
  t.same(m.match('dev-9999999999.ide.example.com'), { vmid: 9999999999, authority: 'dev-9999999999.ide.example.com' })
})

t.test('refuses everything else', async (t) => {
  for (const h of [
    undefined,
    '',
    'dev-.ide.example.com',
    'dev-0.ide.example.com',
    'dev-012.ide.example.com',
    'dev-12a.ide.example.com',
    'dev-+12.ide.example.com',
    'dev-12.ide.example.com.evil',
    'dev-12.evil.com',
    'xdev-12.ide.example.com',
    'dev-12.xide.example.com',
    'dev-12.ide.example.com:',
    'dev-12.ide.example.com:123456',
    'dev-12.ide.example.com:80a',
    'a.dev-12.ide.example.com',
    'dev-12345678901.ide.example.com',
    'dev-12.sub.ide.example.com',
    '[::1]:80',
  ]) {
    t.equal(m.match(h), undefined, String(h))
  }
})

t.test('knows which hosts are under the suffix', async (t) => {
  t.ok(m.isUnderSuffix('x.ide.example.com'))
  t.ok(m.isUnderSuffix('ide.example.com:443'))
  t.notOk(m.isUnderSuffix('portal.example.com'))
  t.notOk(m.isUnderSuffix('evilide.example.com'))
  t.equal(m.hostFor(5), 'dev-5.ide.example.com')
  t.throws(() => m.hostFor(0))
  t.throws(() => new DevHostMatcher('bad suffix'), /invalid IDE suffix/)
})
