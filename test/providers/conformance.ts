// The shared conformance suite every container provider must pass (one test file per provider
// calls it with a harness). It exercises the ContainerBackend contract the controller relies on:
//   create → agent reachable → stop → start → delete, every step repeated as a no-op;
//   a crash (provider object thrown away) between every step, a fresh object converging;
//   two concurrent ensures for one owner (same object and two objects) → one container;
//   an orphan (owner tag present, resource gone) is listed.
import type { Test } from 'tap'
import { randomBytes, randomUUID } from 'node:crypto'
import { probeAgent, waitForAgent } from '../../src/providers/agent-probe.ts'
import { isProviderError } from '../../src/providers/errors.ts'
import type { ContainerBackend, ContainerSpec } from '../../src/providers/types.ts'

export interface ConformanceHarness {
  /** A fresh provider object over the same backing state (a "restarted controller"). */
  make(): ContainerBackend
  /** Seconds to wait for an agent to answer after start. */
  agentTimeoutSeconds?: number
  /** Called with every spec before use, so a harness can play the part of a template. */
  register?(spec: ContainerSpec): void
  /** What a new token does to a running agent: it is restarted with it, or (enrollment) refused. */
  tokenRotation: 'restarts-agent' | 'refused'
}

export function newSpec(kind: 'GameServer' | 'DevServer' = 'GameServer'): ContainerSpec {
  const ownerUid = randomUUID()
  return {
    identity: { ownerUid, kind, namespace: 'conformance', name: `c-${ownerUid.slice(0, 8)}` },
    resources: { cores: 1, memoryMiB: 256, diskGiB: 2 },
    agent: { token: randomBytes(24).toString('hex') },
  }
}

