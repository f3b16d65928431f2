// `zlh artifacts publish`: turns a built artifact directory into RuntimeCatalogs whose URLs point
// at where the files are served, with sha256s re-computed from the files.
//
// Expected flow
//  1. Read DIR/index.json; re-hash every file it names (a missing file is an error naming it).
//  2. With --upload: PUT every file to the artifact server (token, x-zlh-sha256: the server
//     stores a file only when its body hashes to that).
//  3. Unless --no-verify: GET every file from where it is served (the upload server with --upload,
//     else --base-url) and compare its sha256. Nothing is emitted or applied before this passes.
//  4. Emit the catalogs as YAML (stdout or -o, written atomically); with --apply, server-side
//     apply them (field manager zlh-artifacts); with --provider, add base-url to that
//     ContainerProvider's spec.outbound.allowedSources (merge, no duplicates, resourceVersion
//     precondition, retried on conflict).
// Guarantees: a catalog never names a sha256 that was not just computed from the file; the
// upload token is read from a file and never printed.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { CONTAINERPROVIDER } from '../../api/index.ts'
import { writeFileDurable } from '../../platform/durable-file.ts'
import { Client, isConflict, PatchType, serverSideApply, type KObject } from '../../runtime/index.ts'
import type { Progress } from '../progress.ts'
import { fileDigest } from './build.ts'
import { catalogsFor, type PublishedArtifact } from './catalog.ts'
import { readIndex, type IndexEntry } from './index-file.ts'

export const FIELD_MANAGER = 'zlh-artifacts'

export class PublishError extends Error {}

export interface PublishOptions {
  dir: string
  baseUrl: string
  out?: string
  apply?: boolean
  kubeconfig?: string
  provider?: string
  upload?: string
  uploadTokenFile?: string
  verify?: boolean
  forceConflicts?: boolean
  progress: Progress
  /** Where the YAML goes when there is no -o (default stdout). */
  stdout?: NodeJS.WritableStream
}

/** base-url as a source prefix: http(s), no credentials/query/fragment, ending in `/`. */
export function normalizeBaseUrl(raw: string, flag = '--base-url'): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PublishError(`${flag} ${JSON.stringify(raw)} is not a URL: give e.g. http://10.0.0.5:30080/`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new PublishError(`${flag} must be http:// or https://, not ${url.protocol}`)
  if (url.username !== '' || url.password !== '')
    throw new PublishError(`${flag} must not hold a user name or password (containers refuse such URLs)`)
  if (url.search !== '' || url.hash !== '') throw new PublishError(`${flag} must not hold a query or fragment`)
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url.toString()
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** Step 1: the index's files, re-hashed, with their URLs under base. */
export async function publishable(dir: string, base: string): Promise<Array<PublishedArtifact & { file: string }>> {
  const entries: IndexEntry[] = await readIndex(dir)
  if (entries.length === 0)
    throw new PublishError(
      `${dir} has no artifacts (no ${join(dir, 'index.json')} or it is empty): run zlh artifacts build --out ${dir} first`,
    )
  const out: Array<PublishedArtifact & { file: string }> = []
  for (const e of entries) {
    const path = join(dir, e.file)
    const st = await stat(path).catch(() => undefined)
    if (st === undefined || !st.isFile())
      throw new PublishError(`${path} (${e.name} ${e.version} in the index) is missing: run zlh artifacts build --out ${dir} again`)
    const digest = await fileDigest(path)
    out.push({
      name: e.name,
      version: e.version,
      arch: e.arch,
      file: e.file,
      url: new URL(encodeURIComponent(e.file), base).toString(),
      ...digest,
    })
  }
  return out
}

async function readToken(file: string): Promise<string> {
  const token = (
    await readFile(file, 'utf8').catch((err: Error) => {
      throw new PublishError(`cannot read --upload-token-file ${file}: ${err.message}`)
    })
  ).trim()
  if (token === '') throw new PublishError(`--upload-token-file ${file} is empty: put the artifact server's upload token in it`)
  return token
}

/** How long an upload waits for 100 Continue before sending its body anyway (RFC 9110 §10.1.1: a server may not answer it). */
const CONTINUE_WAIT_MS = 3000

/**
 * Step 2: PUT one file; resolves when the server answered 201 with the same sha256. The body waits
 * for the server's 100 Continue (`Expect: 100-continue`), so a refusal (token, name, size) arrives
 * as the server's answer instead of a broken pipe halfway through the file.
 */
export function uploadFile(
  uploadBase: string,
  path: string,
  name: string,
  sha256: string,
  sizeBytes: number,
  token: string,
): Promise<void> {
  const url = new URL(encodeURIComponent(name), uploadBase)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<void>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'x-zlh-sha256': sha256,
          'content-length': sizeBytes,
          'content-type': 'application/octet-stream',
          expect: '100-continue',
        },
      },
      (res) => {
        clearTimeout(fallback)
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => {
          if (chunks.length < 64) chunks.push(c)
        })
        res.on('end', () => {
          // A final answer before 100 Continue: the body was never sent, so the connection is not reused.
          if (!sending) req.destroy()
          const body = Buffer.concat(chunks).toString('utf8')
          if (res.statusCode !== 201) {
            reject(new PublishError(`upload of ${name} to ${url.origin} answered ${res.statusCode}: ${messageOf(body)}`))
            return
          }
          let stored: { sha256?: string } = {}
          try {
            stored = JSON.parse(body) as { sha256?: string }
          } catch {
            /* checked below */
          }
          if (stored.sha256 !== sha256) {
            reject(new PublishError(`upload of ${name}: the server stored sha256 ${stored.sha256 ?? '(none)'}, expected ${sha256}`))
            return
          }
          resolve()
        })
        res.on('error', reject)
      },
    )
    req.on('error', (err) => {
      clearTimeout(fallback)
      reject(new PublishError(`upload of ${name} to ${url.origin} failed: ${err.message}`))
    })
    let sending = false
    const send = (): void => {
      if (sending) return
      sending = true
      clearTimeout(fallback)
      createReadStream(path)
        .on('error', (err) => req.destroy(err))
        .pipe(req)
    }
    const fallback = setTimeout(send, CONTINUE_WAIT_MS)
    req.on('continue', send)
    req.flushHeaders()
  })
}

