// The artifact server's authenticated uploads (src/cli/artifacts/server.ts) under hostile
// clients: no or wrong token, bad names, over-size and mismatching bodies, connections cut
// mid-body, concurrent uploads of one name — nothing partial is ever stored or left behind, and
// the token is never logged. Also: without a token PUT is 405; GET traversal stays 404.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { startArtifactServer, type ArtifactServer } from '../../src/cli/artifacts/server.ts'
import { exchange, rawRequest } from './raw-http.ts'

const TOKEN = 'upload-token-0123456789abcdef'
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

interface Setup {
  dir: string
  root: string
  server: ArtifactServer
  port: number
  events: Array<Record<string, unknown>>
}

async function setup(t: Test, opts: { token?: string; maxUploadBytes?: number } = { token: TOKEN }): Promise<Setup> {
  const root = mkdtempSync(join(tmpdir(), 'zlh-upload-'))
  const dir = join(root, 'served')
  mkdirSync(dir)
  writeFileSync(join(root, 'secret.txt'), 'outside')
  const events: Array<Record<string, unknown>> = []
  const server = await startArtifactServer(dir, {
    uploadToken: opts.token,
    maxUploadBytes: opts.maxUploadBytes,
    onUpload: (e) => events.push(e),
  })
  t.teardown(async () => {
    await server.close()
    rmSync(root, { recursive: true, force: true })
  })
  return { dir, root, server, port: Number(new URL(server.baseUrl).port), events }
}

const put = (s: Setup, target: string, body: string, headers: Record<string, string> = {}) =>
  rawRequest(s.port, target, { method: 'PUT', body, headers: { authorization: `Bearer ${TOKEN}`, 'x-zlh-sha256': sha(body), ...headers } })

t.test('an upload with the right token and hash is stored whole and served', async (t) => {
  const s = await setup(t)
  const res = await put(s, '/java-21.tar.gz', 'jdk-bytes')
  t.equal(res.status, 201)
  t.same(JSON.parse(res.body), { name: 'java-21.tar.gz', sha256: sha('jdk-bytes'), sizeBytes: 9 })
  t.equal(readFileSync(join(s.dir, 'java-21.tar.gz'), 'utf8'), 'jdk-bytes')
  t.equal(await (await fetch(s.server.url('java-21.tar.gz'))).text(), 'jdk-bytes')
  t.same(readdirSync(s.dir), ['java-21.tar.gz'], 'no temporary file left')
})

t.test('no token, a wrong token, another scheme: 401 and nothing stored (RFC 6750 Bearer)', async (t) => {
  const s = await setup(t)
  for (const auth of [
    undefined,
    'Bearer wrong',
    `Bearer ${TOKEN}x`,
    `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    'Bearer',
  ]) {
    const res = await rawRequest(s.port, '/a.tar.gz', {
      method: 'PUT',
      body: 'x',
      headers: { 'x-zlh-sha256': sha('x'), ...(auth ? { authorization: auth } : {}) },
    })
    t.equal(res.status, 401, `authorization ${auth ?? '(none)'}`)
    t.equal(JSON.parse(res.body).code, 'ZLH_ARTIFACTS_TOKEN_REQUIRED')
    t.match(res.head, /www-authenticate: Bearer/i)
  }
  t.same(readdirSync(s.dir), [])
  t.notOk(JSON.stringify(s.events).includes(TOKEN), 'the token is never in an event')
})

t.test('bad names are refused (400) and nothing is written outside or inside the directory', async (t) => {
  const s = await setup(t)
  for (const target of [
    '/..',
    '/../secret.txt',
    '/%2e%2e',
    '/%2e%2e%2fsecret.txt',
    '/a%2fb.tar.gz',
    '/sub/a.tar.gz',
    '/a%00.tar.gz',
    '/.hidden',
    `/${'a'.repeat(300)}`,
    '/',
    '/%zz',
    '/healthz',
  ]) {
    const res = await put(s, target, 'x')
    t.equal(res.status, 400, `PUT ${target.slice(0, 40)}`)
    t.equal(JSON.parse(res.body).code, 'ZLH_ARTIFACTS_BAD_NAME')
  }
  t.same(readdirSync(s.dir), [])
  t.equal(readFileSync(join(s.root, 'secret.txt'), 'utf8'), 'outside')
})

t.test('a missing or malformed x-zlh-sha256 is 400', async (t) => {
  const s = await setup(t)
  t.equal((await rawRequest(s.port, '/a.tar.gz', { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${TOKEN}` } })).status, 400)
  t.equal((await put(s, '/a.tar.gz', 'x', { 'x-zlh-sha256': 'abc' })).status, 400)
  t.same(readdirSync(s.dir), [])
})

t.test('a body whose sha256 differs is 400 and leaves neither the file nor a temporary file; an older file stays', async (t) => {
  const s = await setup(t)
  t.equal((await put(s, '/a.tar.gz', 'good')).status, 201)
  const res = await put(s, '/a.tar.gz', 'evil', { 'x-zlh-sha256': sha('other') })
  t.equal(res.status, 400)
  t.equal(JSON.parse(res.body).code, 'ZLH_ARTIFACTS_HASH_MISMATCH')
  t.match(JSON.parse(res.body).message, /nothing was stored/)
  t.equal(readFileSync(join(s.dir, 'a.tar.gz'), 'utf8'), 'good', 'the old file is untouched')
  t.same(readdirSync(s.dir), ['a.tar.gz'])
})

