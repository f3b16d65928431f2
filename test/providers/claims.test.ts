// ClaimStore: one vmid per owner and one owner per vmid under concurrency, and the crash window
// (vmid reserved, claim not yet published) repaired by the next claim.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClaimStore } from '../../src/providers/claims.ts'

const identity = (ownerUid: string) => ({ ownerUid, kind: 'GameServer' as const, namespace: 'ns', name: ownerUid })

t.test('concurrent claims from separate stores: distinct vmids, one per owner', async (t) => {
  const dir = t.testdir()
  const owners = Array.from({ length: 12 }, (_, i) => `owner-${i}`)
  const claims = await Promise.all([...owners, ...owners].map((o) => new ClaimStore(dir, 100, 200).claim(identity(o))))
  const byOwner = new Map<string, number>()
  for (const c of claims) {
    if (byOwner.has(c.ownerUid)) t.equal(c.vmid, byOwner.get(c.ownerUid), `${c.ownerUid} got one vmid`)
    byOwner.set(c.ownerUid, c.vmid)
  }
  t.equal(new Set(byOwner.values()).size, owners.length, 'no vmid shared by two owners')
  t.equal((await new ClaimStore(dir, 100, 200).list()).length, owners.length)
})

t.test('a reservation leaked by a crash is adopted by the same owner; release frees the vmid', async (t) => {
  const dir = t.testdir()
  const store = new ClaimStore(dir, 100, 101)
  await store.claim(identity('a'))
  writeFileSync(join(dir, 'vmids', '101'), 'b') // crashed after reserving, before publishing
  const b = await new ClaimStore(dir, 100, 101).claim(identity('b'))
  t.equal(b.vmid, 101)
  await t.rejects(store.claim(identity('c')), { code: 'Exhausted' })
  await store.release('a')
  t.equal((await store.claim(identity('c'))).vmid, 100)
})
