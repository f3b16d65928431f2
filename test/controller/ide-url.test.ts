// status.ide of a DevServer: host from the suffix, the URL with the gateway's public port unless
// it is https's own, and the upstream from the container (its own code-server address, else
// address:6000, bracketed for IPv6).
import t from 'tap'
import { ideOf } from '../../controller/devserver.ts'

t.test('IDE host, URL and upstream', async (t) => {
  const c = { vmid: 7, address: '10.0.0.5' }
  t.same(ideOf(c, 'ide.example.com'), { host: 'dev-7.ide.example.com', url: 'https://dev-7.ide.example.com/', upstream: '10.0.0.5:6000' })
  t.same(ideOf(c, 'ide.example.com', 443).url, 'https://dev-7.ide.example.com/', '443 is implied by https')
  t.same(
    ideOf(c, 'localhost', 8443),
    { host: 'dev-7.localhost', url: 'https://dev-7.localhost:8443/', upstream: '10.0.0.5:6000' },
    'another public port is part of the URL, not of the host',
  )
  t.same(ideOf({ vmid: 8, address: 'fd00::8' }, 'x.test').upstream, '[fd00::8]:6000')
  t.same(
    ideOf({ vmid: 9, address: '127.0.0.1', codeServerAddress: '127.0.0.1:23456' }, 'x.test').upstream,
    '127.0.0.1:23456',
    "the provider's own code-server address wins",
  )
  t.same(ideOf({ vmid: 10 }, 'x.test'), { host: 'dev-10.x.test', url: 'https://dev-10.x.test/' }, 'no address yet: no upstream')
})
