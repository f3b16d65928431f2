// STUB AGENT — a test double, not the agent. A small node:http server speaking the shapes of the
// agent API (src/api/agent-types.ts, agent-game-types.ts) from in-memory state the test sets, so
// the controller's steps can be unit-tested without a container: it installs nothing, runs no
// game and no code-server. Every answer carries `x-stub: stub agent`. Wrong bearer token → 401.
// Also here: a STUB container backend (in memory) whose containers' agentUrl is this stub, and a
// recorder of Events. Everything a test starts here is stopped by the test's teardown.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { effectiveGameSpec } from '../../../src/api/index.ts'
import type {
  AgentStatus,
  GameSpecRequest,
  CodeServerState,
  GameInfo,
  InstalledRuntime,
  ModsListing,
  RuntimeInstallRequest,
} from '../../../src/api/index.ts'
import type { Container, ContainerBackend } from '../../../src/providers/index.ts'

export interface StubRequest {
  method: string
  path: string
  body: unknown
}

export interface StubAgentState {
  status: AgentStatus
  game: GameInfo
  mods: ModsListing
  /** Install failures by runtime name: the agent error code the install answers with. */
  installFailures: Record<string, string>
  /** Routes ('GET /game') that never answer, as a hung agent would not. */
  hang: Set<string>
}

export interface StubAgent {
  url: string
  token: string
  state: StubAgentState
  requests: StubRequest[]
  /** Sends `state` events to every open GET /events stream, all in one write (a client reads them
   * in one go, so they are handled before any timer of the test runs); returns how many streams got them. */
  pushStates(...changes: Array<{ component: string; state: unknown }>): number
  /** Open GET /events streams. */
  streams(): number
  /** Connections the stub holds open (a cancelled call closes its own). */
  openConnections: () => number
  /** Requests whose method and path match, e.g. count('POST /runtimes'). */
  count(route: string): number
}

export function runtime(name: string, current: string | null): InstalledRuntime {
  return {
    name,
    current,
    binDir: `/stub/${name}/current/bin`,
    versions: current === null ? [] : [{ version: current, sha256: 'a'.repeat(64), installedAt: '2026-01-01T00:00:00Z', current: true }],
  }
}

export function stoppedGame(): GameInfo {
  return {
    state: 'Stopped',
    configured: false,
    pid: null,
    startedAt: null,
    consecutiveFailures: 0,
    restarts: 0,
    nextRestartTime: null,
    lastCrash: null,
    lastStop: null,
    restartPending: false,
    adopted: false,
    spec: null,
    players: null,
    health: null,
    idleSince: null,
    sleep: null,
  } as GameInfo
}

export function codeServerState(phase: CodeServerState['phase'], enabled: boolean): CodeServerState {
  return { enabled, phase, bindAddr: '127.0.0.1:6000', restarts: 0, version: '4.0.0' }
}

function error(res: http.ServerResponse, statusCode: number, code: string, message: string): void {
  res.writeHead(statusCode, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ code, message, statusCode }))
}

