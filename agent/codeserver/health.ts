// code-server's health endpoint: GET /healthz answers 200 while the server is up (its body says
// "alive" or "expired" depending on recent activity; either way the process serves).
import http from 'node:http'

export function splitHostPort(addr: string): [string, number] {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(addr)
  if (!m) throw new Error(`bind address ${JSON.stringify(addr)} is not host:port`)
  return [m[1]!, Number(m[2])]
}

/** True when GET http://<bindAddr>/healthz answers 200 within timeoutMs (wildcard binds → loopback). */
export function healthz(bindAddr: string, timeoutMs = 2000): Promise<boolean> {
  const [host, port] = splitHostPort(bindAddr)
  const target = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host
  return new Promise((resolve) => {
    const req = http.get({ host: target, port, path: '/healthz', timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}
