// POST /api/{game,dev} creates only: a taken name is 409 ZLH_GW_API_ALREADY_EXISTS (never a
// field-manager conflict, never a merge into the existing server), race-free under concurrent
// creates; the portal's later PUTs of a server it created do not conflict with its own create.
import t from 'tap'
import { DEVSERVER, GAMESERVER } from '../../../src/api/index.ts'
import { PatchType } from '../../../src/runtime/index.ts'
import { gameSpec, NS, startPortal } from './portal-env.ts'

t.test('create-only POST', async (t) => {
  const p = await startPortal(t)
  const w = await p.token('servers:read', 'servers:write')

  await t.test('a name kubectl created answers "already exists", and the server is left as it was', async (t) => {
    await p.env.client.create(
      {
        apiVersion: 'zerolaghub.dev/v1alpha1',
        kind: 'GameServer',
        metadata: { name: 'taken', namespace: NS },
        spec: gameSpec({ resources: { cores: 2 } }),
      },
      { fieldManager: 'kubectl-create' },
    )
    const dup = await p.api('/api/game', { method: 'POST', token: w, json: { name: 'taken', spec: gameSpec({ resources: { cores: 4 } }) } })
    t.equal(dup.status, 409)
    t.equal(dup.json.code, 'ZLH_GW_API_ALREADY_EXISTS')
    t.match(dup.json.message, /: gameserver "taken" already exists$/)
    t.notOk(dup.json.conflicts, 'no field-manager conflict list')
    const obj = await p.env.client.get<{ spec: { resources: { cores: number } }; metadata: { managedFields: Array<{ manager: string }> } }>(
      GAMESERVER,
      'taken',
      NS,
    )
    t.equal(obj.spec.resources.cores, 2, 'nothing was merged into it')
    t.notOk(
      obj.metadata.managedFields.some((m) => m.manager === 'zlh-portal'),
      'the portal owns nothing in it',
    )

    await p.env.client.create({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'DevServer',
      metadata: { name: 'box', namespace: NS },
      spec: { running: true },
    })
    const devDup = await p.api('/api/dev', { method: 'POST', token: w, json: { name: 'box', spec: { running: false } } })
    t.equal(devDup.status, 409)
    t.equal(devDup.json.code, 'ZLH_GW_API_ALREADY_EXISTS')
    t.match(devDup.json.message, /: devserver "box" already exists$/)
    t.equal((await p.env.client.get<{ spec: { running: boolean } }>(DEVSERVER, 'box', NS)).spec.running, true)
  })

  await t.test('concurrent creates of one name: exactly one wins, the others hear "already exists"', async (t) => {
    const tries = await Promise.all(
      [1, 2, 3, 4].map((cores) =>
        p.api('/api/game', { method: 'POST', token: w, json: { name: 'race', spec: gameSpec({ resources: { cores } }) } }),
      ),
    )
    t.same(tries.map((r) => r.status).sort(), [201, 409, 409, 409], tries.map((r) => r.text).join('\n'))
    for (const r of tries.filter((x) => x.status === 409)) t.equal(r.json.code, 'ZLH_GW_API_ALREADY_EXISTS')
    const winner = tries.find((r) => r.status === 201)!
    t.equal(
      (await p.env.client.get<{ spec: { resources: { cores: number } } }>(GAMESERVER, 'race', NS)).spec.resources.cores,
      winner.json.spec.resources.cores,
      "the winner's spec, untouched by the losers",
    )
  })

  await t.test('a server the portal created is changed by PUT without conflicting with itself; others still conflict', async (t) => {
    const made = await p.api('/api/game', { method: 'POST', token: w, json: { name: 'mine', spec: gameSpec() } })
    t.equal(made.status, 201, made.text)
    const changed = await p.api('/api/game/mine', {
      method: 'PUT',
      token: w,
      json: { spec: gameSpec({ resources: { cores: 3 }, running: false }) },
    })
    t.equal(changed.status, 200, changed.text)
    t.equal(changed.json.spec.resources.cores, 3)
    await p.env.client.patch(
      GAMESERVER,
      'mine',
      NS,
      {
        apiVersion: 'zerolaghub.dev/v1alpha1',
        kind: 'GameServer',
        metadata: { name: 'mine', namespace: NS },
        spec: { resources: { cores: 2 } },
      },
      PatchType.apply,
      { fieldManager: 'kubectl', force: true },
    )
    const clash = await p.api('/api/game/mine', { method: 'PUT', token: w, json: { spec: gameSpec({ resources: { cores: 5 } }) } })
    t.equal(clash.status, 409, 'a field kubectl took over still conflicts')
    t.equal(clash.json.code, 'ZLH_GW_API_CONFLICT')
    t.same(
      clash.json.conflicts.map((c: { manager: string }) => c.manager),
      ['kubectl'],
    )
  })
})
