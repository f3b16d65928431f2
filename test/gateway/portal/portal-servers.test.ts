// Portal API against the real embedded API server: bodies validated with the CRD schemas (errors
// name the field), writes are server-side applies under zlh-portal, a kubectl-managed field makes
// a portal write conflict visibly (409 naming field and manager), the status view, the runtime
// catalog, and the SSE stream of status changes.
import t from 'tap'
import { GAMESERVER, RUNTIMECATALOG } from '../../../src/api/index.ts'
import { PatchType } from '../../../src/runtime/index.ts'
import { gameSpec, NS, readyConditions, startPortal } from './portal-env.ts'

t.test('validation, server-side apply, conflicts, status, catalog, events', async (t) => {
  const p = await startPortal(t)
  const w = await p.token('servers:read', 'servers:write')

  await t.test('bodies are validated against the CRD, errors name the field', async (t) => {
    const bad = await p.api('/api/game/alpha', {
      method: 'PUT',
      token: w,
      json: { spec: gameSpec({ runtime: { name: 'node' }, resources: { cores: 'two' } }), color: 'red' },
    })
    t.equal(bad.status, 400)
    t.equal(bad.json.code, 'ZLH_GW_API_INVALID')
    const fields = bad.json.errors.map((e: { field: string }) => e.field)
    t.ok(fields.includes('color'), 'unknown top-level key named')
    t.ok(fields.includes('spec.resources.cores'), 'wrong type named by path')
    t.ok(
      fields.some((f: string) => f.startsWith('spec.runtime')),
      'version-or-channel rule named',
    )
    const badName = await p.api('/api/game/Not_A_Name', { method: 'PUT', token: w, json: { spec: gameSpec() } })
    t.equal(badName.status, 400)
    t.ok(badName.json.errors.some((e: { field: string }) => e.field === 'metadata.name'))
    const missing = await p.api('/api/game', { method: 'POST', token: w, json: { spec: { game: 'minecraft' } } })
    t.equal(missing.status, 400)
    t.ok(missing.json.errors.some((e: { field: string }) => e.field === 'name'))
    t.equal((await p.env.client.list(GAMESERVER, { namespace: NS })).items.length, 0, 'nothing was written')
  })

  await t.test('writes are server-side applies under zlh-portal', async (t) => {
    const created = await p.api('/api/game/alpha', { method: 'PUT', token: w, json: { spec: gameSpec(), labels: { team: 'blue' } } })
    t.equal(created.status, 201, created.text)
    t.equal(created.json.spec.game, 'minecraft')
    const obj = await p.env.client.get<{ metadata: { managedFields: Array<{ manager: string; operation: string }> } }>(
      GAMESERVER,
      'alpha',
      NS,
    )
    t.same(
      obj.metadata.managedFields.map((m) => [m.manager, m.operation]),
      [['zlh-portal', 'Apply']],
    )
    const again = await p.api('/api/game/alpha', {
      method: 'PUT',
      token: w,
      json: { spec: gameSpec({ running: false }), labels: { team: 'blue' } },
    })
    t.equal(again.status, 200)
    t.equal(again.json.spec.running, false)
    const dup = await p.api('/api/game', { method: 'POST', token: w, json: { name: 'alpha', spec: gameSpec() } })
    t.equal(dup.status, 409, 'POST never overwrites')
    t.equal(dup.json.code, 'ZLH_GW_API_ALREADY_EXISTS')
    t.match(dup.json.message, /: gameserver "alpha" already exists$/)
  })

  await t.test('a field kubectl owns conflicts visibly; force takes it over', async (t) => {
    // kubectl (or GitOps) applies its own opinion of spec.resources.cores.
    await p.env.client.patch(
      GAMESERVER,
      'alpha',
      NS,
      {
        apiVersion: 'zerolaghub.dev/v1alpha1',
        kind: 'GameServer',
        metadata: { name: 'alpha', namespace: NS },
        spec: { resources: { cores: 2 } },
      },
      PatchType.apply,
      { fieldManager: 'kubectl' },
    )
    const coexist = await p.api('/api/game/alpha', {
      method: 'PUT',
      token: w,
      json: { spec: gameSpec({ running: true }), labels: { team: 'blue' } },
    })
    t.equal(coexist.status, 200, 'edits of different fields coexist')
    t.equal(coexist.json.spec.resources.cores, 2, "kubectl's field is kept")
    const clash = await p.api('/api/game/alpha', {
      method: 'PUT',
      token: w,
      json: { spec: gameSpec({ resources: { cores: 4 } }), labels: { team: 'blue' } },
    })
    t.equal(clash.status, 409)
    t.equal(clash.json.code, 'ZLH_GW_API_CONFLICT')
    t.same(
      clash.json.conflicts.map((c: { field: string; manager: string }) => [c.field, c.manager]),
      [['.spec.resources.cores', 'kubectl']],
    )
    t.match(clash.json.message, /spec\.resources\.cores.*kubectl/)
    const forced = await p.api('/api/game/alpha?force=true', {
      method: 'PUT',
      token: w,
      json: { spec: gameSpec({ resources: { cores: 4 } }), labels: { team: 'blue' } },
    })
    t.equal(forced.status, 200)
    t.equal(forced.json.spec.resources.cores, 4)
  })

  await t.test('status view from the resource status', async (t) => {
    await p.setStatus('GameServer', 'alpha', {
      phase: 'Running',
      vmid: 5001,
      address: '10.0.0.5',
      restarts: 2,
      observedGeneration: 99,
      lastCrash: { time: '2026-01-01T00:00:00Z', exitCode: 1, classification: 'nonzero_exit', logTail: ['boom'] },
      conditions: readyConditions(true),
    })
    const st = await p.api('/api/servers/alpha/status', { token: w })
    t.equal(st.status, 200)
    t.match(st.json, {
      name: 'alpha',
      namespace: NS,
      kind: 'GameServer',
      phase: 'Running',
      ready: true,
      vmid: 5001,
      address: '10.0.0.5',
      restarts: 2,
      ide: null,
      upToDate: false,
    })
    t.match(st.json.lastCrash, { exitCode: 1, classification: 'nonzero_exit' })
    t.equal((await p.api('/api/servers/ghost/status', { token: w })).status, 404)

    t.equal((await p.api('/api/dev/box', { method: 'PUT', token: w, json: { spec: { running: true } } })).status, 201)
    await p.setStatus('DevServer', 'box', { phase: 'Starting', vmid: 7001, address: '127.0.0.1', conditions: readyConditions(false) })
    const dev = await p.api('/api/servers/box/status', { token: w })
    t.match(dev.json, { kind: 'DevServer', ready: false, vmid: 7001, ide: { url: `https://dev-7001.zlh.test:${p.svc.gateway.port}/` } })
  })

  await t.test('runtime catalog: versions, verified state, channels', async (t) => {
    const art = (v: string) => [{ arch: 'x64', url: `http://127.0.0.1:1/node-${v}.tgz`, sha256: 'a'.repeat(64) }]
    await p.env.client.create({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'RuntimeCatalog',
      metadata: { name: 'node' },
      spec: {
        versions: [
          { version: '22.0.0', artifacts: art('22') },
          { version: '24.0.0', artifacts: art('24') },
        ],
        channels: { stable: '22.0.0', beta: '24.0.0' },
      },
    })
    await p.env.client.patch(
      RUNTIMECATALOG,
      'node',
      undefined,
      {
        status: {
          versions: [
            { version: '22.0.0', verified: true, sha256: 'a'.repeat(64), checkedAt: '2026-01-01T00:00:00Z' },
            { version: '24.0.0', verified: false, message: 'sha256 mismatch' },
          ],
        },
      },
      PatchType.merge,
      { subresource: 'status' },
    )
    const cat = await p.api('/api/runtimes', { token: w })
    t.equal(cat.status, 200)
    t.same(
      cat.json.runtimes.map((r: { name: string }) => r.name),
      ['node'],
    )
    const node = cat.json.runtimes[0]
    t.same(node.channels, { stable: '22.0.0', beta: '24.0.0' })
    t.match(node.versions, [
      { version: '22.0.0', verified: true, channels: ['stable'], arches: ['x64'] },
      { version: '24.0.0', verified: false, message: 'sha256 mismatch', channels: ['beta'] },
    ])
  })

  await t.test('SSE stream: snapshot, then a status change', async (t) => {
    const ac = new AbortController()
    const res = await fetch(`${p.svc.gateway.url}/api/events`, { headers: { authorization: `Bearer ${w}` }, signal: ac.signal })
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type'), /^text\/event-stream/)
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buf = ''
    const nextEvent = async (): Promise<{ event: string; data: any }> => {
      for (;;) {
        const end = buf.indexOf('\n\n')
        if (end !== -1) {
          const block = buf.slice(0, end)
          buf = buf.slice(end + 2)
          const event = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (event && data) return { event, data: JSON.parse(data) }
          continue
        }
        const { value, done } = await reader.read()
        if (done) throw new Error('stream ended')
        buf += value
      }
    }
    const snap = await nextEvent()
    t.equal(snap.event, 'snapshot')
    t.same(snap.data.items.map((i: { name: string }) => i.name).sort(), ['alpha', 'box'])
    await p.setStatus('DevServer', 'box', { phase: 'Running', conditions: readyConditions(true) })
    let ev = await nextEvent()
    while (!(ev.event === 'status' && ev.data.server.name === 'box' && ev.data.server.ready)) ev = await nextEvent()
    t.match(ev.data, { type: 'updated', server: { name: 'box', phase: 'Running', ready: true } })
    ac.abort()
    await reader.cancel().catch(() => {})
    const until = Date.now() + 10_000
    while (p.svc.portal.openEventStreams > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    t.equal(p.svc.portal.openEventStreams, 0, 'the stream is released when the client goes')
  })

  await t.test('delete', async (t) => {
    t.equal((await p.api('/api/game/alpha', { method: 'DELETE', token: w })).status, 202)
    t.equal((await p.api('/api/game/alpha', { method: 'DELETE', token: w })).status, 404)
  })
})
