import t from 'tap'
import type { Test } from 'tap'
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { startTestAgent } from '../helpers.ts'
import { rawRequest } from '../files/http.ts'
import { gzipSync } from 'node:zlib'
import { buildTar, buildZip } from './archive-builders.ts'

const MAX_UPLOAD = 64 * 1024

async function setup(t: Test) {
  const root = t.testdir()
  Object.assign(process.env, {
    ZLH_AGENT_UPLOAD_MAX_BYTES: String(MAX_UPLOAD),
    ZLH_AGENT_ARCHIVE_MAX_ENTRIES: '50',
    ZLH_AGENT_ARCHIVE_MAX_BYTES: String(16 * 1024),
  })
  const agent = await startTestAgent(root)
  t.teardown(() => agent.close())
  const game = agent.ctx.paths.game
  const outside = path.join(root, 'outside')
  mkdirSync(path.join(game, 'plugins'), { recursive: true })
  mkdirSync(outside, { recursive: true })
  writeFileSync(path.join(outside, 'secret.txt'), 'OUTSIDE')
  symlinkSync(outside, path.join(game, 'link-dir'))
  const req = (p: string, body: Buffer | string, headers: Record<string, string> = { 'content-type': 'application/octet-stream' }) =>
    rawRequest(agent.url, agent.token, 'POST', p, body, headers)
  return { agent, game, outside, root, req }
}

