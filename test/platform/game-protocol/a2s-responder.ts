// A small A2S_INFO responder for tests: answers on a UDP port on loopback as a Source server does,
// following Valve Developer Community, "Server queries" (A2S_INFO request and 0x49 response format, and
// the S2C_CHALLENGE 0x41 round trip Valve added in December 2020: a request without the right 4-byte
// challenge is answered with a challenge; the client resends the request with it appended).
// Modes for hostile tests: 'silent' (never answers), 'garbage' (answers bytes that are not A2S),
// 'truncated' (an 0x49 answer cut inside its strings), 'challenge-forever' (always asks for a challenge).
import dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'

export interface A2sResponderInfo {
  protocol: number
  name: string
  map: string
  folder: string
  game: string
  appId: number
  players: number
  maxPlayers: number
  bots: number
  serverType: 'd' | 'l' | 'p'
  environment: 'l' | 'w' | 'm' | 'o'
  visibility: 0 | 1
  vac: 0 | 1
  version: string
  /** EDF 0x80: the game port. */
  port?: number
  /** EDF 0x20: tags. */
  keywords?: string
  /** EDF 0x01: the 64-bit game id. */
  gameId?: bigint
}

export type A2sResponderMode = 'challenge' | 'no-challenge' | 'silent' | 'garbage' | 'truncated' | 'challenge-forever'

export interface A2sResponder {
  port: number
  /** Requests received, in order (raw bytes). */
  requests: Buffer[]
  close(): Promise<void>
}

const HEADER = Buffer.from([0xff, 0xff, 0xff, 0xff])
const QUERY = Buffer.concat([HEADER, Buffer.from('TSource Engine Query\0', 'latin1')])

export const defaultA2sInfo: A2sResponderInfo = {
  protocol: 17,
  name: 'zlh test server',
  map: 'de_dust2',
  folder: 'csgo',
  game: 'Counter-Strike: Global Offensive',
  appId: 730,
  players: 3,
  maxPlayers: 24,
  bots: 1,
  serverType: 'd',
  environment: 'l',
  visibility: 0,
  vac: 1,
  version: '1.38.7.9',
  port: 27015,
  keywords: 'secure,zlh',
  gameId: 730n,
}

const cstring = (value: string): Buffer => Buffer.concat([Buffer.from(value, 'utf8'), Buffer.from([0])])

/** The 0x49 answer, field by field as the page lists them. */
export function encodeA2sInfo(info: A2sResponderInfo): Buffer {
  const u8 = (n: number): Buffer => Buffer.from([n & 0xff])
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2)
    b.writeUInt16LE(n)
    return b
  }
  const u64 = (n: bigint): Buffer => {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(n)
    return b
  }
  let edf = 0
  const extra: Buffer[] = []
  if (info.port !== undefined) {
    edf |= 0x80
    extra.push(u16(info.port))
  }
  if (info.keywords !== undefined) {
    edf |= 0x20
    extra.push(cstring(info.keywords))
  }
  if (info.gameId !== undefined) {
    edf |= 0x01
    extra.push(u64(info.gameId))
  }
  return Buffer.concat([
    HEADER,
    u8(0x49),
    u8(info.protocol),
    cstring(info.name),
    cstring(info.map),
    cstring(info.folder),
    cstring(info.game),
    u16(info.appId),
    u8(info.players),
    u8(info.maxPlayers),
    u8(info.bots),
    Buffer.from(info.serverType, 'latin1'),
    Buffer.from(info.environment, 'latin1'),
    u8(info.visibility),
    u8(info.vac),
    // The Ship (app id 2400) adds mode, witnesses and duration here.
    ...(info.appId === 2400 ? [Buffer.from([0, 4, 60])] : []),
    cstring(info.version),
    ...(edf ? [u8(edf), ...extra] : []),
  ])
}

export async function startA2sResponder(
  options: { info?: Partial<A2sResponderInfo>; mode?: A2sResponderMode; host?: string } = {},
): Promise<A2sResponder> {
  const info = { ...defaultA2sInfo, ...options.info }
  const mode = options.mode ?? 'challenge'
  const host = options.host ?? '127.0.0.1'
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
  const requests: Buffer[] = []
  let challenge = 0
  socket.on('message', (message, peer) => {
    requests.push(message)
    if (mode === 'silent' || !message.subarray(0, QUERY.length).equals(QUERY)) return
    const reply = (bytes: Buffer): void => socket.send(bytes, peer.port, peer.address)
    if (mode === 'garbage') return reply(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))
    const sent = message.subarray(QUERY.length)
    const expected = Buffer.alloc(4)
    expected.writeInt32LE(challenge)
    const needsChallenge =
      mode === 'challenge-forever' || (mode !== 'no-challenge' && (sent.length !== 4 || challenge === 0 || !sent.equals(expected)))
    if (needsChallenge) {
      challenge = (Math.random() * 0x7fffffff) | 1
      const answer = Buffer.concat([HEADER, Buffer.from([0x41]), Buffer.alloc(4)])
      answer.writeInt32LE(challenge, 5)
      return reply(answer)
    }
    const full = encodeA2sInfo(info)
    reply(mode === 'truncated' ? full.subarray(0, 12) : full)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, host, () => resolve())
  })
  return {
    port: (socket.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
