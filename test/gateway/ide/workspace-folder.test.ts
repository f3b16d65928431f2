// The workspace redirect opens the folder the DevServer's status reports (status.ide.folder, from
// the agent), URL-encoded on the dev host's own origin; without one (an older agent) the default
// /home/dev/workspace; a hostile folder is never used.
import t from 'tap'
import { InMemoryRouteTable } from '../../../src/gateway/index.ts'
import { DEFAULT_IDE_FOLDER, ideFolderOf, ideFolderQuery } from '../../../src/api/index.ts'
import { send, signIn, startGateway, startUpstream, type TestGateway, type Upstream } from '../fixtures.ts'

let up: Upstream
let g: TestGateway
t.before(async () => {
  up = await startUpstream()
  g = await startGateway()
})
t.teardown(async () => {
  await g.gw.close()
  await up.close()
})

let nextVmid = 300
async function folderRedirect(folder: string | undefined): Promise<{ location: string | undefined; vmid: number }> {
  const vmid = nextVmid++
  g.routes.set(vmid, {
    address: up.address,
    ready: true,
    name: `dev-${vmid}`,
    namespace: 'team-a',
    uid: `uid-${vmid}`,
    ...(folder === undefined ? {} : { folder }),
  })
  const cookie = await signIn(g, vmid)
  const r = await send(g.gw, { host: g.host(vmid), path: '/', headers: { cookie } })
  if (r.status !== 302) throw new Error(`expected a redirect, got ${r.status} ${r.body}`)
  return { location: r.headers.location, vmid }
}

t.test("the redirect opens the route's folder (the process provider's layout), slashes literal", async (t) => {
  const folder = '/home/me/.local/state/zlh/containers/1001/home/dev/workspace'
  const { location, vmid } = await folderRedirect(folder)
  t.equal(location, `${g.origin(vmid)}/?folder=${folder}`)
  const loc = new URL(location!)
  t.equal(loc.origin, g.origin(vmid), 'same origin')
  t.equal(loc.searchParams.get('folder'), folder)
})

t.test('characters that mean something in a URL are encoded and come back intact', async (t) => {
  const folder = '/srv/my work/a&b=c?d#e%f+g/ü'
  const { location, vmid } = await folderRedirect(folder)
  t.equal(location, `${g.origin(vmid)}/?folder=/srv/my%20work/a%26b%3Dc%3Fd%23e%25f%2Bg/%C3%BC`)
  const loc = new URL(location!)
  t.equal(loc.pathname, '/')
  t.equal(loc.hash, '', 'a # in the folder does not become a fragment')
  t.same([...loc.searchParams.keys()], ['folder'], 'a & in the folder adds no parameter')
  t.equal(loc.searchParams.get('folder'), folder)
})

t.test('no folder in the status (an older agent) → /home/dev/workspace', async (t) => {
  const { location, vmid } = await folderRedirect(undefined)
  t.equal(location, `${g.origin(vmid)}/?folder=${DEFAULT_IDE_FOLDER}`)
})

t.test('a hostile folder is ignored: the default opens, on the dev host, with nothing injected', async (t) => {
  const hostile = [
    'relative/path',
    'workspace',
    '',
    '/',
    '//evil.example/x',
    '///evil.example',
    '/\\evil.example',
    '/ok\r\nSet-Cookie: x=1',
    '/ok\nx',
    '/tab\there',
    '/nul\u0000',
    '/del\u007f',
    '/ls\u2028x',
    '/a/../../etc',
    '/a/./b',
    '/a//b',
    'https://evil.example/',
    'javascript:alert(1)',
    `/${'a'.repeat(5000)}`,
  ]
  for (const folder of hostile) {
    const { location, vmid } = await folderRedirect(folder)
    // The name stays ASCII: a raw U+2028 would break the TAP stream itself.
    const name = JSON.stringify(folder.slice(0, 40)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    t.equal(location, `${g.origin(vmid)}/?folder=${DEFAULT_IDE_FOLDER}`, name)
  }
})

t.test('the route table keeps only a plain absolute folder', async (t) => {
  const routes = new InMemoryRouteTable()
  const base = { address: '127.0.0.1:6000', ready: true, name: 'a', namespace: 'b', uid: 'u' }
  t.equal(routes.set(1, { ...base, folder: '/home/dev/workspace' }).folder, '/home/dev/workspace')
  t.equal(routes.set(1, { ...base, folder: '/home/dev/workspace/' }).folder, '/home/dev/workspace/', 'a trailing slash is fine')
  t.notOk('folder' in routes.set(1, { ...base, folder: '//evil' }), 'a hostile folder is dropped, not stored')
  t.notOk('folder' in routes.set(1, base))
})

t.test('ideFolderOf / ideFolderQuery', async (t) => {
  t.equal(ideFolderOf('/home/dev/workspace'), '/home/dev/workspace')
  t.equal(ideFolderOf(42), undefined)
  t.equal(ideFolderOf(null), undefined)
  t.equal(ideFolderOf('/a/..'), undefined)
  t.equal(ideFolderQuery('/a b/c'), '?folder=/a%20b/c')
})