function multipart(fileName: string, data: Buffer | string): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----zlhtest${Math.random().toString(16).slice(2)}`
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    Buffer.isBuffer(data) ? data : Buffer.from(data),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

/** Every file under `dir` whose name says it came from a hostile archive. */
function evilFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    let entries
    try {
      entries = readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(d, e.name)
      if (e.name.includes('evil')) out.push(p)
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p)
    }
  }
  walk(dir)
  return out
}

t.test('hostile archives and uploads: each refused with a stable code, nothing written anywhere', async (t) => {
  const { req, game, root } = await setup(t)
  const zip = (entries: Parameters<typeof buildZip>[0]) => buildZip([{ name: 'ok-before.txt', data: 'fine' }, ...entries])
  const tgz = (entries: Parameters<typeof buildTar>[0]) => buildTar([{ name: 'ok-before.txt', data: 'fine' }, ...entries])
  const cases: Array<[string, string, Buffer, string, Record<string, string>?]> = [
    [
      'zip: ../ entry (zip-slip)',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: '../evil.txt', data: 'x' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: deep ../ entry',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: 'a/b/../../../../evil.txt', data: 'x' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: absolute entry',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: '/tmp/evil.txt', data: 'x' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: backslash traversal',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: '..\\..\\evil.txt', data: 'x' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: symlink entry',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: 'evil-link', data: '/etc/passwd', mode: 0o120777 }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: symlink then write through it',
      '/uploads/plugins?extract=true&format=zip',
      zip([
        { name: 'd', data: '../../..', mode: 0o120777 },
        { name: 'd/evil.txt', data: 'x' },
      ]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: NUL in a name',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: 'evil\u0000.txt', data: 'x' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: over-long name',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: `evil-${'n'.repeat(300)}`, data: 'x' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'zip: expands past the limit',
      '/uploads/plugins?extract=true&format=zip',
      zip([{ name: 'evil-big.bin', data: Buffer.alloc(20 * 1024) }]),
      'ARCHIVE_TOO_LARGE',
    ],
    [
      'zip: too many entries',
      '/uploads/plugins?extract=true&format=zip',
      zip(Array.from({ length: 60 }, (_, i) => ({ name: `evil-${i}.txt`, data: 'x' }))),
      'ARCHIVE_TOO_LARGE',
    ],
    ['zip: garbage', '/uploads/plugins?extract=true&format=zip', Buffer.from('PK\u0003\u0004 this is not really a zip'), 'ARCHIVE_INVALID'],
    ['tar.gz: ../ entry', '/uploads/plugins?extract=true&format=tar.gz', tgz([{ name: '../evil.txt', data: 'x' }]), 'ARCHIVE_UNSAFE_ENTRY'],
    [
      'tar.gz: absolute entry',
      '/uploads/plugins?extract=true&format=tar.gz',
      tgz([{ name: '/tmp/evil.txt', data: 'x' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'tar.gz: symlink to outside',
      '/uploads/plugins?extract=true&format=tar.gz',
      tgz([{ name: 'evil-link', type: '2', linkname: '/etc' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'tar.gz: symlink then file through it',
      '/uploads/plugins?extract=true&format=tar.gz',
      tgz([
        { name: 'l', type: '2', linkname: '../..' },
        { name: 'l/evil.txt', data: 'x' },
      ]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'tar.gz: hard link to /etc/passwd',
      '/uploads/plugins?extract=true&format=tar.gz',
      tgz([{ name: 'evil-hard', type: '1', linkname: '/etc/passwd' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    [
      'tar.gz: character device',
      '/uploads/plugins?extract=true&format=tar.gz',
      tgz([{ name: 'evil-dev', type: '3' }]),
      'ARCHIVE_UNSAFE_ENTRY',
    ],
    ['tar.gz: FIFO', '/uploads/plugins?extract=true&format=tar.gz', tgz([{ name: 'evil-fifo', type: '6' }]), 'ARCHIVE_UNSAFE_ENTRY'],
    [
      'tar.gz: expands past the limit',
      '/uploads/plugins?extract=true&format=tar.gz',
      tgz([{ name: 'evil-big.bin', data: Buffer.alloc(20 * 1024) }]),
      'ARCHIVE_TOO_LARGE',
    ],
    [
      'tar.gz: a gzip bomb after the last entry',
      '/uploads/plugins?extract=true&format=tar.gz',
      gzipSync(Buffer.concat([buildTar([{ name: 'ok-before.txt', data: 'fine' }], false), Buffer.alloc(4 * 1024 * 1024)])),
      'ARCHIVE_TOO_LARGE',
    ],
    [
      'tar.gz: truncated',
      '/uploads/plugins?extract=true&format=tar.gz',
      tgz([{ name: 'evil.bin', data: Buffer.alloc(4000, 7) }]).subarray(0, 60),
      'ARCHIVE_INVALID',
    ],
    [
      'extract into a linked directory',
      '/uploads/link-dir?extract=true&format=zip',
      buildZip([{ name: 'evil.txt', data: 'x' }]),
      'FILE_PATH_SYMLINK',
    ],
    ['extract into ../', '/uploads/..?extract=true&format=zip', buildZip([{ name: 'evil.txt', data: 'x' }]), 'FILE_PATH_TRAVERSAL'],
    ['unknown archive format', '/uploads/plugins/evil.rar?extract=true', Buffer.from('Rar!'), 'ARCHIVE_UNSUPPORTED'],
    ['raw upload to ../', '/uploads/../evil.txt', Buffer.from('x'), 'FILE_PATH_TRAVERSAL'],
    ['raw upload to an absolute path', '/uploads/%2Ftmp%2Fevil.txt', Buffer.from('x'), 'FILE_PATH_ABSOLUTE'],
    ['raw upload through a link', '/uploads/link-dir/evil.txt', Buffer.from('x'), 'FILE_PATH_SYMLINK'],
    ['raw upload over the size limit', '/uploads/plugins/evil-big.jar', Buffer.alloc(MAX_UPLOAD + 1), 'FILE_TOO_LARGE'],
  ]
  const mp = multipart('../../evil.txt', 'x')
  cases.push(['multipart with a ../ file name', '/uploads/plugins', mp.body, 'FILE_PATH_TRAVERSAL', mp.headers])
  const mpBig = multipart('evil-big.jar', Buffer.alloc(MAX_UPLOAD + 10))
  cases.push(['multipart over the size limit', '/uploads/plugins', mpBig.body, 'FILE_TOO_LARGE', mpBig.headers])
  t.ok(cases.length >= 25, `${cases.length} hostile uploads`)
  for (const [what, p, body, code, headers] of cases) {
    const res = await req(p, body, headers)
    let json: { code?: string; message?: string } = {}
    try {
      json = res.json()
    } catch {
      /* reported below */
    }
    t.equal(json.code, code, `${what} → ${code}`)
    t.ok(res.status >= 400 && res.status < 500, `${what}: a 4xx (${res.status}: ${json.message ?? res.body.toString().slice(0, 100)})`)
  }
  t.same(evilFiles(root), [], 'no file from a hostile archive or upload exists anywhere under the agent root')
  t.notOk(existsSync('/tmp/evil.txt'))
  t.notOk(existsSync(path.join(game, 'plugins', 'ok-before.txt')), 'a refused archive leaves none of its good entries either')
  t.same(readdirSync(path.join(game, 'plugins')), [], 'no staging leftovers')
})

t.test('good uploads: raw, chunked, multipart, zip and tar.gz extraction merging into existing folders', async (t) => {
  const { req, game, agent } = await setup(t)
  let res = await req('/uploads/plugins/essentials.jar', Buffer.from('JARBYTES'))
  t.equal(res.status, 201)
  t.same(res.json(), { path: 'plugins/essentials.jar', bytes: 8 })
  t.equal(readFileSync(path.join(game, 'plugins/essentials.jar'), 'utf8'), 'JARBYTES')
  const mp = multipart('worldedit.jar', 'WE')
  res = await req('/uploads/plugins', mp.body, mp.headers)
  t.equal(res.status, 201)
  t.equal(readFileSync(path.join(game, 'plugins/worldedit.jar'), 'utf8'), 'WE')
  writeFileSync(path.join(game, 'plugins/keep.txt'), 'kept')
  res = await req(
    '/uploads/?extract=true&format=zip',
    buildZip([{ name: 'plugins/' }, { name: 'plugins/Essentials/config.yml', data: 'a: 1' }, { name: 'world/level.dat', data: 'LEVEL' }]),
  )
  t.equal(res.status, 201, JSON.stringify(res.json()))
  t.same(res.json().extracted, { files: 2, directories: 1 })
  t.equal(readFileSync(path.join(game, 'plugins/Essentials/config.yml'), 'utf8'), 'a: 1')
  t.equal(readFileSync(path.join(game, 'plugins/keep.txt'), 'utf8'), 'kept', "existing files beside the archive's stay")
  res = await req(
    '/uploads/world?extract=true&format=tar.gz',
    buildTar([
      { name: './region/', type: '5' },
      { name: './region/r.0.0.mca', data: 'MCA' },
      { name: 'level.dat', data: 'NEWLEVEL' },
    ]),
  )
  t.equal(res.status, 201, JSON.stringify(res.json()))
  t.equal(readFileSync(path.join(game, 'world/region/r.0.0.mca'), 'utf8'), 'MCA')
  t.equal(readFileSync(path.join(game, 'world/level.dat'), 'utf8'), 'NEWLEVEL', 'a file in the archive replaces the old one')
  const upload = await agent.request('/uploads/big/chunked.bin', {
    method: 'POST',
    body: new Blob([Buffer.alloc(5000, 1)]).stream(),
    headers: { 'content-type': 'application/octet-stream' },
    duplex: 'half',
  } as RequestInit)
  t.equal(upload.status, 201, 'a chunked body streams to disk')
  t.equal(readFileSync(path.join(game, 'big/chunked.bin')).length, 5000)
  t.same(readdirSync(path.join(agent.ctx.paths.state, 'upload-tmp')), [], 'temp archives are removed')
})