t.test('over the size limit: 413 by content-length and by a chunked body, nothing left', async (t) => {
  const s = await setup(t, { token: TOKEN, maxUploadBytes: 16 })
  const declared = await put(s, '/big.tar.gz', 'x'.repeat(17))
  t.equal(declared.status, 413, 'declared too large')
  t.equal(JSON.parse(declared.body).code, 'ZLH_ARTIFACTS_TOO_LARGE')
  const body = 'y'.repeat(40)
  const chunked =
    `PUT /big.tar.gz HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\nx-zlh-sha256: ${sha(body)}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n` +
    `14\r\n${body.slice(0, 20)}\r\n14\r\n${body.slice(20)}\r\n0\r\n\r\n`
  t.equal((await exchange(s.port, chunked)).status, 413, 'chunked body grows too large')
  t.equal((await put(s, '/ok.tar.gz', 'x'.repeat(16))).status, 201, 'exactly the limit is fine')
  t.same(readdirSync(s.dir), ['ok.tar.gz'])
})

t.test('a connection cut mid-body leaves no file and no temporary file', async (t) => {
  const s = await setup(t)
  const body = 'z'.repeat(100_000)
  await new Promise<void>((resolve) => {
    const sock = connect(s.port, '127.0.0.1', () => {
      sock.write(
        `PUT /cut.tar.gz HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\nx-zlh-sha256: ${sha(body)}\r\ncontent-length: ${body.length}\r\n\r\n`,
      )
      sock.write(body.slice(0, 50_000), () =>
        setImmediate(() => {
          sock.destroy()
          resolve()
        }),
      )
    })
  })
  // The server notices the close; wait (bounded: 15 s, a loaded machine is slow) until the upload's outcome is recorded.
  for (let i = 0; i < 1500 && !s.events.some((e) => e.name === 'cut.tar.gz'); i++) await new Promise((r) => setTimeout(r, 10))
  t.ok(
    s.events.some((e) => e.name === 'cut.tar.gz' && e.status === 0),
    'the aborted upload was seen',
  )
  for (let i = 0; i < 1500 && readdirSync(s.dir).length > 0; i++) await new Promise((r) => setTimeout(r, 10))
  t.same(readdirSync(s.dir), [], 'neither cut.tar.gz nor .upload-* remains')
})

/** Sends a PUT's head with `Expect: 100-continue` and returns the first status line the server answers with. */
function firstAnswerToExpect(port: number, auth: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(
        `PUT /held.tar.gz HTTP/1.1\r\nhost: x\r\nauthorization: ${auth}\r\nx-zlh-sha256: ${sha(body)}\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`,
      )
    })
    let got = ''
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1')
      if (got.includes('\r\n')) {
        sock.destroy()
        resolve(got.slice(0, got.indexOf('\r\n')))
      }
    })
    sock.on('error', reject)
    sock.setTimeout(10_000, () => {
      sock.destroy()
      reject(new Error('no answer to the request head within 10 s'))
    })
  })
}

t.test(
  'Expect: 100-continue (RFC 9110): a refused upload is answered before its body is sent, an accepted one is told to go on',
  async (t) => {
    const s = await setup(t)
    const body = 'b'.repeat(50_000)
    t.equal(await firstAnswerToExpect(s.port, 'Bearer wrong', body), 'HTTP/1.1 401 Unauthorized', 'the refusal, not 100 Continue')
    t.equal(await firstAnswerToExpect(s.port, `Bearer ${TOKEN}`, body), 'HTTP/1.1 100 Continue')
    t.same(
      readdirSync(s.dir).filter((n) => n === 'held.tar.gz'),
      [],
      'nothing stored from a body never sent',
    )
  },
)

t.test('concurrent uploads of one name: each completes, the file is one of them whole, no temporary file', async (t) => {
  const s = await setup(t)
  const bodies = Array.from({ length: 6 }, (_, i) => String(i).repeat(200_000 + i))
  const answers = await Promise.all(bodies.map((b) => put(s, '/same.tar.gz', b)))
  t.same(
    answers.map((a) => a.status),
    bodies.map(() => 201),
  )
  const stored = readFileSync(join(s.dir, 'same.tar.gz'), 'utf8')
  t.ok(bodies.includes(stored), 'the stored file is exactly one of the uploads')
  t.same(readdirSync(s.dir), ['same.tar.gz'])
})

t.test('without an upload token PUT is 405; GET traversal is 404; /healthz answers', async (t) => {
  const s = await setup(t, {})
  const res = await put(s, '/a.tar.gz', 'x')
  t.equal(res.status, 405)
  t.equal(JSON.parse(res.body).code, 'ZLH_ARTIFACTS_UPLOADS_OFF')
  t.match(res.head, /allow: GET, HEAD/i)
  t.same(readdirSync(s.dir), [])
  for (const target of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/.upload-1', '/a%00']) {
    t.equal((await rawRequest(s.port, target)).status, 404, `GET ${target}`)
  }
  const health = await rawRequest(s.port, '/healthz')
  t.equal(health.status, 200)
  t.equal(health.body, 'ok\n')
})

t.test('an empty token is refused at start', async (t) => {
  await t.rejects(startArtifactServer(tmpdir(), { uploadToken: '' }), /upload token is empty/)
})
