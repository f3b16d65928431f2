// How the web console is served: / redirects to /console/; the page's CSP allows only this
// origin's scripts (plus its import map, by hash: CSP Level 3 "hash-source"), no inline script,
// styles from this origin (plus the page's nonce), no framing; vendor files are versioned and
// cached for a year, the console's own files revalidated; nothing outside the served list is
// reachable by any spelling of a path; IDE hosts never serve the console.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { loadConsoleFiles } from '../../../src/gateway/console/static-files.ts'
import { startPortal, type PortalEnv } from '../portal/portal-env.ts'
import { SUFFIX } from '../fixtures.ts'

/** One raw request line on a fresh connection (no client normalises the path); the status code. */
function rawStatus(p: PortalEnv, target: string, host = new URL(p.svc.gateway.url).host): Promise<number> {
  const url = new URL(p.svc.gateway.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    })
    let head = ''
    socket.on('data', (b: Buffer) => {
      head += b.toString('latin1')
    })
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)))
    socket.on('error', reject)
  })
}

const directives = (csp: string) =>
  new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([k, ...v]) => [k!, v]),
  )

t.test('GET / and /console redirect to the console; the page carries a strict CSP', async (t) => {
  const p = await startPortal(t)
  for (const path of ['/', '/console']) {
    const r = await p.api(path)
    t.equal(r.status, 302, `${path} redirects`)
    t.equal(r.headers.get('location'), '/console/')
  }
  const page = await p.api('/console/')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.equal(page.headers.get('cache-control'), 'no-store')
  t.equal(page.headers.get('x-frame-options'), 'DENY')
  t.equal(page.headers.get('x-content-type-options'), 'nosniff')
  const csp = directives(page.headers.get('content-security-policy') ?? '')
  t.same(csp.get('default-src'), ["'none'"])
  t.same(csp.get('frame-ancestors'), ["'none'"])
  t.same(csp.get('object-src'), ["'none'"])
  t.same(csp.get('base-uri'), ["'none'"])
  const scriptSrc = csp.get('script-src') ?? []
  t.equal(scriptSrc[0], "'self'")
  t.equal(scriptSrc.length, 2, "script-src is 'self' and one hash")
  t.notOk(
    scriptSrc.some((s) => /unsafe|nonce/.test(s)),
    'no unsafe-inline, unsafe-eval or nonce for scripts',
  )
  const styleSrc = csp.get('style-src') ?? []
  t.equal(styleSrc[0], "'self'")
  t.notOk(
    styleSrc.some((s) => s.includes('unsafe')),
    "no 'unsafe-inline' styles",
  )

  // Every script element: a module file of this origin, or the import map whose hash the CSP names.
  const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
  t.ok(scripts.length >= 2)
  for (const [, attrs, body] of scripts) {
    if (/type="importmap"/.test(attrs!)) {
      const hash = `'sha256-${createHash('sha256').update(body!).digest('base64')}'`
      t.equal(scriptSrc[1], hash, 'the import map is allowed by its hash, nothing else inline is')
      const map = JSON.parse(body!) as { imports: Record<string, string> }
      for (const url of Object.values(map.imports)) t.match(url, /^\/console\/vendor\/[a-z-]+@\d+\.\d+\.\d+\//, `${url} is versioned`)
    } else {
      t.match(attrs, /type="module" src="\/console\/[a-z-]+\.js"/, 'a module file of this origin')
      t.equal(body, '', 'no inline code')
    }
  }
  t.notMatch(page.text, /\son[a-z]+=/i, 'no inline event handlers')
  t.notMatch(page.text, /\sstyle=/i, 'no inline style attributes')
  const nonce = /<meta name="zlh-style-nonce" content="([^"]+)">/.exec(page.text)?.[1]
  t.ok(nonce)
  t.ok(styleSrc.includes(`'nonce-${nonce}'`), 'the style nonce of this response')
  const again = await p.api('/console/')
  t.not(/<meta name="zlh-style-nonce" content="([^"]+)">/.exec(again.text)?.[1], nonce, 'a new nonce per response')
})

