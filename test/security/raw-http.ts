// Raw HTTP/1.1 requests over a socket, the target sent exactly as written: what an attacker's
// client does and fetch() will not (absolute-form targets, malformed escapes, odd spellings).
import { connect as connectTcp } from 'node:net'
import { connect as connectTls } from 'node:tls'

export interface RawResponse { status: number; head: string; body: string }

export interface RawRequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** Speak TLS (certificates are not checked: the peer is the test's own server). */
  tls?: boolean
  host?: string
}

/** One request on a fresh connection (`Connection: close`); resolves with what came back. */
export function rawRequest(port: number, target: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const host = opts.host ?? '127.0.0.1'
  return new Promise((resolve, reject) => {
    const sock = opts.tls ? connectTls({ port, host, rejectUnauthorized: false }) : connectTcp(port, host)
    const chunks: Buffer[] = []
    sock.on('data', (d: Buffer) => chunks.push(d))
    sock.on('error', reject)
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      if (!m) return reject(new Error(`no HTTP response to ${opts.method ?? 'GET'} ${target}: ${JSON.stringify(text.slice(0, 120))}`))
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: Number(m[1]), head: text.slice(0, split), body: split === -1 ? '' : text.slice(split + 4) })
    })
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body)
    const headers = { host: `${host}:${port}`, connection: 'close', ...(body ? { 'content-length': String(body.length) } : {}), ...opts.headers }
    const head = `${opts.method ?? 'GET'} ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
    sock.write(body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head)
  })
}
