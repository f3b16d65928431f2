// The game spec as the supervisor uses it: the GameServer's `server`, `supervision`, `health` and
// `idle` with every CRD default filled in, the JSON schemas the PUT /game and POST /game/command
// routes validate against, and equality.
import path from 'node:path'
import type { EffectiveGameSpec } from '../../src/api/agent-game-types.ts'
import { GameError } from './errors.ts'

const envItem = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    value: { type: 'string', maxLength: 32768 },
  },
} as const

/** JSON schema of the PUT /game body; the same constraints as crds/gameservers.zerolaghub.dev.yaml. */
export const gameSpecRequestSchema = {
  type: 'object',
  required: ['server'],
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      required: ['command'],
      additionalProperties: false,
      properties: {
        command: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 4096 } },
        args: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 4096 } },
        env: { type: 'array', maxItems: 256, items: envItem },
        workingDir: { type: 'string', maxLength: 4096, pattern: '^[^\\u0000]*$' },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        stopCommand: { type: 'string', maxLength: 1024 },
        gracePeriodSeconds: { type: 'integer', minimum: 0, maximum: 3600 },
      },
    },
    supervision: {
      type: 'object',
      additionalProperties: false,
      properties: {
        restartPolicy: { type: 'string', enum: ['Always', 'OnFailure', 'Never'] },
        backoffSeconds: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'integer', minimum: 0, maximum: 86400 } },
        resetAfterSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
        maxConsecutiveFailures: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
    game: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    health: {
      type: 'object',
      additionalProperties: false,
      properties: {
        probe: { type: 'string', enum: ['minecraft', 'a2s', 'tcp', 'none'] },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        periodSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: 60 },
        failureThreshold: { type: 'integer', minimum: 1, maximum: 100 },
        initialDelaySeconds: { type: 'integer', minimum: 0, maximum: 3600 },
      },
    },
    idle: {
      type: 'object',
      required: ['stopAfterSeconds'],
      additionalProperties: false,
      properties: {
        stopAfterSeconds: { type: 'integer', minimum: 5, maximum: 2592000 },
        wake: { type: 'string', enum: ['onConnect', 'never'] },
        level: { type: 'string', enum: ['process', 'container'] },
      },
    },
    running: { type: 'boolean' },
  },
} as const

/** Longest console line POST /game/command writes (a Minecraft chat/command line is at most 256 characters; consoles take longer ones). */
export const MAX_COMMAND_CHARS = 4096

/** JSON schema of the POST /game/command body: one line, no line breaks or NUL. */
export const gameCommandRequestSchema = {
  type: 'object',
  required: ['line'],
  additionalProperties: false,
  properties: {
    line: { type: 'string', minLength: 1, maxLength: MAX_COMMAND_CHARS, pattern: '^[^\\u0000\\r\\n]*$' },
  },
} as const

/** Fills in the CRD defaults (src/api's one definition, shared with the controller). Assumes the
 * request passed gameSpecRequestSchema. */
export { effectiveGameSpec as effectiveSpec } from '../../src/api/game-spec.ts'

export function sameSpec(a: EffectiveGameSpec | null, b: EffectiveGameSpec | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** Whether two specs run the same process the same way (server and supervision; health and idle aside). */
export function sameProcessSpec(a: EffectiveGameSpec | null, b: EffectiveGameSpec | null): boolean {
  return JSON.stringify([a?.server, a?.supervision]) === JSON.stringify([b?.server, b?.supervision])
}

/** The working directory inside the server root; refuses anything that would leave it. */
export function workingDirectory(serverRoot: string, workingDir: string | undefined): string {
  if (!workingDir) return serverRoot
  if (path.isAbsolute(workingDir) || workingDir.split('/').includes('..') || workingDir.includes('\0')) {
    throw new GameError(
      'GAME_SPEC_INVALID',
      `server.workingDir "${workingDir}" must be a relative path inside the server root without ".."`,
    )
  }
  return path.join(serverRoot, workingDir)
}
