// The artifact fetcher on its own (the API mods use): verified file downloads, resume by Range,
// restart when the server ignores ranges, and each refusal leaving no partial file.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { fetchArtifact } from '../../../agent/index.ts'
import { sha256, startArtifactServer } from '../artifacts.ts'

const blob = randomBytes(300 * 1024)

t.test('downloads, verifies and renames into place', async (t) => {
  const server = await startArtifactServer()
  t.teardown(() => server.close())
  server.add('mod.jar', blob)
  const dest = path.join(t.testdir(), 'mods/mod.jar')
  const progress: number[] = []
  const res = await fetchArtifact({
    outbound: server.outbound,
    url: server.url('mod.jar'),
    sha256: sha256(blob).toUpperCase(),
    dest,
    onProgress: (n) => progress.push(n),
  })
  t.same(res, { path: dest, sha256: sha256(blob), size: blob.length })
  t.ok(fs.readFileSync(dest).equals(blob))
  t.notOk(fs.existsSync(`${dest}.part`))
  t.equal(progress.at(-1), blob.length)
})

t.test('a stalled download resumes with a Range request', async (t) => {
  const server = await startArtifactServer({ ranges: true })
  t.teardown(() => server.close())
  // Stalling (rather than cutting) lets every received byte reach the disk before the retry.
  server.add('mod.jar', blob, { kind: 'stall', bytes: 100 * 1024, times: 1 })
  const dest = path.join(t.testdir(), 'mod.jar')
  const res = await fetchArtifact({
    outbound: server.outbound,
    url: server.url('mod.jar'),
    sha256: sha256(blob),
    dest,
    stallTimeoutMs: 300,
  })
  t.equal(res.size, blob.length)
  t.ok(fs.readFileSync(dest).equals(blob))
  t.equal(server.requests.length, 2)
  t.match(server.requests[1]!.range, /^bytes=\d+-$/, 'the retry asked for the rest only')
  t.ok(Number(/=(\d+)-/.exec(server.requests[1]!.range!)![1]) > 0)
})

t.test('a server ignoring ranges makes the retry start over', async (t) => {
  const server = await startArtifactServer({ ranges: false })
  t.teardown(() => server.close())
  server.add('mod.jar', blob, { kind: 'truncate', bytes: 100 * 1024, times: 1 })
  const dest = path.join(t.testdir(), 'mod.jar')
  await fetchArtifact({ outbound: server.outbound, url: server.url('mod.jar'), sha256: sha256(blob), dest })
  t.ok(fs.readFileSync(dest).equals(blob), 'no duplicated bytes')
})

t.test('refusals', async (t) => {
  const server = await startArtifactServer()
  t.teardown(() => server.close())
  const dir = t.testdir()
  server.add('ok', blob)
  server.add('cut', blob, { kind: 'truncate', bytes: 1000 })
  server.add('stall', blob, { kind: 'stall', bytes: 1000 })
  server.add('boom', blob, { kind: 'status', status: 503 })
  const cases = [
    { label: 'sha256 mismatch', file: 'ok', opts: { sha256: 'f'.repeat(64) }, code: 'ARTIFACT_SHA256_MISMATCH' },
    { label: 'announced size over the limit', file: 'ok', opts: { maxBytes: 1000 }, code: 'ARTIFACT_TOO_LARGE' },
    { label: 'truncated every time', file: 'cut', opts: { attempts: 2 }, code: 'ARTIFACT_TRUNCATED' },
    { label: 'stalled', file: 'stall', opts: { stallTimeoutMs: 300, attempts: 1 }, code: 'ARTIFACT_STALLED' },
    { label: 'overall timeout', file: 'stall', opts: { timeoutMs: 400, stallTimeoutMs: 10_000 }, code: 'ARTIFACT_TIMEOUT' },
    { label: '5xx after retries', file: 'boom', opts: { attempts: 2 }, code: 'ARTIFACT_HTTP_ERROR' },
    { label: 'nothing listening', file: null, opts: { attempts: 1 }, code: 'ARTIFACT_UNREACHABLE' },
  ]
  for (const c of cases) {
    const dest = path.join(dir, `${c.label}.bin`)
    const url = c.file ? server.url(c.file) : 'http://127.0.0.1:1/x'
    const err = await fetchArtifact({
      url,
      outbound: { allowedSources: [...server.outbound.allowedSources, 'http://127.0.0.1:1/'] },
      sha256: sha256(blob),
      dest,
      ...c.opts,
    }).catch((e: unknown) => e)
    t.match(err, { code: c.code }, `${c.label}: ${(err as Error).message}`)
    t.notOk(fs.existsSync(dest), `${c.label}: no file`)
    t.notOk(fs.existsSync(`${dest}.part`), `${c.label}: no partial file`)
  }
  t.equal(server.count('boom'), 2, '5xx retried')
  const aborted = new AbortController()
  const pending = fetchArtifact({
    outbound: server.outbound,
    url: server.url('stall'),
    sha256: sha256(blob),
    dest: path.join(dir, 'a.bin'),
    signal: aborted.signal,
  }).catch((e: unknown) => e)
  setTimeout(() => aborted.abort(), 100)
  t.match(await pending, { code: 'INSTALL_ABORTED' })
})

t.test('a connection that breaks before the body is consumed fails the download, never the process', async (t) => {
  const server = await startArtifactServer()
  t.teardown(() => server.close())
  server.add('cut', blob, { kind: 'truncate', bytes: 1000 })
  const dir = t.testdir()
  const dest = path.join(dir, 'cut.bin')
  // The server cuts the body while the disk check (onHeaders) and the sink are still being set up.
  const err = await fetchArtifact({
    outbound: server.outbound,
    url: server.url('cut'),
    sha256: sha256(blob),
    dest,
    attempts: 1,
    onHeaders: () => new Promise((resolve) => setTimeout(resolve, 300)),
    onProgress: () => {
      throw new Error('a listener that throws')
    },
  }).catch((e: unknown) => e)
  t.match(err, { code: 'ARTIFACT_TRUNCATED' })
  t.notOk(fs.existsSync(dest), 'no file')
  t.notOk(fs.existsSync(`${dest}.part`), 'no partial file')
})
