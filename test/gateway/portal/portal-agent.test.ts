// Console WebSocket and file operations proxied to a real agent (in-process, loopback): the
// caller's token and scope are checked by the gateway; the agent's token, read from the
// per-server Secret, is sent only to the agent and never appears in anything the caller gets.
import t from 'tap'
import WebSocket from 'ws'
import { startTestAgent } from '../../agent/helpers.ts'
import { send } from '../fixtures.ts'
import { gameSpec, NS, startPortal } from './portal-env.ts'

t.test('console and files through the gateway to a real agent', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const p = await startPortal(t)
  const seen: string[] = [] // everything the caller receives, to search for the agent token
  const api: typeof p.api = async (path, init) => {
    const r = await p.api(path, init)
    seen.push(r.text, JSON.stringify([...r.headers]))
    return r
  }
  const files = await p.token('files')
  const cons = await p.token('console')
  const writer = await p.token('servers:write')

  t.equal((await api('/api/game/srv', { method: 'PUT', token: writer, json: { spec: gameSpec() } })).status, 201)
  const noCreds = await api('/api/game/srv/files/', { token: files })
  t.equal(noCreds.status, 409, 'no agent credentials yet → not ready')
  t.equal(noCreds.json.code, 'ZLH_GW_API_NOT_READY')

  await p.env.client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'srv-agent-token', namespace: NS },
    data: { token: Buffer.from(agent.token).toString('base64'), agentUrl: Buffer.from(agent.url).toString('base64') },
  })

  await t.test('files', async (t) => {
    t.equal((await api('/api/game/srv/files/server.properties', { token: cons })).status, 403, 'files scope required')
    t.equal((await api('/api/game/srv/files/server.properties', {})).status, 401)
    const put = await api('/api/game/srv/files/config/server.properties', {
      method: 'PUT',
      token: files,
      body: 'motd=hello\n',
      headers: { 'content-type': 'application/octet-stream' },
    })
    t.ok(put.status >= 200 && put.status < 300, `write answered ${put.status} ${put.text}`)
    const get = await api('/api/game/srv/files/config/server.properties', { token: files })
    t.equal(get.status, 200)
    t.equal(get.text, 'motd=hello\n', 'bytes round-trip through gateway and agent')
    const list = await api('/api/game/srv/files/config', { token: files })
    t.equal(list.status, 200)
    t.match(list.text, /server\.properties/)
    // Raw request: fetch would normalise %2e%2e away before sending.
    const traversal = await send(p.svc.gateway, {
      host: '127.0.0.1',
      path: '/api/game/srv/files/config/%2e%2e/%2e%2e/etc/passwd',
      headers: { authorization: `Bearer ${files}` },
    })
    seen.push(traversal.body)
    t.equal(traversal.status, 400, 'encoded .. refused at the edge')
    const del = await api('/api/game/srv/files/config/server.properties', { method: 'DELETE', token: files })
    t.ok(del.status >= 200 && del.status < 300, `delete answered ${del.status}`)
    t.equal((await api('/api/game/srv/files/config/server.properties', { token: files })).status, 404, "the agent's 404 passes through")
    t.equal((await api('/api/game/nope/files/x', { token: files })).status, 404, 'unknown server')
  })

  const wsUrl = `${p.svc.gateway.url.replace(/^http/, 'ws')}/api/game/srv/console`
  const refusedWith = (ws: WebSocket) =>
    new Promise<number>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let b = ''
        res.on('data', (c) => {
          b += c
        })
        res.on('end', () => {
          seen.push(b)
          resolve(res.statusCode!)
        })
      })
      ws.once('open', () => reject(new Error('opened')))
      ws.once('error', () => {})
    })

  await t.test('console WebSocket', async (t) => {
    t.equal(await refusedWith(new WebSocket(wsUrl)), 401, 'no token: plain 401 before any upgrade')
    t.equal(await refusedWith(new WebSocket(wsUrl, { headers: { authorization: `Bearer ${files}` } })), 403, 'files scope is not console')
    t.equal(await refusedWith(new WebSocket(wsUrl.replace('/srv/', '/ghost/'), { headers: { authorization: `Bearer ${cons}` } })), 404)

    // A browser cannot set headers: the token rides in a subprotocol next to zlh.console.
    const ws = new WebSocket(wsUrl, ['zlh.console', `zlh.bearer.${cons}`])
    const messages: Array<{ type: string; [k: string]: unknown }> = []
    ws.on('message', (d) => {
      seen.push(d.toString())
      messages.push(JSON.parse(d.toString()))
    })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    t.equal(ws.protocol, 'zlh.console', 'the token protocol is never echoed back')
    const waitMsg = async (type: string) => {
      const until = Date.now() + 15_000
      while (!messages.some((m) => m.type === type)) {
        if (Date.now() > until) throw new Error(`no ${type} message; got ${JSON.stringify(messages)}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return messages.find((m) => m.type === type)!
    }
    t.ok(await waitMsg('history'), 'agent → client: history')
    t.ok(await waitMsg('state'), 'agent → client: state')
    ws.send(JSON.stringify({ type: 'input', data: 'say hi\n' }))
    t.match(await waitMsg('info'), { message: /not delivered/ }, 'client → agent: input reached the agent, which answered')
    t.equal(p.svc.portal.openConsoles, 2, 'one client and one agent socket')
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
    ws.close(4001, 'bye')
    t.equal(await closed, 4001, 'close code comes back through the proxy')
    const until = Date.now() + 10_000
    while (p.svc.portal.openConsoles > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    t.equal(p.svc.portal.openConsoles, 0, 'no socket left open')
  })

  await t.test('agent URL from the annotation when the Secret has none', async (t) => {
    t.equal((await api('/api/game/srv2', { method: 'PUT', token: writer, json: { spec: gameSpec() } })).status, 201)
    await p.env.client.patch(
      { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer' },
      'srv2',
      NS,
      { metadata: { annotations: { 'zerolaghub.dev/agent-url': agent.url } } },
      'application/merge-patch+json',
    )
    await p.env.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'srv2-agent-token', namespace: NS },
      data: { token: Buffer.from(agent.token).toString('base64') },
    })
    const list = await api('/api/game/srv2/files/', { token: files })
    t.equal(list.status, 200, list.text)
  })

  await t.test('dev console: a shell in the dev container', async (t) => {
    t.equal((await api('/api/dev/box', { method: 'PUT', token: writer, json: { spec: {} } })).status, 201)
    await p.env.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'box-agent-token', namespace: NS },
      data: { token: Buffer.from(agent.token).toString('base64'), agentUrl: Buffer.from(agent.url).toString('base64') },
    })
    const ws = new WebSocket(wsUrl.replace('/game/srv/', '/dev/box/'), { headers: { authorization: `Bearer ${cons}` } })
    let output = ''
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString())
      if (m.type === 'output') output += m.data
      seen.push(d.toString())
    })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    ws.send(JSON.stringify({ type: 'input', data: 'echo gw-$((40+2))\n' }))
    const until = Date.now() + 20_000
    while (!output.includes('gw-42') && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    t.match(output, /gw-42/, 'the shell ran the command and its output came back')
    const closed = new Promise((r) => ws.once('close', r))
    ws.close()
    await closed
  })

  await t.test("dev files: a DevServer's file API is its workspace, not the game directory", async (t) => {
    // `box` (the previous subtest) points at the same agent as `srv`.
    const { mkdirSync, readFileSync, existsSync } = await import('node:fs')
    const { join } = await import('node:path')
    mkdirSync(agent.ctx.paths.workspace, { recursive: true })
    const put = await api('/api/dev/box/files/notes/hello.txt', {
      method: 'PUT',
      token: files,
      body: 'from the portal\n',
      headers: { 'content-type': 'application/octet-stream' },
    })
    t.equal(put.status, 201, put.text)
    t.equal(readFileSync(join(agent.ctx.paths.workspace, 'notes/hello.txt'), 'utf8'), 'from the portal\n', 'written into the workspace')
    t.notOk(existsSync(join(agent.ctx.paths.game, 'notes')), 'not into the game directory')
    const get = await api('/api/dev/box/files/notes/hello.txt', { token: files })
    t.equal(get.text, 'from the portal\n')
    t.equal((await api('/api/game/srv/files/notes/hello.txt', { token: files })).status, 404, "the game server's file API does not see it")
    const traversal = await send(p.svc.gateway, {
      host: '127.0.0.1',
      path: '/api/dev/box/files/notes/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      headers: { authorization: `Bearer ${files}` },
    })
    t.equal(traversal.status, 400, 'an encoded .. is refused before the agent')
  })

  t.notOk(seen.join('\n').includes(agent.token), 'the agent token never reached the caller')
})
