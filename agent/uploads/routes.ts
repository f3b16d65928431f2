// POST /uploads/*path (game server files) and /workspace/uploads/*path (the dev workspace): a streamed upload (raw application/octet-stream, chunked or not, or
// multipart/form-data with one file) written through a temp file and renamed into place; with
// ?extract=true a zip or tar.gz is extracted into the directory `path` names, confined like
// every file route.
import fsp from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import multipart from '@fastify/multipart'
import type { AgentRoutePlugin } from '../context.ts'
import type { UploadResult } from '../../src/api/agent-game-types.ts'
import { ConfinedRoot, publicPath, sizeLimit, splitPath } from '../files/confined-fs.ts'
import { FileError } from '../files/errors.ts'
import { areaPrefix, envInt, type FileArea } from '../files/routes.ts'
import { archiveFormat, extractArchive, type ExtractLimits } from './archive.ts'
import { sweepAgentTemp } from './staging.ts'

export interface UploadRoutesOptions {
  /** Largest upload (default $ZLH_AGENT_UPLOAD_MAX_BYTES, else 1 GiB). */
  maxUploadBytes?: number
  /** Bounds on what an archive may expand to (default $ZLH_AGENT_ARCHIVE_MAX_ENTRIES / _MAX_BYTES, else 20 000 entries, 4 GiB). */
  extract?: Partial<ExtractLimits>
  /** The tree written (default the game server's). */
  area?: FileArea
}

interface UploadQuery {
  extract?: 'true' | 'false'
  format?: 'zip' | 'tar.gz' | 'tgz' | 'tar'
}

const isTooLarge = (err: unknown): boolean => (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE'

/**
 * A body stream can fail (client gone, multipart limit) while the handler is still walking
 * directories, before a pipeline listens: this listener keeps that from being an unhandled
 * 'error' event. Nothing is lost: the pipeline that reads the stream later sees it errored.
 */
function quietUntilConsumed(stream: Readable): void {
  stream.on('error', () => undefined)
}

export function createUploadRoutes(options: UploadRoutesOptions = {}): AgentRoutePlugin {
  return async (app, { ctx }) => {
    const maxBytes = options.maxUploadBytes ?? envInt('ZLH_AGENT_UPLOAD_MAX_BYTES') ?? 1024 ** 3
    const limits: ExtractLimits = {
      maxEntries: options.extract?.maxEntries ?? envInt('ZLH_AGENT_ARCHIVE_MAX_ENTRIES') ?? 20_000,
      maxTotalBytes: options.extract?.maxTotalBytes ?? envInt('ZLH_AGENT_ARCHIVE_MAX_BYTES') ?? 4 * 1024 ** 3,
    }
    const area = options.area ?? 'game'
    const root = new ConfinedRoot(ctx.paths[area])
    const tmpDir = path.join(ctx.paths.state, area === 'game' ? 'upload-tmp' : `upload-tmp-${area}`)
    // Leftovers of uploads and extractions interrupted by an agent crash (before the agent listens).
    await fsp.rm(tmpDir, { recursive: true, force: true })
    await sweepAgentTemp(ctx.paths[area], ctx.log.child({ component: 'uploads', area }))
    await fsp.mkdir(tmpDir, { recursive: true, mode: 0o700 })
    await app.register(multipart, {
      limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 11 },
      throwFileSizeLimit: true,
      preservePath: true,
    })
    app.addContentTypeParser('*', (_req, payload, done) => {
      done(null, payload)
    })

    app.post<{ Params: { '*': string }; Querystring: UploadQuery }>(
      `${areaPrefix(area)}/uploads/*`,
      {
        schema: {
          params: { type: 'object', properties: { '*': { type: 'string' } } },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              extract: { type: 'string', enum: ['true', 'false'] },
              format: { type: 'string', enum: ['zip', 'tar.gz', 'tgz', 'tar'] },
            },
          },
          tags: [area === 'game' ? 'uploads' : 'workspace uploads'],
          summary: 'Upload a file (raw or multipart), or an archive to extract with ?extract=true',
        },
      },
      async (req, reply) => {
        const target = req.params['*']
        publicPath(target)
        const announced = Number(req.headers['content-length'] ?? 0)
        if (announced > maxBytes + 64 * 1024) throw new FileError('FILE_TOO_LARGE', `content-length ${announced} exceeds ${maxBytes} bytes`)
        let stream: Readable
        let fileName: string
        let filePath = target
        if (req.isMultipart()) {
          const part = await req.file().catch((err: unknown) => {
            throw isTooLarge(err) ? new FileError('FILE_TOO_LARGE', `the upload exceeds ${maxBytes} bytes`) : err
          })
          if (!part) throw new FileError('UPLOAD_BAD_CONTENT_TYPE', 'the multipart body has no file part')
          stream = part.file
          quietUntilConsumed(stream)
          // busboy truncates at the limit and says so with 'limit'; fail the write instead of keeping a cut file.
          part.file.on('limit', () => {
            part.file.destroy(new FileError('FILE_TOO_LARGE', `the upload exceeds ${maxBytes} bytes`))
          })
          fileName = part.filename
          if (req.query.extract !== 'true') {
            const nameParts = publicPath(fileName)
            if (nameParts.length !== 1)
              throw new FileError('FILE_PATH_INVALID', `the uploaded file name ${JSON.stringify(fileName)} must be a plain name`)
            filePath = [...splitPath(target), nameParts[0]].join('/')
          }
        } else {
          stream = (req.body as Readable | undefined) ?? req.raw
          quietUntilConsumed(stream)
          fileName = target
        }
        try {
          if (req.query.extract !== 'true') {
            const bytes = await root.writeFile(filePath, stream, maxBytes)
            const result: UploadResult = { path: filePath, bytes }
            return reply.code(201).send(result)
          }
          const format = archiveFormat(fileName, req.query.format)
          const tmp = path.join(tmpDir, randomBytes(8).toString('hex'))
          try {
            const limit = sizeLimit(maxBytes, 'the upload')
            await pipeline(stream, limit, createWriteStream(tmp, { mode: 0o600 }))
            const extracted = await extractArchive(root, tmp, format, target, limits)
            const result: UploadResult = { path: splitPath(target).join('/'), bytes: limit.bytes, extracted }
            return reply.code(201).send(result)
          } finally {
            await fsp.rm(tmp, { force: true })
          }
        } catch (err) {
          if (isTooLarge(err)) throw new FileError('FILE_TOO_LARGE', `the upload exceeds ${maxBytes} bytes`)
          throw err
        }
      },
    )
  }
}

export const uploadRoutes = createUploadRoutes()
export const workspaceUploadRoutes = createUploadRoutes({ area: 'workspace' })
