// The artifact server: serves the files of one directory to containers and, when started with an
// upload token, accepts authenticated uploads into it. `zlh up` runs it on loopback for its own
// artifacts; `zlh artifacts serve` runs it for a cluster (manifests/optional/artifact-server).
//
// Routes
//   GET|HEAD /<name>   a file of the directory, by file name only (no paths: nothing outside the
//                      directory can be named; names start with a letter or digit, so temporary
//                      files, which start with a dot, are never served)
//   GET /healthz       200 "ok" (readiness)
//   PUT /<name>        only with an upload token: `Authorization: Bearer <token>` (compared in
//                      constant time), `x-zlh-sha256: <hex>` required, body at most maxUploadBytes
//   anything else      404 (405 for PUT without an upload token)
//
// Upload guarantees: the body goes to a temporary file in the same directory (`.upload-…`), is
// hashed while written, fsynced, and renamed over <name> only when its sha256 equals the header;
// a mismatch (400), an over-size body (413) or an aborted connection removes the temporary file,
// so a reader sees the old file or the complete new one, never a part. Concurrent uploads of one
// name each write their own temporary file; the last rename wins, whole. The token is never
// logged or echoed.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, rm, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fsyncDir } from '../../platform/durable-file.ts'
import { formatMessage } from '../../platform/error-catalog.ts'
import { artifactServerErrors, type ArtifactServerErrorCode } from './errors.ts'

export interface ArtifactServer {
  /** http://<host>:<port> */
  baseUrl: string
  url(fileName: string): string
  /** GET requests served per file name. */
  requests(fileName: string): number
  close(): Promise<void>
}

export interface ArtifactServerOptions {
  host?: string
  port?: number
  /** Enables PUT; without it PUT is 405. */
  uploadToken?: string
  /** Largest accepted upload body (default 2 GiB). */
  maxUploadBytes?: number
  /** One line per upload outcome; never given the token. */
  onUpload?: (event: { name: string; status: number; sizeBytes?: number; sha256?: string; reason?: string }) => void
}

export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3
/** A file name the server serves or accepts: no separators, no dot first, at most 255 bytes. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/
const SHA256_HEX = /^[a-f0-9]{64}$/

export async function startArtifactServer(dir: string, opts: ArtifactServerOptions = {}): Promise<ArtifactServer> {
  const counts = new Map<string, number>()
  const upload =
    opts.uploadToken !== undefined
      ? uploader(dir, opts.uploadToken, opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES, opts.onUpload)
      : undefined
  // `expectsContinue`: the client sent `Expect: 100-continue` and waits for 100 Continue before its
  // body, so a refused upload is answered before a byte of it is sent (a client still writing when
  // the connection closes would see EPIPE instead of the answer).
  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    const name = fileNameOf(req.url)
    if (req.method === 'PUT') {
      if (upload === undefined) {
        reject(req, res, 'ZLH_ARTIFACTS_UPLOADS_OFF', undefined, { allow: 'GET, HEAD' })
        return
      }
      upload(req, res, name, expectsContinue)
      return
    }
    if (expectsContinue) res.writeContinue()
    if ((req.method !== 'GET' && req.method !== 'HEAD') || name === undefined) {
      res.writeHead(404).end()
      return
    }
    if (name === 'healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 }).end(req.method === 'HEAD' ? undefined : 'ok\n')
      return
    }
    if (!SAFE_NAME.test(name)) {
      res.writeHead(404).end()
      return
    }
    const file = join(dir, name)
    stat(file).then(
      (st) => {
        if (!st.isFile()) {
          res.writeHead(404).end()
          return
        }
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': st.size })
        if (req.method === 'HEAD') {
          res.end()
          return
        }
        counts.set(name, (counts.get(name) ?? 0) + 1)
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res)
      },
      () => {
        res.writeHead(404).end()
      },
    )
  }
  const server: Server = createServer((req, res) => handle(req, res, false))
  server.on('checkContinue', (req, res) => handle(req, res, true))
  server.keepAliveTimeout = 1000
  server.headersTimeout = 20_000
  // A 2 GiB upload over a slow link takes a while; the body must still arrive within an hour.
  server.requestTimeout = 60 * 60_000
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', rejectListen)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    baseUrl,
    url: (fileName) => `${baseUrl}/${encodeURIComponent(fileName)}`,
    requests: (fileName) => counts.get(fileName) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Answers with a catalog error (`specific` names this case) and closes the connection (the rest
 * of a refused body is not read). */
function reject(
  req: IncomingMessage,
  res: ServerResponse,
  code: ArtifactServerErrorCode,
  specific?: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const entry = artifactServerErrors.entries[code]
  const status = entry.httpStatus
  const body = `${JSON.stringify({ status, code, message: formatMessage(artifactServerErrors.message(code), specific), hint: entry.hint })}\n`
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close', ...headers })
  res.end(body)
  req.resume()
}

function tokenMatches(expected: Buffer, header: string | undefined): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? '')
  // Compare digests, so neither the length nor the content of the token leaks through timing.
  const given = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest()
  return timingSafeEqual(given, createHash('sha256').update(expected).digest()) && match !== null
}

type UploadHandler = (req: IncomingMessage, res: ServerResponse, name: string | undefined, expectsContinue: boolean) => void

