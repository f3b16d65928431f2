// Health probes that speak a game's own query protocol: `minecraft` (server-list ping), `a2s` (Source
// A2S_INFO over UDP, with the challenge round trip), `tcp` (connect and close).
//
// Expected flow: probeGame(target) → one exchange with the game → a ProbeAnswer (latency, and the players
// the protocol reports) or a ProbeError saying what failed.
// Guarantees: bounded by `target.timeoutMs` and the signal; the socket is closed on every path (answer,
// error, timeout, abort) before the promise settles; answers are size-capped (64 KiB for Minecraft, one
// datagram for A2S) and parsed defensively (a hostile server gets a 'bad-answer' error, never a crash).
// Caveats: A2S answers split over several datagrams (0xFFFFFFFE) are refused as 'bad-answer'; A2S_INFO
// fits one datagram on every server we know of.
import net from 'node:net'
import { flattenChatComponent, MinecraftProtocolError, readPacket, readString, writeHandshake, writePacket } from './minecraft.ts'
import type { ProbeAnswer, ProbeTarget } from './types.ts'

/** A Minecraft status answer larger than this is refused (a favicon is ~10 KiB; real answers stay well under). */
export const MAX_STATUS_BYTES = 64 * 1024
/** How many sample players an answer keeps. */
export const MAX_SAMPLE_PLAYERS = 12

export type ProbeFailure = 'invalid-target' | 'refused' | 'unreachable' | 'timeout' | 'closed' | 'bad-answer' | 'aborted'

/** Longest a probe may be given (the CRD caps spec.health.timeoutSeconds at 60). */
export const MAX_PROBE_TIMEOUT_MS = 60_000

export class ProbeError extends Error {
  readonly reason: ProbeFailure
  constructor(reason: ProbeFailure, message: string) {
    super(message)
    this.name = 'ProbeError'
    this.reason = reason
  }
}

type Players = NonNullable<ProbeAnswer['players']>

/** Why `target` cannot be probed at all, or undefined when it can. */
function invalidTarget(target: ProbeTarget): string | undefined {
  if (target.kind !== 'minecraft' && target.kind !== 'a2s' && target.kind !== 'tcp') return `unknown probe kind ${String(target.kind)}`
  if (typeof target.host !== 'string' || target.host.length === 0 || target.host.length > 253) return 'host must be a name or address'
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) return `port ${target.port} is not 1-65535`
  if (!Number.isFinite(target.timeoutMs) || target.timeoutMs <= 0 || target.timeoutMs > MAX_PROBE_TIMEOUT_MS)
    return `timeoutMs ${target.timeoutMs} is not in (0, ${MAX_PROBE_TIMEOUT_MS}]`
  return undefined
}

export function probeGame(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeAnswer> {
  const where = `${target.kind} probe of ${target.host}:${target.port}`
  const invalid = invalidTarget(target)
  if (invalid !== undefined) return Promise.reject(new ProbeError('invalid-target', `${where}: ${invalid}`))
  return new Promise<ProbeAnswer>((resolve, reject) => {
    const started = performance.now()
    let cleanup: () => void = () => {}
    let settled = false
    const finish = (error: Error | undefined, players?: Players): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      cleanup()
      if (error !== undefined) reject(error)
      else resolve({ latencyMs: Math.round((performance.now() - started) * 10) / 10, ...(players ? { players } : {}) })
    }
    const fail = (reason: ProbeFailure, what: string): void => finish(new ProbeError(reason, `${where}: ${what}`))
    const onAbort = (): void => fail('aborted', 'aborted')
    const timer = setTimeout(() => fail('timeout', `no answer within ${target.timeoutMs} ms`), target.timeoutMs)
    if (signal?.aborted) {
      onAbort()
      return
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const session: ProbeSession = { target, ok: (players) => finish(undefined, players), fail }
    try {
      if (target.kind === 'a2s') cleanup = probeA2s(session)
      else cleanup = probeTcp(session, target.kind === 'minecraft')
    } catch (error) {
      // Only a synchronous refusal by node:net/dgram lands here; each probe closed what it had opened.
      fail('invalid-target', (error as Error).message)
    }
  })
}

interface ProbeSession {
  target: ProbeTarget
  ok(players?: Players): void
  fail(reason: ProbeFailure, what: string): void
}

function socketFailure(error: NodeJS.ErrnoException): ProbeFailure {
  if (error.code === 'ECONNREFUSED') return 'refused'
  if (error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
    return 'unreachable'
  return 'closed'
}

/** `tcp`: connect and close. `minecraft`: Handshake (next state 1) + Status Request, read the Status Response. */
function probeTcp(session: ProbeSession, serverListPing: boolean): () => void {
  const { target } = session
  const socket = net.connect({ host: target.host, port: target.port })
  let received = Buffer.alloc(0)
  socket.on('error', (error: NodeJS.ErrnoException) =>
    session.fail(socketFailure(error), `connection failed: ${error.code ?? error.message}`),
  )
  socket.on('close', () => session.fail('closed', 'the server closed the connection before answering'))
  socket.on('connect', () => {
    if (!serverListPing) {
      session.ok()
      return
    }
    // Protocol -1: "the client is pinging to determine what version to use" (wiki.vg, Server List Ping).
    socket.write(
      Buffer.concat([writeHandshake({ protocolVersion: -1, host: target.host, port: target.port, nextState: 1 }), writePacket(0x00)]),
    )
  })
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
    let packet: ReturnType<typeof readPacket>
    try {
      packet = readPacket(received, MAX_STATUS_BYTES)
    } catch (error) {
      session.fail('bad-answer', `not a status response: ${(error as Error).message}`)
      return
    }
    if (packet === undefined) return
    try {
      session.ok(parseStatusAnswer(packet.value.id, packet.value.payload))
    } catch (error) {
      session.fail('bad-answer', (error as Error).message)
    }
  })
  return () => socket.destroy()
}

function finiteCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`status response field ${field} is not a number`)
  return Math.max(0, Math.trunc(value))
}

/** The players a Status Response reports; `undefined` when the server hides them (no `players`). */
export function parseStatusAnswer(id: number, payload: Buffer): Players | undefined {
  if (id !== 0x00) throw new Error(`expected a status response (packet 0x00), got packet 0x${id.toString(16)}`)
  const json = readString(payload, 0, MAX_STATUS_BYTES)
  if (json === undefined) throw new MinecraftProtocolError('status response string overruns its packet')
  let status: Record<string, unknown>
  try {
    status = JSON.parse(json.value)
  } catch {
    throw new Error('status response is not JSON')
  }
  if (status === null || typeof status !== 'object' || Array.isArray(status)) throw new Error('status response is not a JSON object')
  const players = status.players as Record<string, unknown> | undefined
  if (players === undefined || players === null || typeof players !== 'object') return undefined
  const answer: Players = { online: finiteCount(players.online, 'players.online'), max: finiteCount(players.max, 'players.max') }
  if (Array.isArray(players.sample)) {
    answer.sample = players.sample
      .filter((entry): entry is { name: string; id?: unknown } => typeof entry?.name === 'string')
      .slice(0, MAX_SAMPLE_PLAYERS)
      .map((entry) => ({ name: entry.name.slice(0, 64), ...(typeof entry.id === 'string' ? { id: entry.id.slice(0, 64) } : {}) }))
  }
  const version = (status.version as Record<string, unknown> | undefined)?.name
  if (typeof version === 'string') answer.version = flattenChatComponent(version, 64)
  if (status.description !== undefined) answer.motd = flattenChatComponent(status.description, 256)
  return answer
}

const A2S_HEADER = Buffer.from([0xff, 0xff, 0xff, 0xff])
const A2S_INFO_REQUEST = Buffer.concat([A2S_HEADER, Buffer.from('TSource Engine Query\0', 'latin1')])
/** The server answers with a challenge at most this often before giving the info (Valve: once). */
const MAX_A2S_CHALLENGES = 2

/** A2S_INFO request bytes, with the 4-byte challenge appended when the server asked for one. */
export function a2sInfoRequest(challenge?: Buffer): Buffer {
  return challenge ? Buffer.concat([A2S_INFO_REQUEST, challenge]) : A2S_INFO_REQUEST
}

/**
 * `a2s`: A2S_INFO over UDP (Valve Developer Community, "Server queries"). Since 2020 a server may answer
 * S2C_CHALLENGE (0x41, 4 bytes); the request is then resent with those bytes appended.
 */
