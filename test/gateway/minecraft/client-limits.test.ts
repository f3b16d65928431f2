// ClientLimits (src/gateway/minecraft/client-limits.ts): connections per client, counted by IPv4
// address and by IPv6 /64, released when each socket closes.
import t from 'tap'
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { ClientLimits, clientKey } from '../../../src/gateway/minecraft/client-limits.ts'

const fakeSocket = (remoteAddress: string) => Object.assign(new EventEmitter(), { remoteAddress, destroyed: false }) as unknown as Socket

t.test('what one client is', async (t) => {
  t.equal(clientKey('203.0.113.7'), '203.0.113.7')
  t.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7', 'IPv4-mapped counts as its IPv4 address')
  t.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
  t.equal(clientKey('2001:0db8:0001:0002:ffff::1'), '2001:db8:1:2::/64', 'leading zeros and :: do not make another client')
  t.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64', ':: inside the network part')
  t.equal(clientKey('::1'), '0:0:0:0::/64')
  t.equal(clientKey('fe80::1%eth0'), 'fe80:0:0:0::/64', 'a zone id is ignored')
  t.equal(clientKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64', 'an embedded IPv4 tail')
  t.equal(clientKey(undefined), '?')
})

t.test('a /64 shares one budget; closing a socket frees its slot', async (t) => {
  const limits = new ClientLimits(2)
  const a = fakeSocket('2001:db8:1:2::a')
  t.ok(limits.admit(a))
  t.ok(limits.admit(fakeSocket('2001:db8:1:2::b')))
  t.notOk(limits.admit(fakeSocket('2001:db8:1:2:ffff:ffff:ffff:ffff')), 'a third address of the same /64 is refused')
  t.ok(limits.admit(fakeSocket('2001:db8:1:3::a')), 'the next /64 is another client')
  ;(a as unknown as EventEmitter).emit('close')
  t.ok(limits.admit(fakeSocket('2001:db8:1:2::c')), 'a closed socket frees its slot')
  t.equal(limits.clients, 2)
})
