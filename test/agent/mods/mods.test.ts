import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { startTestAgent } from '../helpers.ts'
import { sha256, startArtifactServer } from '../artifacts.ts'
import type { GameInfo, ModsListing } from '../../../src/api/agent-game-types.ts'

t.test('mods: hash-checked install, restart-aware changes, desired lists', async (t) => {
  const artifacts = await startArtifactServer()
  t.teardown(() => artifacts.close())
  const essentials = Buffer.from('ESSENTIALS-JAR-'.repeat(1000))
  const worldedit = Buffer.from('WORLDEDIT-JAR-'.repeat(800))
  const worldedit2 = Buffer.from('WORLDEDIT-JAR-v2-'.repeat(800))
  artifacts.add('essentials.jar', essentials)
  artifacts.add('worldedit.jar', worldedit)
  artifacts.add('worldedit-2.jar', worldedit2)
  const agent = await startTestAgent(t.testdir())
  t.teardown(async () => {
    await agent.request('/game/stop', { method: 'POST' })
    await agent.close()
  })
  const mods = path.join(agent.ctx.paths.game, 'mods')
  const json = async <T>(p: string, init?: RequestInit & { json?: unknown }): Promise<T> =>
    (await (await agent.request(p, init)).json()) as T

  // Stopped game: applied at once.
  let listing = await json<ModsListing>('/mods/essentials.jar', {
    method: 'PUT',
    json: { outbound: artifacts.outbound, url: artifacts.url('essentials.jar'), sha256: sha256(essentials) },
  })
  t.same(
    listing.mods.map((m) => `${m.name}:${m.state}`),
    ['essentials.jar:present'],
  )
  t.equal(listing.restartPending, false)
  t.same(readFileSync(path.join(mods, 'essentials.jar')), essentials)

  // A wrong hash: refused, nothing placed.
  const bad = await agent.request('/mods/evil.jar', {
    method: 'PUT',
    json: { outbound: artifacts.outbound, url: artifacts.url('worldedit.jar'), sha256: sha256(Buffer.from('something else')) },
  })
  t.equal(bad.status, 422)
  t.equal(((await bad.json()) as { code: string }).code, 'ARTIFACT_SHA256_MISMATCH')
  t.notOk(existsSync(path.join(mods, 'evil.jar')))
  const badName = await agent.request('/mods/..%2Fescape.jar', {
    method: 'PUT',
    json: { outbound: artifacts.outbound, url: artifacts.url('worldedit.jar'), sha256: sha256(worldedit) },
  })
  t.equal(badName.status, 400, 'a mod name is a plain file name')

  // Running game: changes wait for the restart.
  await agent.request('/game', {
    method: 'PUT',
    json: {
      server: { command: ['/bin/sh', '-c', 'ls mods; while read l; do :; done'], stopCommand: 'x', gracePeriodSeconds: 1 },
      running: true,
    },
  })
  listing = await json<ModsListing>('/mods/worldedit.jar', {
    method: 'PUT',
    json: { outbound: artifacts.outbound, url: artifacts.url('worldedit.jar'), sha256: sha256(worldedit) },
  })
  t.same(
    listing.mods.map((m) => `${m.name}:${m.state}`),
    ['essentials.jar:present', 'worldedit.jar:pendingInstall'],
  )
  t.equal(listing.restartPending, true)
  t.notOk(existsSync(path.join(mods, 'worldedit.jar')), 'not placed under a running server')
  listing = await json<ModsListing>('/mods/essentials.jar', { method: 'DELETE' })
  t.same(
    listing.mods.map((m) => `${m.name}:${m.state}`),
    ['essentials.jar:pendingRemoval', 'worldedit.jar:pendingInstall'],
  )
  let game = await json<GameInfo>('/game')
  t.equal(game.restartPending, true, 'the game status says a restart is pending')
  game = await json<GameInfo>('/game/restart', { method: 'POST' })
  t.equal(game.state, 'Running')
  t.equal(game.restartPending, false)
  t.notOk(existsSync(path.join(mods, 'essentials.jar')), 'removed at the restart')
  t.same(readFileSync(path.join(mods, 'worldedit.jar')), worldedit, 'installed at the restart')

  // ?restart=true applies now; a desired list removes managed mods not in it and leaves hand-placed files.
  mkdirSync(mods, { recursive: true })
  writeFileSync(path.join(mods, 'handmade.jar'), 'mine')
  listing = await json<ModsListing>('/mods?restart=true', {
    method: 'PUT',
    json: {
      outbound: artifacts.outbound,
      mods: [{ name: 'worldedit.jar', url: artifacts.url('worldedit-2.jar'), sha256: sha256(worldedit2) }],
    },
  })
  t.same(
    listing.mods.map((m) => `${m.name}:${m.state}:${m.managed}`),
    ['handmade.jar:present:false', 'worldedit.jar:present:true'],
  )
  t.same(readFileSync(path.join(mods, 'worldedit.jar')), worldedit2, 'replaced by the new version, applied by the restart')
  const one = await json<{ sha256: string }>('/mods/worldedit.jar')
  t.equal(one.sha256, sha256(worldedit2))
  const missing = await agent.request('/mods/nope.jar', { method: 'DELETE' })
  t.equal(((await missing.json()) as { code: string }).code, 'MOD_NOT_FOUND')
  t.equal(artifacts.count('worldedit-2.jar'), 1, 'each artifact downloaded once (the cache is keyed by sha256)')
})
