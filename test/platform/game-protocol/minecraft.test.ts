// The Minecraft wire format (wiki.vg "Protocol": Data types VarInt and String, Handshake, Login Start;
// "Server List Ping"): round trips, the documented VarInt examples, caps, and the handshake host clean-up.
import t from 'tap'
import {
  flattenChatComponent,
  MinecraftProtocolError,
  normalizeHandshakeHost,
  parseHandshake,
  parseLoginStart,
  readPacket,
  readString,
  readVarInt,
  stripFormattingCodes,
  writeHandshake,
  writePacket,
  writeString,
  writeVarInt,
} from '../../../src/platform/game-protocol/minecraft.ts'

t.test('VarInt: the sample values of wiki.vg "Protocol" (Data types), both ways', async (t) => {
  const samples: [number, number[]][] = [
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [255, [0xff, 0x01]],
    [25565, [0xdd, 0xc7, 0x01]],
    [2097151, [0xff, 0xff, 0x7f]],
    [2147483647, [0xff, 0xff, 0xff, 0xff, 0x07]],
    [-1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    [-2147483648, [0x80, 0x80, 0x80, 0x80, 0x08]],
  ]
  for (const [value, bytes] of samples) {
    t.same([...writeVarInt(value)], bytes, `write ${value}`)
    t.same(readVarInt(Buffer.from(bytes)), { value, size: bytes.length }, `read ${value}`)
  }
  t.equal(readVarInt(Buffer.from([0x80, 0x80])), undefined, 'incomplete: more bytes needed')
  t.throws(() => readVarInt(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), MinecraftProtocolError, 'a sixth byte is refused')
})

t.test('String: byte length prefix, character cap, incomplete input', async (t) => {
  const encoded = writeString('héllo')
  t.same(readString(encoded, 0, 16), { value: 'héllo', size: encoded.length })
  t.equal(readString(encoded.subarray(0, 3), 0, 16), undefined)
  t.throws(() => readString(writeString('x'.repeat(17)), 0, 16), /over the 16-character cap/)
  t.throws(() => readString(writeString('x'.repeat(49)), 0, 16), /bytes is over/, 'the byte length is checked before the bytes are awaited')
  t.throws(() => readString(writeVarInt(-3), 0, 16), /negative/)
})

t.test('packets: framed by a VarInt length; zero, negative and over-cap lengths refused', async (t) => {
  const packet = writePacket(0x01, Buffer.from([1, 2, 3]))
  t.same(readPacket(packet, 64), { value: { id: 1, payload: Buffer.from([1, 2, 3]) }, size: 5 })
  t.equal(readPacket(packet.subarray(0, 3), 64), undefined)
  t.throws(() => readPacket(writeVarInt(0), 64), /not positive/)
  t.throws(() => readPacket(writeVarInt(-1), 64), /not positive/)
  t.throws(() => readPacket(writeVarInt(65), 64), /over the 64-byte cap/)
})

t.test('handshake: host cleaned of Forge markers, a trailing dot and case; next state 1, 2 or 3', async (t) => {
  const parse = (host: string, nextState = 2) =>
    parseHandshake(readPacket(writeHandshake({ protocolVersion: 769, host, port: 25565, nextState }), 1024)!.value)
  t.same(parse('Play.Example.COM.\0FML3\0'), { protocolVersion: 769, host: 'play.example.com', port: 25565, nextState: 2 })
  t.equal(parse('mc.example.com\0FML\0').host, 'mc.example.com')
  t.equal(parse('x', 3).nextState, 3, 'transfer (1.20.5+)')
  t.throws(() => parse('x', 0), /next state 0/)
  t.throws(() => parse('x'.repeat(256)), /255-character cap/)
  t.throws(() => parseHandshake({ id: 0x00, payload: Buffer.from([0x01]) }), /overruns/)
  t.equal(normalizeHandshakeHost('A.B.'), 'a.b')
})

t.test('login start: the name only, with or without the UUID newer versions append', async (t) => {
  t.same(parseLoginStart({ id: 0, payload: writeString('Steve') }), { name: 'Steve' })
  t.same(parseLoginStart({ id: 0, payload: Buffer.concat([writeString('Alex'), Buffer.alloc(16, 7)]) }), { name: 'Alex' })
  t.throws(() => parseLoginStart({ id: 0, payload: writeString('a'.repeat(17)) }), /16-character cap/)
})

t.test('chat components flatten to plain text without formatting codes', async (t) => {
  t.equal(stripFormattingCodes('§aGreen §lbold§r end§'), 'Green bold end')
  t.equal(flattenChatComponent({ text: 'A', extra: [{ text: '§cB', extra: [{ text: 'C' }] }, 'D', { translate: 'k.e' }] }), 'ABCDk.e')
  t.equal(flattenChatComponent([{ text: 'x' }, 'y']), 'xy')
  t.equal(flattenChatComponent({ text: 'long'.repeat(100) }, 10), 'longlonglo')
  let deep: unknown = { text: 'bottom' }
  for (let i = 0; i < 1000; i++) deep = { text: '', extra: [deep] }
  t.equal(flattenChatComponent(deep), '', 'depth is bounded (no stack overflow)')
})
