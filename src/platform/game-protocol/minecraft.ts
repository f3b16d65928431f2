// The Minecraft Java Edition wire format, as far as a proxy or a probe needs it: the uncompressed packets
// of the handshaking, status and login states, before encryption or compression start.
//
// Source: wiki.vg "Protocol" (Data types: VarInt, String; Packet format without compression; Handshake;
// Login Start; Disconnect (login)) and "Server List Ping" (Status Request/Response, Ping/Pong, the 1.6
// legacy ping), now mirrored at minecraft.wiki "Java Edition protocol".
//
// Guarantees: every reader is bounded — a VarInt longer than 5 bytes, a length that is negative or over
// the caller's cap, a string over its character cap, or a packet whose fields overrun its frame throws a
// `MinecraftProtocolError`; a reader that needs more bytes returns `undefined` and never throws for that.
// Nothing here does I/O.
import type { MinecraftHandshake } from './types.ts'

/** A VarInt is at most 5 bytes (32 bits, 7 per byte). */
export const MAX_VARINT_BYTES = 5
/** The handshake's server address is a String(255). */
export const MAX_HOST_CHARS = 255
/** Login Start's name is a String(16). */
export const MAX_PLAYER_NAME_CHARS = 16
/** A handshake frame is at most ~780 bytes (id, VarInt, String(255) in UTF-8, u16, VarInt); 1 KiB is generous. */
export const MAX_HANDSHAKE_BYTES = 1024
/** The server refuses anything over 2^21 - 1 bytes in an uncompressed frame (3-byte VarInt length). */
export const MAX_PACKET_BYTES = 2_097_151

export class MinecraftProtocolError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MinecraftProtocolError'
  }
}

export interface Decoded<T> {
  value: T
  /** Bytes consumed. */
  size: number
}

/** Reads a VarInt (two's complement int32) at `offset`; `undefined` when the bytes end first. */
export function readVarInt(buf: Uint8Array, offset = 0): Decoded<number> | undefined {
  let value = 0
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= buf.length) return undefined
    const byte = buf[offset + i]!
    value |= (byte & 0x7f) << (7 * i)
    if ((byte & 0x80) === 0) return { value: value | 0, size: i + 1 }
  }
  throw new MinecraftProtocolError(`VarInt longer than ${MAX_VARINT_BYTES} bytes`)
}

export function writeVarInt(value: number): Buffer {
  const bytes: number[] = []
  let rest = value >>> 0
  do {
    let byte = rest & 0x7f
    rest >>>= 7
    if (rest !== 0) byte |= 0x80
    bytes.push(byte)
  } while (rest !== 0)
  return Buffer.from(bytes)
}

/** A String: VarInt byte length, then UTF-8. Capped at `maxChars` characters (and 3 bytes each, as the server does). */
export function readString(buf: Buffer, offset: number, maxChars: number): Decoded<string> | undefined {
  const length = readVarInt(buf, offset)
  if (length === undefined) return undefined
  if (length.value < 0) throw new MinecraftProtocolError(`string length ${length.value} is negative`)
  if (length.value > maxChars * 3) throw new MinecraftProtocolError(`string of ${length.value} bytes is over the ${maxChars}-character cap`)
  const start = offset + length.size
  if (start + length.value > buf.length) return undefined
  const value = buf.toString('utf8', start, start + length.value)
  if (value.length > maxChars)
    throw new MinecraftProtocolError(`string of ${value.length} characters is over the ${maxChars}-character cap`)
  return { value, size: length.size + length.value }
}

export function writeString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8')
  return Buffer.concat([writeVarInt(bytes.length), bytes])
}

export interface RawPacket {
  id: number
  /** The fields after the packet id. */
  payload: Buffer
}

/**
 * Reads one length-framed packet at the start of `buf`; `undefined` until all its bytes are there.
 * Throws on a length that is not positive or is over `maxBytes` (checked before waiting for the body).
 */
export function readPacket(buf: Buffer, maxBytes: number): Decoded<RawPacket> | undefined {
  const length = readVarInt(buf, 0)
  if (length === undefined) return undefined
  if (length.value <= 0) throw new MinecraftProtocolError(`packet length ${length.value} is not positive`)
  if (length.value > maxBytes) throw new MinecraftProtocolError(`packet of ${length.value} bytes is over the ${maxBytes}-byte cap`)
  const end = length.size + length.value
  if (buf.length < end) return undefined
  const frame = buf.subarray(length.size, end)
  const id = readVarInt(frame, 0)
  if (id === undefined) throw new MinecraftProtocolError('packet id overruns its frame')
  return { value: { id: id.value, payload: frame.subarray(id.size) }, size: end }
}

export function writePacket(id: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat([writeVarInt(id), ...fields])
  return Buffer.concat([writeVarInt(body.length), body])
}

function need<T>(decoded: Decoded<T> | undefined, what: string): Decoded<T> {
  if (decoded === undefined) throw new MinecraftProtocolError(`${what} overruns its packet`)
  return decoded
}

