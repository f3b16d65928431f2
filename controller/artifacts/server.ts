// A loopback HTTP server for artifact files in one directory: GET/HEAD by file name only (no
// paths, so nothing outside the directory can be named), counting requests per file so tests can
// check that an artifact was downloaded once.
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

export interface ArtifactServer {
  /** http://127.0.0.1:<port> */
  baseUrl: string
  url(fileName: string): string
  /** GET requests served per file name. */
  requests(fileName: string): number
  close(): Promise<void>
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/

export async function startArtifactServer(dir: string, opts: { host?: string, port?: number } = {}): Promise<ArtifactServer> {
  const counts = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    const name = fileNameOf(req.url)
    if ((req.method !== 'GET' && req.method !== 'HEAD') || name === undefined || !SAFE_NAME.test(name)) { res.writeHead(404).end(); return }
    const file = join(dir, name)
    stat(file).then((st) => {
      if (!st.isFile()) { res.writeHead(404).end(); return }
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': st.size })
      if (req.method === 'HEAD') { res.end(); return }
      counts.set(name, (counts.get(name) ?? 0) + 1)
      createReadStream(file).on('error', () => res.destroy()).pipe(res)
    }, () => { res.writeHead(404).end() })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const baseUrl = `http://${opts.host ?? '127.0.0.1'}:${port}`
  return {
    baseUrl,
    url: (fileName) => `${baseUrl}/${encodeURIComponent(fileName)}`,
    requests: (fileName) => counts.get(fileName) ?? 0,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/** The file a request target names, or undefined when it is not a well-formed `/<name>` (a bad
 * percent-escape must not throw: this runs in the request listener, where a throw ends the process). */
function fileNameOf(target: string | undefined): string | undefined {
  const path = (target ?? '/').split('?')[0]!
  if (!path.startsWith('/')) return undefined
  try { return decodeURIComponent(path.slice(1)) } catch { return undefined }
}