function uploader(dir: string, token: string, maxBytes: number, onUpload: ArtifactServerOptions['onUpload']): UploadHandler {
  const expected = Buffer.from(token, 'utf8')
  if (expected.length === 0)
    throw new Error('the upload token is empty: write a random token (e.g. openssl rand -hex 32) into the token file')
  const done = (name: string, status: number, extra: { sizeBytes?: number; sha256?: string; reason?: string } = {}): void =>
    onUpload?.({ name, status, ...extra })
  return (req, res, name, expectsContinue) => {
    if (!tokenMatches(expected, req.headers.authorization)) {
      reject(req, res, 'ZLH_ARTIFACTS_TOKEN_REQUIRED', undefined, { 'www-authenticate': 'Bearer' })
      done(name ?? '(unreadable)', 401, { reason: 'token' })
      return
    }
    if (name === undefined || !SAFE_NAME.test(name) || name === 'healthz') {
      reject(req, res, 'ZLH_ARTIFACTS_BAD_NAME')
      done('(bad name)', 400, { reason: 'name' })
      return
    }
    const wanted = String(req.headers['x-zlh-sha256'] ?? '').toLowerCase()
    if (!SHA256_HEX.test(wanted)) {
      reject(req, res, 'ZLH_ARTIFACTS_SHA256_REQUIRED')
      done(name, 400, { reason: 'sha256 header' })
      return
    }
    const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined
    if (declared !== undefined && declared > maxBytes) {
      reject(req, res, 'ZLH_ARTIFACTS_TOO_LARGE', `content-length ${declared} > ${maxBytes} bytes`)
      done(name, 413, { reason: 'size' })
      return
    }
    if (expectsContinue) res.writeContinue()
    void receive(req, dir, name, wanted, maxBytes).then((result) => {
      if (result.ok) {
        const body = `${JSON.stringify({ name, sha256: result.sha256, sizeBytes: result.sizeBytes })}\n`
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
        done(name, 201, { sizeBytes: result.sizeBytes, sha256: result.sha256 })
      } else if ('code' in result) {
        reject(req, res, result.code, result.specific)
        done(name, result.status, { reason: result.code })
      } else {
        done(name, 0, { reason: 'connection closed before the body ended' })
      }
    })
  }
}

/** status 0: the connection ended before the body did (no answer can be sent). */
type Received =
  | { ok: true; sha256: string; sizeBytes: number }
  | { ok: false; status: 0 }
  | { ok: false; status: number; code: ArtifactServerErrorCode; specific?: string }

function failure(code: ArtifactServerErrorCode, specific?: string): Received {
  return { ok: false, status: artifactServerErrors.entries[code].httpStatus, code, specific }
}

/** Streams the body into a temporary file and renames it to `name` when complete and matching. */
async function receive(req: IncomingMessage, dir: string, name: string, wanted: string, maxBytes: number): Promise<Received> {
  const temp = join(dir, `.upload-${process.pid}-${randomBytes(6).toString('hex')}`)
  const fh = await open(temp, 'wx', 0o644).catch(() => undefined)
  if (fh === undefined) {
    req.resume()
    return failure('ZLH_ARTIFACTS_STORAGE_FAILED', 'cannot create a temporary file')
  }
  const hash = createHash('sha256')
  let size = 0
  let keep = false
  try {
    const outcome = await new Promise<Received | 'complete'>((resolve) => {
      // The connection may have closed while the temporary file was being opened: its 'close'
      // has been emitted already, so no listener below would ever settle this upload.
      if (req.destroyed) {
        resolve({ ok: false, status: 0 })
        return
      }
      let writing = Promise.resolve()
      let failed = false
      req.on('data', (chunk: Buffer) => {
        if (failed) return
        size += chunk.length
        if (size > maxBytes) {
          failed = true
          resolve(failure('ZLH_ARTIFACTS_TOO_LARGE', `more than ${maxBytes} bytes`))
          return
        }
        hash.update(chunk)
        req.pause()
        writing = writing
          .then(() => fh.write(chunk))
          .then(
            () => {
              req.resume()
            },
            () => {
              failed = true
              resolve(failure('ZLH_ARTIFACTS_STORAGE_FAILED', 'write failed'))
            },
          )
      })
      req.on('end', () => {
        if (!failed)
          void writing.then(() => {
            if (!failed) resolve('complete')
          })
      })
      req.on('close', () => {
        if (!req.complete && !failed) {
          failed = true
          resolve({ ok: false, status: 0 })
        }
      })
      req.on('error', () => {
        if (!failed) {
          failed = true
          resolve({ ok: false, status: 0 })
        }
      })
    })
    if (outcome !== 'complete') return outcome
    const sha256 = hash.digest('hex')
    if (sha256 !== wanted) return failure('ZLH_ARTIFACTS_HASH_MISMATCH', `sha256 ${sha256}, header ${wanted}`)
    await fh.sync()
    await fh.close()
    await rename(temp, join(dir, name))
    keep = true
    await fsyncDir(dir)
    return { ok: true, sha256, sizeBytes: size }
  } finally {
    if (!keep) {
      await fh.close().catch(() => {})
      await rm(temp, { force: true })
    }
  }
}

/** The file a request target names, or undefined when it is not a well-formed `/<name>` (a bad
 * percent-escape must not throw: this runs in the request listener, where a throw ends the process). */
function fileNameOf(target: string | undefined): string | undefined {
  const path = (target ?? '/').split('?')[0]!
  if (!path.startsWith('/')) return undefined
  try {
    return decodeURIComponent(path.slice(1))
  } catch {
    return undefined
  }
}