function probeA2s(session: ProbeSession): () => void {
  const { target } = session
  // node:dgram is loaded by the first A2S probe, not by every process that can probe.
  const socket = process.getBuiltinModule('node:dgram').createSocket(net.isIPv6(target.host) ? 'udp6' : 'udp4')
  let challenges = 0
  socket.on('error', (error: NodeJS.ErrnoException) => session.fail(socketFailure(error), `query failed: ${error.code ?? error.message}`))
  socket.on('message', (message: Buffer) => {
    if (message.length < 5 || !message.subarray(0, 4).equals(A2S_HEADER)) {
      session.fail('bad-answer', 'not a single-packet A2S answer (split or unknown header)')
      return
    }
    const kind = message[4]
    if (kind === 0x41 && message.length >= 9 && challenges < MAX_A2S_CHALLENGES) {
      challenges++
      socket.send(a2sInfoRequest(message.subarray(5, 9)))
      return
    }
    if (kind !== 0x49) {
      session.fail('bad-answer', `expected A2S_INFO answer 0x49, got 0x${(kind ?? 0).toString(16)}`)
      return
    }
    try {
      const info = parseA2sInfo(message)
      session.ok({ online: info.players, max: info.maxPlayers, version: info.version, motd: info.name })
    } catch (error) {
      session.fail('bad-answer', (error as Error).message)
    }
  })
  // A connected UDP socket only hears its peer, and gets ECONNREFUSED from the ICMP port-unreachable.
  try {
    socket.connect(target.port, target.host, () => socket.send(a2sInfoRequest()))
  } catch (error) {
    socket.close()
    throw error
  }
  return () => {
    try {
      socket.close()
    } catch {
      // already closed
    }
  }
}

export interface A2sInfo {
  protocol: number
  name: string
  map: string
  folder: string
  game: string
  appId: number
  players: number
  maxPlayers: number
  bots: number
  serverType: string
  environment: string
  visibility: number
  vac: number
  version: string
  /** From the Extra Data Flag, when present. */
  port?: number
  steamId?: bigint
  keywords?: string
  gameId?: bigint
}

/** Parses a whole A2S_INFO answer datagram (header FF FF FF FF, 0x49, then the fields). Throws on truncation. */
export function parseA2sInfo(message: Buffer): A2sInfo {
  let at = 5
  const byte = (field: string): number => {
    if (at + 1 > message.length) throw new Error(`A2S_INFO answer ends before ${field}`)
    return message[at++]!
  }
  const short = (field: string): number => {
    if (at + 2 > message.length) throw new Error(`A2S_INFO answer ends before ${field}`)
    const value = message.readUInt16LE(at)
    at += 2
    return value
  }
  const longLong = (field: string): bigint => {
    if (at + 8 > message.length) throw new Error(`A2S_INFO answer ends before ${field}`)
    const value = message.readBigUInt64LE(at)
    at += 8
    return value
  }
  const string = (field: string): string => {
    const end = message.indexOf(0, at)
    if (end < 0) throw new Error(`A2S_INFO answer ends inside ${field}`)
    const value = message.toString('utf8', at, end)
    at = end + 1
    return value
  }
  if (message[4] !== 0x49) throw new Error('not an A2S_INFO answer (0x49)')
  const protocol = byte('protocol')
  const name = string('name')
  const map = string('map')
  const folder = string('folder')
  const game = string('game')
  const appId = short('id')
  const players = byte('players')
  const maxPlayers = byte('max players')
  const bots = byte('bots')
  const serverType = String.fromCharCode(byte('server type'))
  const environment = String.fromCharCode(byte('environment'))
  const visibility = byte('visibility')
  const vac = byte('vac')
  // The Ship (app id 2400) inserts mode, witnesses and duration here.
  if (appId === 2400) at += 3
  const version = string('version')
  const info: A2sInfo = {
    protocol,
    name,
    map,
    folder,
    game,
    appId,
    players,
    maxPlayers,
    bots,
    serverType,
    environment,
    visibility,
    vac,
    version,
  }
  if (at < message.length) {
    const edf = byte('extra data flag')
    if (edf & 0x80) info.port = short('port')
    if (edf & 0x10) info.steamId = longLong('steam id')
    if (edf & 0x40) {
      short('spectator port')
      string('spectator name')
    }
    if (edf & 0x20) info.keywords = string('keywords')
    if (edf & 0x01) info.gameId = longLong('game id')
  }
  return info
}
