// Raw HTTP/1.x over a socket, the target sent exactly as written: what an attacker's client does
// and fetch() will not (absolute-form targets, malformed escapes, odd spellings, old versions).
import { connect as connectTcp } from 'node:net'
import { connect as connectTls } from 'node:tls'

export interface Answer {
  status: number
  head: string
  body: string
}

/** Sends `request` exactly as written on a fresh connection; the answer once complete (or its head, for streams). */
export function exchange(port: number, request: string | Buffer, opts: { tls?: boolean; headOnly?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sock = opts.tls ? connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false }) : connectTcp(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let done = false
    const timer = setTimeout(() => finish(new Error(`no complete answer to ${JSON.stringify(String(request).slice(0, 80))}`)), 15_000)
    const finish = (err?: Error): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      if (!m)
        return reject(
          err ?? new Error(`no HTTP answer to ${JSON.stringify(String(request).slice(0, 80))}: ${JSON.stringify(text.slice(0, 80))}`),
        )
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: Number(m[1]), head: text.slice(0, split), body: split === -1 ? '' : text.slice(split + 4) })
    }
    sock.on('data', (d: Buffer) => {
      chunks.push(d)
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      if (split === -1) return
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))
      // A stream (SSE) or an answer without a body: the head is what counts.
      if (opts.headOnly || !length || text.length - split - 4 >= Number(length[1])) finish()
    })
    sock.on('error', (err) => finish(err))
    sock.on('close', () => finish())
    sock.write(request)
  })
}

/** The text of one HTTP request, the target exactly as given (`host: null` sends no Host header). */
export function httpText(
  method: string,
  target: string,
  opts: { version?: string; host?: string | null; headers?: Record<string, string>; body?: string } = {},
): string {
  const headers: Record<string, string> = {
    ...(opts.host === null ? {} : { host: opts.host ?? '127.0.0.1' }),
    connection: 'close',
    ...opts.headers,
  }
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body))
  return `${method} ${target} ${opts.version ?? 'HTTP/1.1'}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n${opts.body ?? ''}`
}

export interface RawRequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  /** Speak TLS (certificates are not checked: the peer is the test's own server). */
  tls?: boolean
}

/** One request on a fresh connection (`Connection: close`), built by httpText and sent by exchange. */
export function rawRequest(port: number, target: string, opts: RawRequestOptions = {}): Promise<Answer> {
  return exchange(port, httpText(opts.method ?? 'GET', target, { host: `127.0.0.1:${port}`, headers: opts.headers, body: opts.body }), {
    tls: opts.tls,
  })
}