/** The artifact server's error answer (src/cli/artifacts/errors.ts) as one line: code, message, hint. */
function messageOf(body: string): string {
  try {
    const e = JSON.parse(body) as { code?: unknown; message?: unknown; hint?: unknown }
    return (
      [e.code, e.message, e.hint]
        .filter((p) => typeof p === 'string')
        .join(': ')
        .slice(0, 400) || body.slice(0, 300)
    )
  } catch {
    return body.slice(0, 300)
  }
}

/** Step 3: the file as served hashes to sha256. */
export async function verifyServed(url: string, sha256: string): Promise<void> {
  let res: Response
  try {
    res = await fetch(url, { redirect: 'error' })
  } catch (err) {
    throw new PublishError(
      `cannot GET ${url} to check it: ${(err as Error).message} (pass --no-verify when base-url is not reachable from here)`,
    )
  }
  if (res.status !== 200 || res.body === null)
    throw new PublishError(`GET ${url} answered ${res.status}: the file is not served there; upload it or fix --base-url`)
  const hash = createHash('sha256')
  for await (const chunk of res.body) hash.update(chunk)
  const got = hash.digest('hex')
  if (got !== sha256)
    throw new PublishError(`${url} is served with sha256 ${got}, the file here has ${sha256}: upload it again (--upload) or rebuild`)
}

/** Adds `source` to the provider's spec.outbound.allowedSources (no duplicates); true when it changed. */
export async function allowSource(client: Client, provider: string, source: string): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const live = await client
      .get<KObject & { spec?: { outbound?: { allowedSources?: string[] } } }>(CONTAINERPROVIDER, provider)
      .catch((err: Error) => {
        throw new PublishError(`--provider ${provider}: cannot read that ContainerProvider: ${err.message}`)
      })
    const current = live.spec?.outbound?.allowedSources ?? []
    if (current.includes(source)) return false
    try {
      await client.patch(
        CONTAINERPROVIDER,
        provider,
        undefined,
        {
          metadata: { resourceVersion: live.metadata?.resourceVersion },
          spec: { outbound: { allowedSources: [...current, source] } },
        },
        PatchType.merge,
      )
      return true
    } catch (err) {
      if (!isConflict(err))
        throw new PublishError(`--provider ${provider}: cannot add ${source} to spec.outbound.allowedSources: ${(err as Error).message}`)
    }
  }
  throw new PublishError(`--provider ${provider}: the ContainerProvider kept changing while allowedSources was updated; run again`)
}

