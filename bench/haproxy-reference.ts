// A reference point for bench/proxy.ts: HAProxy (Debian package, 1 thread) doing the gateway's
// per-request IDE checks natively, to answer "would a native proxy in front meet the nginx
// target?". Not a data plane we ship: every request it cannot fully accept here gets a 403
// (the gateway would take those: token exchange, renewal, error pages).
//
// Checks, as src/gateway/ide does them: the host grammar (`dev-<vmid>.<suffix>[:port]`), exactly
// one session cookie, its shape, HMAC-SHA256 under the "ide-session" subkey (constant-time
// compare), vmid bound to the host, not due for renewal, no token in the query, the folder
// redirect left to the gateway, Origin on upgrades and non-GET/HEAD requests, the route from a
// vmid → address map. Rewrites: the session cookie removed, X-Forwarded-For/Proto/Host set,
// client-claimed proxy headers dropped, an upstream Set-Cookie for the session cookie neutralised.
// Not done here: the session's binding to the DevServer uid and the portal token (the gateway
// reads both from in-memory caches; a native proxy would need them pushed into its maps).

import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ReferenceProxy {
  port: number
  pids: () => number[]
  stop: () => Promise<void>
}

interface Options {
  port: number
  signingKey: Buffer
  suffix: string
  /** vmid → `host:port` of its code-server. */
  routes: Record<number, string>
  sessionTtlSeconds: number
  canConnect: (port: number) => Promise<boolean>
}

const CLIENT_CLAIMED = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-real-ip',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-original-url',
  'x-rewrite-url',
]

export function haproxyConfig(opts: Omit<Options, 'canConnect'>, mapFile: string): string {
  const subkey = createHmac('sha256', opts.signingKey).update('zlh-gateway/ide-session').digest('base64')
  const suffix = opts.suffix.replaceAll('.', '\\.')
  // Renewal is the gateway's: only cookies with more than half their lifetime left pass here.
  const minLeft = Math.ceil(opts.sessionTtlSeconds / 2) + 1
  return `
global
  nbthread 1
  maxconn 4096
  set-var proc.key str(${subkey})
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  option http-keep-alive
  http-reuse always
frontend ide
  bind 127.0.0.1:${opts.port}
  http-request set-var(txn.host) req.hdr(host),lower
  acl dev_host var(txn.host) -m reg ^dev-[1-9][0-9]{0,9}\\.${suffix}(:[0-9]{1,5})?$
  acl one_cookie req.cook_cnt(__Host-zlh-ide) eq 1
  http-request set-var(txn.vmid) var(txn.host),field(1,.),ltrim(dev-) if dev_host
  http-request set-var(txn.ck) req.cook(__Host-zlh-ide) if dev_host one_cookie
  acl ck_shape var(txn.ck) -m reg ^v2\\.[1-9][0-9]*\\.[A-Za-z0-9-]+\\.[A-Za-z0-9-]+\\.[A-Za-z0-9_-]+\\.[0-9]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$
  http-request set-var(txn.mac) var(txn.ck),field(8,.) if ck_shape
  http-request set-var(txn.calc) var(txn.ck),field(1,.,7),hmac(sha256,proc.key),ub64enc if ck_shape
  acl mac_ok var(txn.calc),secure_memcmp(txn.mac)
  http-request set-var(txn.cvmid) var(txn.ck),field(2,.) if mac_ok
  acl vmid_ok var(txn.cvmid),strcmp(txn.vmid) eq 0
  http-request set-var(txn.now) date() if mac_ok
  http-request set-var(txn.left) var(txn.ck),field(6,.),sub(txn.now) if mac_ok
  acl fresh var(txn.left) -m int gt ${minLeft}
  acl has_token urlp(token) -m found
  acl opens_root path /
  acl opens_folder urlp(folder) -m found
  acl opens_folder urlp(workspace) -m found
  acl opens_folder urlp(ew) -m found
  acl safe_method method GET HEAD
  acl upgrade req.hdr(upgrade) -m found
  http-request set-var-fmt(txn.origin) https://%[var(txn.host)]
  acl origin_ok req.hdr(origin),strcmp(txn.origin) eq 0
  http-request set-var(txn.up) var(txn.vmid),map(${mapFile}) if mac_ok vmid_ok fresh !has_token
  acl routed var(txn.up) -m found
  http-request deny deny_status 403 if !routed
  http-request deny deny_status 403 if METH_GET opens_root !opens_folder
  http-request deny deny_status 403 if upgrade !origin_ok || !safe_method !origin_ok
  http-request set-header cookie "%[req.hdr(cookie),regsub('(^|; *)__Host-zlh-ide=[^;]*','',g),ltrim('; ')]"
  http-request del-header cookie if { req.hdr(cookie) -m len 0 }
${CLIENT_CLAIMED.map((h) => `  http-request del-header ${h}`).join('\n')}
  http-request set-header x-forwarded-for %[src]
  http-request set-header x-forwarded-proto https
  http-request set-header x-forwarded-host %[var(txn.host)]
  http-request set-dst var(txn.up),field(1,:)
  http-request set-dst-port var(txn.up),field(2,:)
  http-response replace-header set-cookie ^\\s*__Host-zlh-ide= zlh-refused= if { res.hdr(set-cookie) -m found }
  default_backend code_server
backend code_server
  server dynamic 0.0.0.0:0
`
}

export async function startHaproxyReference(opts: Options): Promise<ReferenceProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-bench-haproxy-'))
  const mapFile = join(dir, 'routes.map')
  writeFileSync(
    mapFile,
    Object.entries(opts.routes)
      .map(([vmid, addr]) => `${vmid} ${addr}\n`)
      .join(''),
  )
  const config = join(dir, 'haproxy.cfg')
  writeFileSync(config, haproxyConfig(opts, mapFile), { mode: 0o600 })
  const proc = spawn('haproxy', ['-f', config], { stdio: ['ignore', 'inherit', 'inherit'] })
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      await once(proc, 'exit')
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const until = Date.now() + 10_000
  while (!(await opts.canConnect(opts.port))) {
    if (Date.now() > until || proc.exitCode !== null) {
      await stop()
      throw new Error('haproxy did not start listening within 10 s (is the haproxy package installed?)')
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { port: opts.port, pids: () => [proc.pid!], stop }
}