/**
 * The host as a router should match it: cut at the first NUL (Forge appends `\0FML\0`, `\0FML2\0`,
 * `\0FML3\0`; BungeeCord's IP forwarding appends fields the same way), a trailing dot (a fully qualified
 * name) dropped, lower-cased (host names are case-insensitive).
 */
export function normalizeHandshakeHost(raw: string): string {
  const nul = raw.indexOf('\0')
  let host = nul >= 0 ? raw.slice(0, nul) : raw
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host.toLowerCase()
}

/** Handshake (state handshaking, packet 0x00): protocol VarInt, address String(255), port u16, next state VarInt. */
export function parseHandshake(packet: RawPacket): MinecraftHandshake {
  if (packet.id !== 0x00) throw new MinecraftProtocolError(`expected a handshake (packet 0x00), got packet 0x${packet.id.toString(16)}`)
  const p = packet.payload
  const protocol = need(readVarInt(p, 0), 'protocol version')
  const host = need(readString(p, protocol.size, MAX_HOST_CHARS), 'server address')
  const portAt = protocol.size + host.size
  if (portAt + 2 > p.length) throw new MinecraftProtocolError('server port overruns its packet')
  const port = p.readUInt16BE(portAt)
  const next = need(readVarInt(p, portAt + 2), 'next state')
  if (next.value !== 1 && next.value !== 2 && next.value !== 3)
    throw new MinecraftProtocolError(`next state ${next.value} is not 1, 2 or 3`)
  return { protocolVersion: protocol.value, host: normalizeHandshakeHost(host.value), port, nextState: next.value }
}

export function writeHandshake(handshake: { protocolVersion: number; host: string; port: number; nextState: number }): Buffer {
  const port = Buffer.alloc(2)
  port.writeUInt16BE(handshake.port)
  return writePacket(0x00, writeVarInt(handshake.protocolVersion), writeString(handshake.host), port, writeVarInt(handshake.nextState))
}

/** Login Start (state login, packet 0x00): the player's name; the UUID (1.19.1+) or signature data after it are ignored. */
export function parseLoginStart(packet: RawPacket): { name: string } {
  if (packet.id !== 0x00) throw new MinecraftProtocolError(`expected login start (packet 0x00), got packet 0x${packet.id.toString(16)}`)
  return { name: need(readString(packet.payload, 0, MAX_PLAYER_NAME_CHARS), 'player name').value }
}

export interface StatusResponse {
  version: { name: string; protocol: number }
  players: { max: number; online: number; sample?: { name: string; id: string }[] }
  /** A JSON text component or a plain string. */
  description: unknown
}

/** Status Response (state status, packet 0x00): one String holding the JSON. */
export function writeStatusResponse(status: StatusResponse): Buffer {
  return writePacket(0x00, writeString(JSON.stringify(status)))
}

/** Pong (state status, packet 0x01): the Ping's 8-byte payload echoed. */
export function writePong(payload: Buffer): Buffer {
  return writePacket(0x01, payload)
}

/** Disconnect (state login, packet 0x00): a JSON text component, even in versions that use NBT elsewhere. */
export function writeLoginDisconnect(message: string): Buffer {
  return writePacket(0x00, writeString(JSON.stringify({ text: message })))
}

/**
 * The answer to a pre-1.7 server-list ping (first byte 0xFE): a Kick packet 0xFF, a u16 count of UTF-16
 * code units, then UTF-16BE `§1\0<protocol>\0<version>\0<motd>\0<online>\0<max>` (the 1.4–1.6 format).
 */
export function writeLegacyPingAnswer(answer: { motd: string; online: number; max: number; version: string }): Buffer {
  const text = ['§1', '127', answer.version, answer.motd, String(answer.online), String(answer.max)].join('\0')
  const units = Buffer.from(text, 'utf16le').swap16()
  const header = Buffer.alloc(3)
  header[0] = 0xff
  header.writeUInt16BE(text.length, 1)
  return Buffer.concat([header, units])
}

/** Removes legacy formatting codes: `§` followed by one character. */
export function stripFormattingCodes(text: string): string {
  return text.replace(/§./gsu, '').replace(/§$/u, '')
}

/**
 * A chat component as plain text: a string, `{text, extra: [...]}` (recursively), or an array of those;
 * `translate` keys are shown as their key. Depth and output length bounded.
 */
export function flattenChatComponent(component: unknown, maxChars = 512): string {
  const parts: string[] = []
  let length = 0
  const walk = (node: unknown, depth: number): void => {
    if (length >= maxChars || depth > 16) return
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') {
      const text = String(node)
      parts.push(text)
      length += text.length
    } else if (Array.isArray(node)) {
      for (const child of node) walk(child, depth + 1)
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>
      if (typeof record.text === 'string') walk(record.text, depth + 1)
      else if (typeof record.translate === 'string') walk(record.translate, depth + 1)
      if (Array.isArray(record.extra)) walk(record.extra, depth + 1)
    }
  }
  walk(component, 0)
  return stripFormattingCodes(parts.join('')).slice(0, maxChars)
}
