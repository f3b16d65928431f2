// The game-protocol module: health probes in a game's own query protocol (probe.ts), the Minecraft wire
// format (minecraft.ts) and the Minecraft front door that holds a game port while the game sleeps or routes
// connections by host name (front-door.ts). Start with probeGame and createMinecraftFrontDoor. Imports
// only node: builtins.
export * from './types.ts'
export { createMinecraftFrontDoor, DEFAULT_HOLD_TIMEOUT_MS, MAX_HOLD_TIMEOUT_MS, type MinecraftFrontDoor } from './front-door.ts'
export { probeGame, ProbeError, parseA2sInfo, a2sInfoRequest, MAX_PROBE_TIMEOUT_MS, type A2sInfo, type ProbeFailure } from './probe.ts'
export {
  flattenChatComponent,
  MinecraftProtocolError,
  normalizeHandshakeHost,
  parseHandshake,
  parseLoginStart,
  readPacket,
  readVarInt,
  stripFormattingCodes,
  writeHandshake,
  writeLoginDisconnect,
  writePacket,
  writeString,
  writeVarInt,
} from './minecraft.ts'
