// IDE links end to end: a DevServer status written to the API server → the informer fills the
// route table → POST /api/dev/:name/ide-token → the link, redeemed on the dev host through the
// existing IDE proxy, sets the session cookie and reaches the upstream at status.address.
import t from 'tap'
import { DEVSERVER } from '../../../src/api/index.ts'
import { send, sessionCookieOf, startUpstream, waitFor } from '../fixtures.ts'
import { readyConditions, startPortal } from './portal-env.ts'

t.test('ide-token → cookie → upstream, route from the informer', async (t) => {
  const upstream = await startUpstream()
  t.teardown(() => upstream.close())
  const p = await startPortal(t)
  const w = await p.token('servers:read', 'servers:write', 'ide')
  const noIde = await p.token('servers:read', 'servers:write')

  t.equal(
    (await p.api('/api/dev/box', { method: 'PUT', token: w, json: { spec: { running: true, codeServer: { enabled: true } } } })).status,
    201,
  )
  const notReady = await p.api('/api/dev/box/ide-token', { method: 'POST', token: w })
  t.equal(notReady.status, 409, 'no vmid / not Ready yet')
  t.equal(notReady.json.code, 'ZLH_GW_API_NOT_READY')
  t.equal((await p.api('/api/dev/ghost/ide-token', { method: 'POST', token: w })).status, 404)

  await p.setStatus('DevServer', 'box', { phase: 'Running', vmid: 4242, address: upstream.address, conditions: readyConditions(true) })
  await waitFor(() => p.svc.routes.lookup(4242)?.ready === true, 'the informer to route vmid 4242')
  t.equal(p.svc.routes.lookup(4242)?.target.port, upstream.port, 'route target from status.address')

  t.equal((await p.api('/api/dev/box/ide-token', { method: 'POST', token: noIde })).status, 403, 'scope ide is required')
  const link = await p.api('/api/dev/box/ide-token', { method: 'POST', token: w })
  t.equal(link.status, 200)
  const url = new URL(link.json.url)
  t.equal(url.host, `dev-4242.zlh.test:${p.svc.gateway.port}`)
  t.equal(url.protocol, 'https:')
  t.ok(Date.parse(link.json.expiresAt) - Date.now() <= 60_000, 'expires within 60 s')

  const host = url.host
  const redeem = await send(p.svc.gateway, { host, path: url.pathname + url.search })
  t.equal(redeem.status, 302)
  const cookie = sessionCookieOf(redeem)
  t.ok(cookie, 'session cookie set')
  const page = await send(p.svc.gateway, { host, path: '/?folder=/home/dev/workspace', headers: { cookie: cookie! } })
  t.equal(page.status, 200)
  t.match(page.body, /fake code-server/)
  t.equal((await send(p.svc.gateway, { host, path: url.pathname + url.search })).status, 401, 'the link works once')

  // Readiness and deletion follow the resource.
  await p.setStatus('DevServer', 'box', { conditions: readyConditions(false) })
  await waitFor(() => p.svc.routes.lookup(4242)?.ready === false, 'the route to turn not-ready')
  t.equal((await send(p.svc.gateway, { host, path: '/x', headers: { cookie: cookie! } })).status, 503)
  await p.env.client.delete(DEVSERVER, 'box', 'default')
  await waitFor(() => p.svc.routes.lookup(4242) === undefined, 'the route to go with the DevServer')
  t.equal((await send(p.svc.gateway, { host, path: '/x', headers: { cookie: cookie! } })).status, 404)
})

t.test('routes are rebuilt from the API after a gateway restart', async (t) => {
  const upstream = await startUpstream()
  t.teardown(() => upstream.close())
  const p = await startPortal(t)
  const w = await p.token('servers:write')
  await p.api('/api/dev/keep', { method: 'PUT', token: w, json: { spec: {} } })
  await p.setStatus('DevServer', 'keep', { vmid: 777, address: upstream.address, conditions: readyConditions(true) })
  await waitFor(() => p.svc.routes.lookup(777) !== undefined, 'route 777')
  const { startGatewayService } = await import('../../../src/gateway/service.ts')
  const second = await startGatewayService({ client: p.env.client, listen: '127.0.0.1:0', ideSuffix: 'zlh.test', publicPort: 'listen' })
  t.teardown(() => second.close())
  t.equal(second.routes.lookup(777)?.ready, true, 'a fresh gateway has the route as soon as it starts')
  t.equal(second.bootstrapAdminToken, undefined, 'an admin token exists already: none is printed again')
  // Same signing key from the Secret: a link minted by one replica is redeemed by the other.
  const { token } = p.svc.gateway.mintIdeToken(777, 'alice', { apiTokenId: null })
  const r = await send(second.gateway, { host: `dev-777.zlh.test:${second.gateway.port}`, path: `/?token=${token}` })
  t.equal(r.status, 302, 'replicas share the signing key')
  const replay = await send(p.svc.gateway, { host: `dev-777.zlh.test:${p.svc.gateway.port}`, path: `/?token=${token}` })
  t.equal(replay.status, 401, 'the link redeemed on one replica is refused by the other: single use across replicas')
  t.match(replay.body, /already been used/)
  await second.close()
  const restarted = await startGatewayService({ client: p.env.client, listen: '127.0.0.1:0', ideSuffix: 'zlh.test', publicPort: 'listen' })
  t.teardown(() => restarted.close())
  const afterRestart = await send(restarted.gateway, { host: `dev-777.zlh.test:${restarted.gateway.port}`, path: `/?token=${token}` })
  t.equal(afterRestart.status, 401, 'and by a gateway started afterwards: single use across restarts')

  // A new container (new vmid) moves the route; the old vmid stops routing.
  await p.setStatus('DevServer', 'keep', { vmid: 778 })
  await waitFor(() => p.svc.routes.lookup(778) !== undefined && p.svc.routes.lookup(777) === undefined, 'the route to move to 778')
  t.equal(p.svc.routes.lookup(778)?.name, 'keep')
  // Losing the address (container gone) removes the route.
  await p.env.client.patch(
    { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer' },
    'keep',
    'default',
    [{ op: 'remove', path: '/status/address' }],
    'application/json-patch+json',
    { subresource: 'status' },
  )
  await waitFor(() => p.svc.routes.lookup(778) === undefined, 'the route to go with the address')
})
