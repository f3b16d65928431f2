// Raw HTTP for hostile-path tests: node:http sends the path exactly as given (fetch would
// normalise "..", which is the point of the test to send).
import http from 'node:http'
import type { Readable } from 'node:stream'

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  json(): any
}

export function rawRequest(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: Buffer | string | Readable,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const u = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, headers: { authorization: `Bearer ${token}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const buf = Buffer.concat(chunks)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString('utf8')) })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    if (body === undefined) req.end()
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body)
    else body.pipe(req)
  })
}