export async function publish(o: PublishOptions): Promise<Array<Record<string, unknown>>> {
  const base = normalizeBaseUrl(o.baseUrl)
  if ((o.upload === undefined) !== (o.uploadTokenFile === undefined))
    throw new PublishError(
      "--upload and --upload-token-file go together: give both (the server's URL and the file holding its upload token)",
    )
  const uploadBase = o.upload !== undefined ? normalizeBaseUrl(o.upload, '--upload') : undefined
  const token = o.uploadTokenFile !== undefined ? await readToken(o.uploadTokenFile) : undefined
  if (uploadBase?.startsWith('http:') && !isLoopback(new URL(uploadBase).hostname)) {
    o.progress.info(
      `warning: --upload ${new URL(uploadBase).origin} is plain HTTP beyond loopback: the upload token crosses the network in clear text (use kubectl port-forward, or https)`,
    )
  }
  const files = await o.progress.step(`hashing the artifacts of ${o.dir}`, () => publishable(o.dir, base))
  if (uploadBase !== undefined && token !== undefined) {
    for (const f of files) {
      await o.progress.step(`uploading ${f.file} (${(f.sizeBytes / 1048576).toFixed(1)} MiB) to ${new URL(uploadBase).origin}`, () =>
        uploadFile(uploadBase, join(o.dir, f.file), f.file, f.sha256, f.sizeBytes, token),
      )
    }
  }
  if (o.verify !== false) {
    const servedFrom = uploadBase ?? base
    for (const f of files) {
      await o.progress.step(`checking ${f.file} as served by ${new URL(servedFrom).origin}`, () =>
        verifyServed(new URL(encodeURIComponent(f.file), servedFrom).toString(), f.sha256),
      )
    }
  }
  const catalogs = catalogsFor(files)
  const yaml = catalogs.map((c) => stringify(c)).join('---\n')
  if (o.out !== undefined) {
    await writeFileDurable(o.out, yaml, 0o644)
    o.progress.info(`wrote ${catalogs.length} RuntimeCatalog(s) to ${o.out}`)
  } else {
    ;(o.stdout ?? process.stdout).write(yaml)
  }
  if (o.apply === true || o.provider !== undefined) {
    let client: Client
    try {
      client = Client.fromKubeConfigFile(o.kubeconfig)
    } catch (err) {
      throw new PublishError(
        `no usable kubeconfig${o.kubeconfig ? ` at ${o.kubeconfig}` : ' ($KUBECONFIG, ~/.kube/config)'}: ${(err as Error).message}`,
      )
    }
    try {
      if (o.apply === true) {
        for (const c of catalogs) {
          await serverSideApply(client, c as KObject, { fieldManager: FIELD_MANAGER, force: o.forceConflicts === true }).catch(
            (err: Error) => {
              throw new PublishError(
                `applying RuntimeCatalog ${(c.metadata as { name: string }).name}: ${err.message}${isConflict(err) ? ' (another manager owns these fields: pass --force-conflicts to take them over)' : ''}`,
              )
            },
          )
          o.progress.info(`runtimecatalog.zerolaghub.dev/${(c.metadata as { name: string }).name} applied (field manager ${FIELD_MANAGER})`)
        }
      }
      if (o.provider !== undefined) {
        const changed = await allowSource(client, o.provider, base)
        o.progress.info(
          changed
            ? `containerprovider.zerolaghub.dev/${o.provider}: added ${base} to spec.outbound.allowedSources`
            : `containerprovider.zerolaghub.dev/${o.provider}: ${base} already in spec.outbound.allowedSources`,
        )
      }
    } finally {
      client.close()
    }
  }
  if (o.provider === undefined) {
    o.progress.info(
      `next: containers download only from declared sources — add ${base} to a ContainerProvider's spec.outbound.allowedSources (or run again with --provider NAME)`,
    )
  }
  return catalogs
}
