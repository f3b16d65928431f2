// JSON schemas of the core routes: validate every body/param at the edge and document the API.
import { NAME_PATTERN } from '../runtimes/store.ts'
import { outboundPolicySchema } from '../../src/api/outbound.ts'

export const errorResponseSchema = {
  type: 'object',
  required: ['code', 'message', 'statusCode'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    statusCode: { type: 'integer' },
    detail: { type: 'object', additionalProperties: true },
  },
} as const

const nameSchema = { type: 'string', pattern: NAME_PATTERN, not: { const: 'current' } } as const

export const runtimeParams = {
  type: 'object',
  required: ['name', 'version'],
  properties: { name: nameSchema, version: nameSchema },
} as const

export const runtimeNameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: nameSchema },
} as const

export const installBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version', 'url', 'sha256'],
  properties: {
    name: nameSchema,
    version: nameSchema,
    url: { type: 'string', pattern: '^https?://', maxLength: 4096 },
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    sizeBytes: { type: 'integer', minimum: 0 },
    activate: { type: 'boolean' },
    outbound: outboundPolicySchema,
    verify: {
      type: 'object',
      additionalProperties: false,
      required: ['command'],
      properties: {
        command: { type: 'array', minItems: 1, maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 4096 } },
        expectOutput: { type: 'string', maxLength: 4096 },
      },
    },
  },
} as const

export const switchBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: { version: nameSchema },
} as const

export const removeQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { force: { type: 'string', enum: ['true', 'false', '1', '0'] } },
} as const

const installedRuntimeSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    current: { type: ['string', 'null'] },
    binDir: { type: 'string' },
    versions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          sha256: { type: 'string' },
          installedAt: { type: 'string' },
          current: { type: 'boolean' },
        },
      },
    },
  },
} as const

const installProgressSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    phase: { type: 'string', enum: ['queued', 'downloading', 'verifying', 'committing'] },
    receivedBytes: { type: 'integer' },
    totalBytes: { type: 'integer' },
  },
} as const

export const runtimeListSchema = {
  type: 'object',
  properties: {
    runtimes: { type: 'array', items: installedRuntimeSchema },
    installing: { type: 'array', items: installProgressSchema },
  },
} as const

export const installResultSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    downloaded: { type: 'boolean' },
    current: { type: ['string', 'null'] },
    previous: { type: ['string', 'null'] },
  },
} as const

export const removeResultSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, version: { type: 'string' }, current: { type: ['string', 'null'] } },
} as const

export const codeServerStateSchema = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean' },
    phase: { type: 'string', enum: ['NotInstalled', 'Stopped', 'Starting', 'Running', 'Unhealthy', 'Crashed', 'Stopping'] },
    bindAddr: { type: 'string' },
    folder: { type: 'string' },
    pid: { type: 'integer' },
    adopted: { type: 'boolean' },
    version: { type: ['string', 'null'] },
    restarts: { type: 'integer' },
    nextRestartAt: { type: 'string' },
    lastExit: {
      type: 'object',
      properties: { at: { type: 'string' }, code: { type: ['integer', 'null'] }, signal: { type: ['string', 'null'] } },
    },
    message: { type: 'string' },
  },
} as const

export const devEnvStateSchema = {
  type: ['object', 'null'],
  properties: {
    user: { type: 'string' },
    home: { type: 'string' },
    workspace: { type: 'string' },
    path: { type: 'string' },
    profileScript: { type: 'string' },
    hostChanges: { type: 'string', enum: ['applied', 'skipped'] },
  },
} as const

export const statusSchema = {
  type: 'object',
  properties: {
    agentVersion: { type: 'string' },
    vmid: { type: 'string' },
    startedAt: { type: 'string' },
    uptimeSeconds: { type: 'number' },
    provisioningComplete: { type: 'boolean' },
    runtimes: { type: 'array', items: installedRuntimeSchema },
    installing: { type: 'array', items: installProgressSchema },
    devEnv: devEnvStateSchema,
    codeServer: { ...codeServerStateSchema, type: ['object', 'null'] },
    game: {},
    components: { type: 'object', additionalProperties: true },
  },
} as const