t.test('console files: own modules revalidated, vendor files versioned and immutable, ETag 304', async (t) => {
  const p = await startPortal(t)
  const app = await p.api('/console/app.js')
  t.equal(app.status, 200)
  t.match(app.headers.get('content-type'), /^text\/javascript/)
  t.equal(app.headers.get('cache-control'), 'no-cache')
  t.equal(app.headers.get('x-content-type-options'), 'nosniff')
  t.ok(app.headers.get('content-security-policy'), 'every answer has a CSP')
  const etag = app.headers.get('etag')!
  t.equal((await p.api('/console/app.js', { headers: { 'if-none-match': etag } })).status, 304)

  const page = await p.api('/console/')
  const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(page.text)![1]!) as { imports: Record<string, string> }
  t.same(Object.keys(map.imports).sort(), ['@xterm/addon-fit', '@xterm/xterm', 'htm', 'htm/preact', 'preact', 'preact/hooks'])
  const preact = await p.api(map.imports.preact!)
  t.equal(preact.status, 200)
  t.equal(preact.headers.get('cache-control'), 'public, max-age=31536000, immutable')
  t.match(preact.text, /export\s*\{/, 'the ES module build')
  const css = await p.api('/console/style.css')
  t.match(css.headers.get('content-type'), /^text\/css/)
})

t.test('no path reaches the file system: traversal in every spelling is 400 or 404', async (t) => {
  const p = await startPortal(t)
  const page = await p.api('/console/')
  const vendorDir = /"preact":"(\/console\/vendor\/preact@[^/]+)\//.exec(page.text)![1]!
  // Refused before routing (request-target.ts): not in normal form.
  for (const target of [
    '/console/../package.json',
    '/console/%2e%2e/package.json',
    '/console/..%2fpackage.json',
    '/console/..%5cpackage.json',
    '/console/.%2e/.%2e/package.json',
    `${vendorDir}/../../../../package.json`,
    '/console/..\\..\\package.json',
    '/console//etc/passwd',
    '/console/app.js%00.png',
  ]) {
    t.equal(await rawStatus(p, target), 400, `${target} → 400`)
  }
  // Routed, but not a served file: 404.
  for (const path of [
    '/console/session.ts',
    '/console/routes.ts',
    '/console/web/app.js',
    '/console/index.html',
    `${vendorDir}/package.json`,
    `${vendorDir}/src/index.js`,
    '/console/vendor/preact@0.0.1/dist/preact.mjs',
    '/console/%2Fetc%2Fpasswd',
    '/console/etc/passwd',
    '/console/node_modules/preact/package.json',
  ]) {
    const r = await p.api(path)
    t.ok(r.status === 404 || r.status === 400, `${path} → ${r.status}`)
    t.notMatch(r.text, /"name"\s*:\s*"preact"|root:/, 'no file content')
  }
  const r = await p.api('/console/nope.js')
  t.equal(r.json.code, 'ZLH_GW_CONSOLE_FILE_NOT_FOUND')
})

t.test('IDE hosts never serve the console', async (t) => {
  const p = await startPortal(t)
  for (const host of [`dev-7.${SUFFIX}`, `x.${SUFFIX}`]) {
    const status = await rawStatus(p, '/console/', `${host}:${new URL(p.svc.gateway.url).port}`)
    t.not(status, 200, `${host}: not the console (${status})`)
    t.not(await rawStatus(p, '/console/app.js', host), 200)
  }
})

t.test('loadConsoleFiles serves regular files with known types only (no symlink leaves web/)', async (t) => {
  const dir = t.testdir()
  const web = join(dir, 'web')
  mkdirSync(web)
  writeFileSync(join(web, 'app.js'), 'export {}')
  writeFileSync(join(web, 'style.css'), 'body{}')
  writeFileSync(join(web, 'secret.ts'), 'x')
  writeFileSync(join(web, '.hidden.js'), 'x')
  writeFileSync(join(dir, 'outside.txt'), 'outside')
  symlinkSync(join(dir, 'outside.txt'), join(web, 'link.js'))
  mkdirSync(join(web, 'sub.js'))
  const files = loadConsoleFiles(web)
  const own = [...files.files.keys()].filter((k) => !k.startsWith('vendor/'))
  t.same(own.sort(), ['app.js', 'style.css'])
})
