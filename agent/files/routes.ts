// Routes of the file manager: GET|PUT|DELETE /files/*path and POST /files/*path?op=mkdir|rename,
// all confined to one root (see confined-fs.ts for how): the game server's files under /files,
// the dev user's workspace under /workspace/files (what a DevServer's file API shows).
import type { Readable } from 'node:stream'
import type { AgentRoutePlugin } from '../context.ts'
import { ConfinedRoot, publicPath } from './confined-fs.ts'
import { FileError } from './errors.ts'

/** Which tree a set of file routes serves: the game server's files, or the dev workspace. */
export type FileArea = 'game' | 'workspace'

/** Where an area's routes live: `/files/*` for the game, `/workspace/files/*` for the workspace. */
export const areaPrefix = (area: FileArea): string => (area === 'game' ? '' : '/workspace')

export interface FileRoutesOptions {
  /** Largest file PUT accepts (default $ZLH_AGENT_FILE_MAX_BYTES, else 512 MiB). */
  maxWriteBytes?: number
  /** The tree served (default the game server's). */
  area?: FileArea
}

const pathParams = { type: 'object', properties: { '*': { type: 'string' } } } as const

/** Reads a positive integer from the environment (operator overrides of the defaults). */
export function envInt(name: string): number | undefined {
  const v = Number(process.env[name])
  return Number.isInteger(v) && v > 0 ? v : undefined
}

export function createFileRoutes(options: FileRoutesOptions = {}): AgentRoutePlugin {
  return async (app, { ctx }) => {
    const maxWriteBytes = options.maxWriteBytes ?? envInt('ZLH_AGENT_FILE_MAX_BYTES') ?? 512 * 1024 * 1024
    const area = options.area ?? 'game'
    const files = new ConfinedRoot(ctx.paths[area])
    const base = `${areaPrefix(area)}/files`
    const tags = [area === 'game' ? 'files' : 'workspace files']
    // Every body here is a raw stream (a PUT of a .json file is a file, not a JSON request):
    // streamed to disk as it arrives, never buffered.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', (_req, payload, done) => {
      done(null, payload)
    })
    // The agent's own temp files and archive staging (TEMP_PREFIX) are neither served nor written.
    app.addHook('preHandler', async (req) => {
      const p = (req.params as { '*'?: string } | undefined)?.['*']
      if (typeof p === 'string') publicPath(p)
    })

    app.get(base, { schema: { tags, summary: "The root's listing" } }, async () => {
      const result = await files.open('')
      return result.kind === 'directory' ? result.listing : null
    })

    app.get<{ Params: { '*': string } }>(
      `${base}/*`,
      { schema: { params: pathParams, tags, summary: "A directory listing (JSON) or a file's bytes" } },
      async (req, reply) => {
        const result = await files.open(req.params['*'])
        if (result.kind === 'directory') return result.listing
        reply.header('content-type', 'application/octet-stream')
        reply.header('content-length', String(result.size))
        return reply.send(result.handle.createReadStream())
      },
    )

    app.put<{ Params: { '*': string } }>(
      `${base}/*`,
      { schema: { params: pathParams, tags, summary: 'Write a file (temp file + rename), creating parent directories' } },
      async (req, reply) => {
        const announced = Number(req.headers['content-length'] ?? 0)
        if (announced > maxWriteBytes) throw new FileError('FILE_TOO_LARGE', `content-length ${announced} exceeds ${maxWriteBytes} bytes`)
        const bytes = await files.writeFile(req.params['*'], (req.body as Readable | undefined) ?? req.raw, maxWriteBytes)
        return reply.code(201).send({ path: req.params['*'], bytes })
      },
    )

    app.delete<{ Params: { '*': string }; Querystring: { recursive?: 'true' | 'false' } }>(
      `${base}/*`,
      {
        schema: {
          params: pathParams,
          querystring: { type: 'object', properties: { recursive: { type: 'string', enum: ['true', 'false'] } } },
          tags,
        },
      },
      async (req, reply) => {
        await files.remove(req.params['*'], req.query.recursive === 'true')
        return reply.code(204).send()
      },
    )

    app.post<{ Params: { '*': string }; Querystring: { op: 'mkdir' | 'rename' } }>(
      `${base}/*`,
      {
        schema: {
          params: pathParams,
          querystring: { type: 'object', required: ['op'], properties: { op: { type: 'string', enum: ['mkdir', 'rename'] } } },
          tags,
        },
      },
      async (req, reply) => {
        const path = req.params['*']
        if (req.query.op === 'mkdir') {
          await files.mkdir(path)
          return reply.code(201).send({ path })
        }
        const to = await renameTarget((req.body as Readable | undefined) ?? req.raw)
        publicPath(to)
        await files.rename(path, to)
        return { path: to }
      },
    )
  }
}

export const fileRoutes = createFileRoutes()
export const workspaceFileRoutes = createFileRoutes({ area: 'workspace' })

/** Reads the small JSON body of a rename: {"to": "<new path>"}. */
async function renameTarget(body: Readable): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += (chunk as Buffer).length
    if (size > 64 * 1024) throw new FileError('FILE_BAD_OPERATION', 'the rename body is larger than 64 KiB')
    chunks.push(chunk as Buffer)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    parsed = null
  }
  const to = (parsed as { to?: unknown } | null)?.to
  if (typeof to !== 'string') throw new FileError('FILE_BAD_OPERATION', 'rename needs a JSON body {"to": "<new path>"}')
  return to
}
