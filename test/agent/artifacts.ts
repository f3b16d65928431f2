// Test fixtures for runtime installs: a tar writer that can produce hostile entries (which tar
// libraries refuse to create), and a loopback artifact server with failure modes.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { gzipSync } from 'node:zlib'

export interface TarEntry {
  path: string
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo'
  content?: string | Buffer
  linkpath?: string
  mode?: number
}

const typeFlags = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512)
  const put = (s: string, off: number, len: number): void => {
    h.write(s, off, len, 'utf8')
  }
  const octal = (n: number, off: number, len: number): void => put(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len)
  const type = e.type ?? 'file'
  put(e.path, 0, 100)
  octal(e.mode ?? (type === 'dir' ? 0o755 : 0o644), 100, 8)
  octal(0, 108, 8)
  octal(0, 116, 8)
  octal(size, 124, 12)
  octal(1_700_000_000, 136, 12)
  h.fill(' ', 148, 156)
  put(typeFlags[type], 156, 1)
  if (e.linkpath) put(e.linkpath, 157, 100)
  put('ustar\0', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const b of h) sum += b
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
  return h
}

/** A (gzipped by default) tar archive of exactly these entries, in this order. */
export function tarball(entries: TarEntry[], gzip = true): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const body = e.type === undefined || e.type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0)
    parts.push(header(e, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  const tar = Buffer.concat(parts)
  return gzip ? gzipSync(tar) : tar
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** A runtime whose bin/<name> prints "<name> <version>", padded with incompressible data. */
export function runtimeTarball(name: string, version: string, extra: TarEntry[] = [], padBytes = 64 * 1024): Buffer {
  return tarball([
    { path: `${name}-${version}/`, type: 'dir' },
    { path: `${name}-${version}/bin/`, type: 'dir' },
    { path: `${name}-${version}/bin/${name}`, content: `#!/bin/sh\necho "${name} ${version}"\n`, mode: 0o755 },
    { path: `${name}-${version}/README`, content: `${name} ${version}\n` },
    { path: `${name}-${version}/share/`, type: 'dir' },
    { path: `${name}-${version}/share/padding.bin`, content: randomBytes(padBytes) },
    ...extra,
  ])
}

export type Behaviour =
  | { kind: 'ok' }
  /** send `bytes` of the body then cut the connection (the first `times` requests; default always) */
  | { kind: 'truncate'; bytes: number; times?: number }
  /** send `bytes` then go silent; `onStall` fires once the bytes are sent */
  | { kind: 'stall'; bytes: number; onStall?: () => void; times?: number }
  | { kind: 'status'; status: number }

export interface ArtifactServer {
  url(name: string): string
  /** The outbound policy that allows this server (what a ContainerProvider would declare for it). */
  outbound: { allowedSources: string[] }
  add(name: string, body: Buffer, behaviour?: Behaviour): void
  behave(name: string, behaviour: Behaviour): void
  requests: { name: string; range: string | undefined }[]
  count(name: string): number
  close(): Promise<void>
}

export async function startArtifactServer(opts: { ranges?: boolean; delayMs?: number } = {}): Promise<ArtifactServer> {
  const files = new Map<string, { body: Buffer; behaviour: Behaviour; served: number }>()
  const requests: ArtifactServer['requests'] = []
  const sockets = new Set<import('node:net').Socket>()
  const server = http.createServer(async (req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1))
    requests.push({ name, range: req.headers.range })
    const file = files.get(name)
    if (!file) {
      res.writeHead(404).end('not found')
      return
    }
    file.served++
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs))
    const b = file.behaviour
    if (b.kind === 'status') {
      res.writeHead(b.status).end('nope')
      return
    }
    let start = 0
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (opts.ranges && m) start = Number(m[1])
    const body = file.body.subarray(start)
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream', 'content-length': body.length }
    if (opts.ranges) headers['accept-ranges'] = 'bytes'
    if (start > 0) headers['content-range'] = `bytes ${start}-${file.body.length - 1}/${file.body.length}`
    res.writeHead(start > 0 ? 206 : 200, headers)
    if (b.kind === 'truncate' && (b.times === undefined || file.served <= b.times)) {
      res.write(body.subarray(0, b.bytes), () => res.destroy())
      return
    }
    if (b.kind === 'stall' && (b.times === undefined || file.served <= b.times)) {
      res.write(body.subarray(0, b.bytes), () => b.onStall?.())
      return
    }
    res.end(body)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    outbound: { allowedSources: [`http://127.0.0.1:${port}/`] },
    add: (name, body, behaviour = { kind: 'ok' }) => {
      files.set(name, { body, behaviour, served: 0 })
    },
    behave: (name, behaviour) => {
      files.get(name)!.behaviour = behaviour
    },
    requests,
    count: (name) => requests.filter((r) => r.name === name).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