/** Starts the stub agent on a random loopback port; the test's teardown stops it. */
export async function startStubAgent(t: Test, token = 'f'.repeat(64)): Promise<StubAgent> {
  const state: StubAgentState = {
    status: {
      agentVersion: 'stub',
      startedAt: '2026-01-01T00:00:00Z',
      uptimeSeconds: 1,
      provisioningComplete: true,
      runtimes: [],
      installing: [],
      devEnv: null,
      codeServer: null,
      game: null,
      components: {},
    },
    game: stoppedGame(),
    mods: { directory: '/stub/mods', mods: [], restartPending: false },
    installFailures: {},
    hang: new Set(),
  }
  const requests: StubRequest[] = []
  const sockets = new Set<import('node:net').Socket>()
  const streams = new Set<http.ServerResponse>()
  let eventId = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const body: unknown = text ? JSON.parse(text) : undefined
      const path = req.url ?? '/'
      requests.push({ method: req.method ?? 'GET', path, body })
      res.setHeader('x-stub', 'stub agent')
      if (req.headers.authorization !== `Bearer ${token}`) return error(res, 401, 'UNAUTHORIZED', 'stub agent: wrong token')
      const json = (value: unknown): void => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify(value))
      }
      const route = `${req.method} ${path}`
      if (state.hang.has(route)) return
      if (route === 'GET /events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        res.write(`id: ${++eventId}\nevent: snapshot\ndata: ${JSON.stringify({ id: eventId, components: {} })}\n\n`)
        streams.add(res)
        res.on('close', () => streams.delete(res))
        return
      }
      switch (route) {
        case 'GET /status':
          return json(state.status)
        case 'POST /runtimes': {
          const r = body as RuntimeInstallRequest
          const failure = state.installFailures[r.name]
          if (failure !== undefined) return error(res, 422, failure, `stub agent: ${failure} for ${r.name} ${r.version}`)
          const previous = state.status.runtimes.find((x) => x.name === r.name)?.current ?? null
          state.status.runtimes = [...state.status.runtimes.filter((x) => x.name !== r.name), runtime(r.name, r.version)]
          return json({ name: r.name, version: r.version, downloaded: true, current: r.version, previous })
        }
        case 'GET /game':
          return json(state.game)
        case 'PUT /game': {
          const spec = body as { server: Record<string, unknown>; supervision?: Record<string, unknown>; running?: boolean }
          // As the agent does: the spec reported back has every default filled in.
          state.game = { ...state.game, configured: true, spec: effectiveGameSpec(spec as unknown as GameSpecRequest) }
          if (spec.running === true) state.game = { ...state.game, state: 'Running', pid: 4242 }
          if (spec.running === false)
            state.game = {
              ...state.game,
              state: 'Stopped',
              pid: null,
              lastStop: { time: '2026-01-01T00:00:00Z', endedBy: 'stopCommand' } as GameInfo['lastStop'],
            }
          return json(state.game)
        }
        case 'POST /game/restart':
          state.game = { ...state.game, state: 'Running', restartPending: false }
          return json(state.game)
        case 'POST /game/stop':
          state.game = { ...state.game, state: 'Stopped' }
          return json(state.game)
        case 'POST /game/wake':
          if (state.game.state !== 'Sleeping')
            return error(res, 409, 'AGENT_GAME_NOT_SLEEPING', `stub agent: the game is ${state.game.state}`)
          state.game = { ...state.game, state: 'Starting', sleep: null }
          return json(state.game)
        case 'POST /game/command':
          if (state.game.state !== 'Running') return error(res, 409, 'GAME_NOT_RUNNING', `stub agent: the game is ${state.game.state}`)
          res.writeHead(204)
          return res.end()
        case 'GET /mods':
          return json(state.mods)
        case 'PUT /mods': {
          const wanted = (body as { mods: Array<{ name: string; url: string; sha256: string }> }).mods
          state.mods = {
            ...state.mods,
            mods: wanted.map((m) => ({
              name: m.name,
              sha256: m.sha256,
              managed: true,
              state: 'installed',
            })) as unknown as ModsListing['mods'],
          }
          return json(state.mods)
        }
        case 'GET /dev/codeserver':
          return json(state.status.codeServer)
        case 'POST /dev/codeserver/start':
          state.status.codeServer = codeServerState('Running', true)
          return json(state.status.codeServer)
        case 'POST /dev/codeserver/stop':
          state.status.codeServer = codeServerState('Stopped', false)
          return json(state.status.codeServer)
        default:
          return error(res, 404, 'NOT_FOUND', `stub agent: no route ${route}`)
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    state,
    requests,
    openConnections: () => sockets.size,
    streams: () => streams.size,
    pushStates: (...changes) => {
      let text = ''
      for (const { component, state: value } of changes) {
        const id = ++eventId
        text += `id: ${id}\nevent: state\ndata: ${JSON.stringify({ id, component, state: value, at: '2026-01-01T00:00:00Z' })}\n\n`
      }
      for (const res of streams) res.write(text)
      return streams.size
    },
    count: (route) => requests.filter((r) => `${r.method} ${r.path}` === route).length,
  }
}

export interface StubBackend extends ContainerBackend {
  calls: string[]
  /** What the next ensure() returns beyond vmid/state (e.g. no agentUrl), or an error it throws. */
  next: { container?: Partial<Container>; error?: Error }
}

/** STUB container backend: one in-memory container per owner, its agent the stub agent. */
export function stubBackend(agentUrl: string | undefined): StubBackend {
  const containers = new Map<string, Container>()
  const calls: string[] = []
  const backend = {
    calls,
    next: {} as StubBackend['next'],
    async ensure(spec: { identity: { ownerUid: string } }) {
      calls.push('ensure')
      if (backend.next.error) throw backend.next.error
      const c =
        containers.get(spec.identity.ownerUid) ??
        ({ vmid: 100 + containers.size, state: 'stopped', address: '127.0.0.1', agentUrl, ...backend.next.container } as Container)
      containers.set(spec.identity.ownerUid, c)
      return c
    },
    async start(ref: { ownerUid: string }) {
      calls.push('start')
      const c = { ...containers.get(ref.ownerUid)!, state: 'running' } as Container
      containers.set(ref.ownerUid, c)
      return c
    },
    async deliverCredentials() {
      calls.push('deliverCredentials')
    },
    async observe(ref: { ownerUid: string }) {
      calls.push('observe')
      return containers.get(ref.ownerUid)
    },
    async stop(ref: { ownerUid: string }) {
      calls.push('stop')
      const c = containers.get(ref.ownerUid)
      if (c) containers.set(ref.ownerUid, { ...c, state: 'stopped' })
    },
    async delete(ref: { ownerUid: string }) {
      calls.push('delete')
      containers.delete(ref.ownerUid)
    },
  }
  return backend as unknown as StubBackend
}

export interface RecordedEvent {
  type: string
  reason: string
  message: string
}

/** Records Events instead of writing them (the steps' Events are asserted on this list). */
export function eventLog(): {
  events: RecordedEvent[]
  recorder: { event: (obj: unknown, type: string, reason: string, message: string) => void }
} {
  const events: RecordedEvent[] = []
  return {
    events,
    recorder: {
      event: (_obj, type, reason, message) => {
        events.push({ type, reason, message })
      },
    },
  }
}
