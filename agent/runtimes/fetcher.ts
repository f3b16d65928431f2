// The artifact fetcher: streams an artifact over HTTP(S) into a sink, computing its sha256 while
// the bytes pass, never holding more than a chunk in memory.
//
// Expected flow:
//   1. GET the url through the guarded fetch (src/platform/outbound): only URLs and addresses the
//      request's outbound policy allows, every redirect hop (at most 5) checked the same way; no
//      policy → nothing is fetched. `onHeaders` sees the announced size before any byte is written
//      (the disk-space check hangs off it).
//   2. Each chunk is counted against `maxBytes`, hashed and written to the sink with backpressure.
//      No chunk for `stallTimeoutMs` → the attempt fails as stalled; `timeoutMs` bounds the whole.
//   3. A failed attempt (unreachable, 5xx, truncated, stalled) is retried: a resumable sink
//      continues with a Range request (its bytes on disk are re-hashed first), any other sink is
//      reset and the download starts over.
//   4. When the body is complete the digest is compared with `sha256`.
// Guarantees: resolves only when every byte arrived, matched the sha256 and the sink finished;
// otherwise rejects with an AgentError (ARTIFACT_*) after calling sink.discard(). Every stream
// (response, meter, sink) has its errors handled from the moment the response exists, so a
// connection that breaks at any point fails the download and never the process.
// Errors: OUTBOUND_NOT_ALLOWED (never retried), ARTIFACT_HTTP_ERROR, ARTIFACT_UNREACHABLE, ARTIFACT_TRUNCATED, ARTIFACT_STALLED,
// ARTIFACT_TIMEOUT, ARTIFACT_TOO_LARGE, ARTIFACT_SHA256_MISMATCH, INSTALL_ABORTED, or whatever
// the sink throws (e.g. ARCHIVE_UNSAFE_ENTRY), which is never retried.
import type http from 'node:http'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as delay } from 'node:timers/promises'
import { AgentError, isAgentError } from '../errors.ts'
import { guardedGet, isOutboundError } from '../../src/platform/index.ts'
import { outboundRefusalHint, type OutboundPolicy } from '../../src/api/outbound.ts'
import { fsyncDir } from '../../src/platform/durable-file.ts'
import { deadBufferReleaser } from '../../src/platform/dead-buffers.ts'

export interface DownloadOptions {
  url: string
  /** where downloads may come from (the ContainerProvider's spec.outbound); absent → nothing may */
  outbound?: OutboundPolicy
  /** names the download in refusals, e.g. `mod "worldedit.jar"` */
  label?: string
  /** for tests: host name → addresses (default: the system resolver) */
  resolve?: (hostname: string) => Promise<Array<{ address: string }>>
  /** expected lowercase hex sha256 */
  sha256: string
  /** refuse artifacts larger than this (default 4 GiB) */
  maxBytes?: number
  /** bound on the whole download including retries (default 30 min) */
  timeoutMs?: number
  /** fail an attempt when no byte arrives for this long (default 30 s) */
  stallTimeoutMs?: number
  /** total attempts (default 3) */
  attempts?: number
  /** cancels the download (→ INSTALL_ABORTED) */
  signal?: AbortSignal
  /** the announced size, before the first byte is written; throw to refuse */
  onHeaders?: (totalBytes: number | undefined) => void | Promise<void>
  onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void
}

/** Where the bytes go. */
export interface ArtifactSink {
  /** true when the sink can continue at `size()` after a failed attempt */
  readonly resumable: boolean
  /** a fresh writable taking the bytes from `offset` (0 = start over, drop what was written) */
  open(offset: number): Promise<Writable>
  /** for resumable sinks: the bytes already stored, to re-hash before resuming */
  existing?(): Promise<{ size: number; stream: () => NodeJS.ReadableStream }>
  /** remove everything written (on final failure) */
  discard(): Promise<void>
}

export interface DownloadResult {
  sha256: string
  size: number
}

const DEFAULT_MAX = 4 * 1024 ** 3
const retryable = new Set(['ARTIFACT_UNREACHABLE', 'ARTIFACT_TRUNCATED', 'ARTIFACT_STALLED', 'ARTIFACT_HTTP_5XX'])