export function runConformance(t: Test, harness: ConformanceHarness): void {
  const made: ContainerBackend[] = []
  const owners = new Set<string>()
  const fresh = () => {
    const provider = harness.make()
    made.push(provider)
    return provider
  }
  const spec = () => {
    const s = newSpec()
    owners.add(s.identity.ownerUid)
    harness.register?.(s)
    return s
  }
  const agentMs = (harness.agentTimeoutSeconds ?? 60) * 1000

  t.teardown(async () => {
    const cleaner = fresh()
    for (const ownerUid of owners) await cleaner.delete({ ownerUid }).catch(() => undefined)
    for (const p of made) await p.close()
  })

  t.test('lifecycle: each step repeated is a no-op, a fresh provider between steps converges', async (t) => {
    const s = spec()
    const ref = { ownerUid: s.identity.ownerUid }

    // create, twice, the second from a "restarted controller"
    const created = await fresh().ensure(s)
    t.equal(created.state, 'stopped', 'ensure does not start')
    t.equal(created.ownerUid, ref.ownerUid)
    t.same(created.identity, s.identity)
    t.same(created.resources, s.resources)
    const again = await fresh().ensure(s)
    t.equal(again.vmid, created.vmid, 'repeated ensure: same container')
    t.equal((await fresh().list()).filter((c) => c.ownerUid === ref.ownerUid).length, 1)

    // start → agent reachable with the container's token (and only with it)
    const started = await fresh().start(ref)
    t.equal(started.state, 'running')
    await fresh().deliverCredentials({ ...ref, vmid: created.vmid }, s.agent)
    const observed = (await fresh().observe(ref))!
    t.ok(observed.agentUrl, 'agent URL known')
    const status = await waitForAgent(observed.agentUrl!, s.agent.token, agentMs)
    t.equal(status.status, 200, 'agent answers /status')
    t.match(status.body, { provisioningComplete: Boolean, startedAt: String }, 'it is the zlh agent')
    t.equal((await probeAgent(observed.agentUrl!, 'not-the-token-0123456789')).status, 401, 'another token is refused')
    // Repeated start and delivery change nothing: the same agent process keeps running.
    t.equal((await fresh().start(ref)).state, 'running', 'repeated start: still running')
    await fresh().deliverCredentials(ref, s.agent)
    const after = await waitForAgent(observed.agentUrl!, s.agent.token, agentMs)
    t.equal(
      (after.body as { startedAt: string }).startedAt,
      (status.body as { startedAt: string }).startedAt,
      'the agent was not restarted',
    )

    // stop (graceful), twice
    const stopped = await fresh().stop(ref, { timeoutSeconds: 10 })
    t.equal(stopped.state, 'stopped')
    t.equal((await fresh().stop(ref, { timeoutSeconds: 10 })).state, 'stopped', 'repeated stop: still stopped')
    t.notOk((await probeAgent(observed.agentUrl!, s.agent.token, 1000)).ok, 'agent gone after stop')

    // start again from a fresh object
    const restarted = await fresh().start(ref)
    t.equal(restarted.vmid, created.vmid)
    t.ok((await waitForAgent(restarted.agentUrl!, s.agent.token, agentMs)).ok, 'agent back after start')

    // delete, twice
    await fresh().delete({ ...ref, vmid: created.vmid })
    await fresh().delete(ref)
    t.equal(await fresh().observe(ref), undefined, 'gone')
    t.notOk(
      (await fresh().list()).some((c) => c.ownerUid === ref.ownerUid),
      'not listed',
    )
    const err = await fresh()
      .start(ref)
      .catch((e: unknown) => e)
    t.ok(isProviderError(err, 'NotFound'), `start after delete is NotFound (${String(err)})`)
  })

  t.test('token rotation on a running container', async (t) => {
    const s = spec()
    const ref = { ownerUid: s.identity.ownerUid }
    await fresh().ensure(s)
    const c = await fresh().start(ref)
    await fresh().deliverCredentials(ref, s.agent)
    t.ok((await waitForAgent(c.agentUrl!, s.agent.token, agentMs)).ok)
    const rotated = { ...s.agent, token: randomBytes(24).toString('hex') }
    if (harness.tokenRotation === 'restarts-agent') {
      await fresh().deliverCredentials(ref, rotated)
      t.ok((await waitForAgent(c.agentUrl!, rotated.token, agentMs)).ok, 'the agent answers the new token')
      t.equal((await probeAgent(c.agentUrl!, s.agent.token)).status, 401, 'the old token is refused')
    } else {
      const err = await fresh()
        .deliverCredentials(ref, rotated)
        .catch((e: unknown) => e)
      t.ok(isProviderError(err, 'Conflict'), `an enrolled agent keeps its token (${String(err)})`)
      t.notMatch(String(err), rotated.token, 'the token is not in the error')
    }
    await fresh().delete(ref)
  })

  t.test('operations on one container are serialized in call order', async (t) => {
    const s = spec()
    const ref = { ownerUid: s.identity.ownerUid }
    const p = fresh()
    await p.ensure(s)
    const states = await Promise.all([
      p.start(ref),
      p.stop(ref, { timeoutSeconds: 10 }),
      p.start(ref),
      p.stop(ref, { timeoutSeconds: 10 }),
      p.start(ref),
    ])
    t.same(
      states.map((c) => c.state),
      ['running', 'stopped', 'running', 'stopped', 'running'],
      'each call saw the effect of the one before',
    )
    t.equal((await fresh().observe(ref))!.state, 'running', 'the last call wins')
    await fresh().delete(ref)
  })

  t.test('two concurrent ensures for one owner make one container', async (t) => {
    const s = spec()
    const p1 = fresh()
    const [a, b] = await Promise.all([p1.ensure(s), p1.ensure(s)])
    t.equal(a.vmid, b.vmid, 'same provider object')
    const s2 = spec()
    const [c, d] = await Promise.all([fresh().ensure(s2), fresh().ensure(s2)])
    t.equal(c.vmid, d.vmid, 'two provider objects (two controllers)')
    const listed = await fresh().list()
    t.equal(listed.filter((x) => x.ownerUid === s.identity.ownerUid).length, 1)
    t.equal(listed.filter((x) => x.ownerUid === s2.identity.ownerUid).length, 1)
    t.not(a.vmid, c.vmid, 'different owners get different containers')
    await fresh().delete({ ownerUid: s.identity.ownerUid })
    await fresh().delete({ ownerUid: s2.identity.ownerUid })
  })

  t.test('an orphan (owner tag present, resource gone) is listed; a foreign vmid is not touched', async (t) => {
    const live = spec()
    const orphan = spec()
    await fresh().ensure(live)
    const orphaned = await fresh().ensure(orphan)
    // The controller's view: only `live` still exists as a resource.
    const liveUids = new Set([live.identity.ownerUid])
    const orphans = (await fresh().list()).filter((c) => owners.has(c.ownerUid) && !liveUids.has(c.ownerUid))
    t.same(
      orphans.map((c) => [c.ownerUid, c.vmid]),
      [[orphan.identity.ownerUid, orphaned.vmid]],
    )
    const err = await fresh()
      .delete({ ownerUid: live.identity.ownerUid, vmid: orphaned.vmid })
      .catch((e: unknown) => e)
    t.ok(isProviderError(err, 'Conflict'), `deleting another owner's vmid is a Conflict (${String(err)})`)
    t.ok(await fresh().observe({ ownerUid: orphan.identity.ownerUid }), 'the orphan is still there')
    await fresh().delete({ ownerUid: orphan.identity.ownerUid })
    await fresh().delete({ ownerUid: live.identity.ownerUid })
    t.notOk(
      (await fresh().list()).some((c) => owners.has(c.ownerUid)),
      'nothing of ours left',
    )
  })
}