export async function downloadArtifact(opts: DownloadOptions, sink: ArtifactSink): Promise<DownloadResult> {
  const expected = opts.sha256.toLowerCase()
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX
  const attempts = Math.max(1, opts.attempts ?? 3)
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? 30 * 60_000)
  const signals = opts.signal ? [deadline, opts.signal] : [deadline]
  const signal = AbortSignal.any(signals)
  let headersSeen = false
  let hash: Hash = createHash('sha256')
  let received = 0
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        let offset = 0
        if (attempt > 1 && sink.resumable && sink.existing) {
          const stored = await sink.existing()
          hash = createHash('sha256')
          if (stored.size > 0)
            await pipeline(
              stored.stream(),
              new Transform({
                transform(c, _e, cb) {
                  hash.update(c)
                  cb()
                },
              }),
            )
          offset = stored.size
        } else {
          hash = createHash('sha256')
        }
        received = offset
        const done = await oneAttempt({
          ...opts,
          maxBytes,
          signal,
          offset,
          sink,
          hash,
          first: !headersSeen,
          onHeadersSeen: () => {
            headersSeen = true
          },
        })
        received = done.received
        hash = done.hash
        break
      } catch (err) {
        const mapped = mapError(err, signal, deadline, opts.signal)
        const code = mapped.code === 'ARTIFACT_HTTP_ERROR' && (mapped.detail?.status as number) >= 500 ? 'ARTIFACT_HTTP_5XX' : mapped.code
        if (!retryable.has(code) || attempt >= attempts) throw mapped
        await delay(Math.min(250 * 2 ** (attempt - 1), 2000), undefined, { signal }).catch(() => {})
        if (signal.aborted) throw mapError(signal.reason, signal, deadline, opts.signal)
      }
    }
    const actual = hash.digest('hex')
    if (actual !== expected) {
      throw new AgentError('ARTIFACT_SHA256_MISMATCH', `${opts.url} has sha256 ${actual}, expected ${expected}`, { expected, actual })
    }
    return { sha256: actual, size: received }
  } catch (err) {
    await sink.discard().catch(() => {})
    throw err
  }
}

interface AttemptOptions extends DownloadOptions {
  maxBytes: number
  signal: AbortSignal
  offset: number
  sink: ArtifactSink
  hash: Hash
  first: boolean
  onHeadersSeen: () => void
}

async function oneAttempt(o: AttemptOptions): Promise<{ received: number; hash: Hash }> {
  const stallMs = o.stallTimeoutMs ?? 30_000
  const res = await get(o, o.offset > 0 ? { range: `bytes=${o.offset}-` } : {}, stallMs)
  try {
    return await consume(o, res, stallMs)
  } finally {
    // Whatever happened (refused size, a throwing onHeaders or sink, a broken stream), the
    // connection is closed; destroying a consumed response is a no-op.
    res.destroy()
  }
}

async function consume(o: AttemptOptions, res: http.IncomingMessage, stallMs: number): Promise<{ received: number; hash: Hash }> {
  let offset = o.offset
  let hash = o.hash
  if (offset > 0 && !(res.statusCode === 206 && contentRangeStart(res.headers['content-range']) === offset)) {
    // The server ignored the range: start over.
    offset = 0
    hash = createHash('sha256')
  }
  const status = res.statusCode ?? 0
  if (status !== 200 && status !== 206) {
    res.resume()
    throw new AgentError('ARTIFACT_HTTP_ERROR', `GET ${o.url} answered ${status}`, { status })
  }
  const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined
  const total = length !== undefined && Number.isFinite(length) ? offset + length : undefined
  if (total !== undefined && total > o.maxBytes) {
    res.destroy()
    throw new AgentError('ARTIFACT_TOO_LARGE', `${o.url} is ${total} bytes, the limit is ${o.maxBytes}`, {
      totalBytes: total,
      maxBytes: o.maxBytes,
    })
  }
  if (o.first) {
    await o.onHeaders?.(total)
    o.onHeadersSeen()
  }
  const writable = await o.sink.open(offset)
  let received = offset
  let stallTimer: NodeJS.Timeout | undefined
  const armStall = (): void => {
    clearTimeout(stallTimer)
    stallTimer = setTimeout(
      () => res.destroy(new AgentError('ARTIFACT_STALLED', `no data from ${o.url} for ${stallMs} ms after ${received} bytes`)),
      stallMs,
    )
  }
  const release = deadBufferReleaser()
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length
      release(chunk.length)
      if (received > o.maxBytes)
        return cb(new AgentError('ARTIFACT_TOO_LARGE', `${o.url} exceeded the limit of ${o.maxBytes} bytes`, { maxBytes: o.maxBytes }))
      armStall()
      hash.update(chunk)
      try {
        o.onProgress?.(received, total)
      } catch {
        /* a progress listener cannot fail the download */
      }
      cb(null, chunk)
    },
  })
  armStall()
  try {
    await pipeline(res, meter, writable, { signal: o.signal })
  } catch (err) {
    if (isAgentError(err)) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error).message === 'aborted') {
      throw new AgentError('ARTIFACT_TRUNCATED', `${o.url} ended after ${received}${total !== undefined ? ` of ${total}` : ''} bytes`, {
        receivedBytes: received,
        totalBytes: total,
      })
    }
    throw err
  } finally {
    clearTimeout(stallTimer)
  }
  if (total !== undefined && received !== total) {
    throw new AgentError('ARTIFACT_TRUNCATED', `${o.url} ended after ${received} of ${total} bytes`, {
      receivedBytes: received,
      totalBytes: total,
    })
  }
  return { received, hash }
}

function contentRangeStart(header: string | undefined): number | undefined {
  const m = /^bytes (\d+)-/.exec(header ?? '')
  return m ? Number(m[1]) : undefined
}

async function get(o: AttemptOptions, headers: Record<string, string>, stallMs: number): Promise<http.IncomingMessage> {
  const policy = o.outbound
  try {
    const { response } = await guardedGet(o.url, {
      rules: policy ?? { allowedSources: [] },
      refusalHint: outboundRefusalHint(policy),
      headers: { 'user-agent': 'zlh-agent', ...headers },
      signal: o.signal,
      headersTimeoutMs: stallMs,
      ...(o.resolve ? { resolve: o.resolve } : {}),
    })
    return response
  } catch (err) {
    if (!isOutboundError(err)) throw err
    if (err.code === 'OUTBOUND_NOT_ALLOWED')
      throw new AgentError('OUTBOUND_NOT_ALLOWED', o.label !== undefined ? `${o.label}: ${err.message}` : err.message, { url: o.url })
    if (err.code === 'OUTBOUND_HEADERS_TIMEOUT') throw new AgentError('ARTIFACT_STALLED', err.message)
    throw new AgentError('ARTIFACT_HTTP_ERROR', err.message)
  }
}

function mapError(err: unknown, signal: AbortSignal, deadline: AbortSignal, caller?: AbortSignal): AgentError {
  if (caller?.aborted) return new AgentError('INSTALL_ABORTED', 'the download was cancelled')
  if (deadline.aborted) return new AgentError('ARTIFACT_TIMEOUT', 'the download did not finish in time')
  if (isAgentError(err)) return err
  const e = err as NodeJS.ErrnoException
  if (signal.aborted) return new AgentError('INSTALL_ABORTED', 'the download was cancelled')
  if (
    e.code === 'ECONNREFUSED' ||
    e.code === 'ENOTFOUND' ||
    e.code === 'EHOSTUNREACH' ||
    e.code === 'ECONNRESET' ||
    e.code === 'EAI_AGAIN'
  ) {
    return new AgentError('ARTIFACT_UNREACHABLE', `${e.code}: ${e.message}`)
  }
  if (e.code === 'ENOSPC') return new AgentError('INSUFFICIENT_DISK', 'the disk filled up during the download')
  return new AgentError('ARTIFACT_UNREACHABLE', e.message ?? String(err))
}

// ─── File sink: what mods and other single-file artifacts use ─────────────────────────────

/** Positional writes; on destroy the write in progress completes first, so whatever the stream
 * accepted before a failure is on disk for a resume to re-hash and continue from. */
function fileWriter(handle: fsp.FileHandle, start: number): Writable {
  let position = start
  let pending: Promise<unknown> = Promise.resolve()
  return new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _enc, cb) {
      const at = position
      position += chunk.length
      pending = handle.write(chunk, 0, chunk.length, at).then(
        () => cb(),
        (err: Error) => cb(err),
      )
    },
    final(cb) {
      pending
        .then(() => handle.truncate(position))
        .then(() => handle.sync())
        .then(
          () => cb(),
          (err: Error) => cb(err),
        )
    },
    destroy(err, cb) {
      pending
        .catch(() => {})
        .then(() => handle.close())
        .then(
          () => cb(err),
          () => cb(err),
        )
    },
  })
}

export interface FetchArtifactOptions extends DownloadOptions {
  /** final path; the bytes go to `<dest>.part` and are renamed into place only once verified */
  dest: string
}

export interface FetchArtifactResult extends DownloadResult {
  path: string
}

/** Download `url` to `dest`, verified against `sha256`; `dest` appears only when complete and correct. */
export async function fetchArtifact(opts: FetchArtifactOptions): Promise<FetchArtifactResult> {
  const part = `${opts.dest}.part`
  await fsp.mkdir(path.dirname(opts.dest), { recursive: true })
  const sink: ArtifactSink = {
    resumable: true,
    async open(offset) {
      return fileWriter(await fsp.open(part, offset === 0 ? 'w' : 'r+'), offset)
    },
    async existing() {
      const size = await fsp.stat(part).then(
        (s) => s.size,
        () => 0,
      )
      return { size, stream: () => fs.createReadStream(part, { end: Math.max(0, size - 1) }) }
    },
    async discard() {
      await fsp.rm(part, { force: true })
    },
  }
  const result = await downloadArtifact(opts, sink)
  try {
    await fsp.rename(part, opts.dest)
  } catch (err) {
    await sink.discard().catch(() => {})
    throw err
  }
  await fsyncDir(path.dirname(opts.dest))
  return { ...result, path: opts.dest }
}
