// Test harness: an API server on a random loopback port in a temp dir, and a real-kubectl runner
// with its own KUBECONFIG, HOME and discovery cache so no state leaks between tests.

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../src/apiserver/index.ts'

export const REPO = join(import.meta.dirname, '..', '..')
export const CRDS = join(REPO, 'crds')
export const EXAMPLES = join(REPO, 'manifests', 'examples')

export interface KubectlResult {
  code: number
  stdout: string
  stderr: string
}

export interface Harness {
  server: ApiServer
  dir: string
  kubectl: (
    args: string[],
    opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number; kubeconfig?: string },
  ) => Promise<KubectlResult>
  /** kubectl that must succeed; returns stdout. */
  k: (...args: string[]) => Promise<string>
  restart: (extra?: Partial<ApiServerOptions>) => Promise<ApiServer>
}

export async function startServer(t: Test, extra: Partial<ApiServerOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'zlh-apiserver-'))
  const home = join(dir, 'home')
  const h: Harness = {
    server: await createApiServer({ dataDir: join(dir, 'data'), ...extra }),
    dir,
    kubectl: (args, opts = {}) =>
      new Promise((resolve) => {
        const child = execFile(
          'kubectl',
          [`--cache-dir=${join(dir, 'kube-cache')}`, ...args],
          {
            env: {
              PATH: process.env.PATH ?? '/usr/bin:/bin',
              HOME: home,
              KUBECONFIG: opts.kubeconfig ?? h.server.kubeconfigPath,
              ...opts.env,
            },
            timeout: opts.timeoutMs ?? 60_000,
            maxBuffer: 64 * 1024 * 1024,
          },
          (err, stdout, stderr) => {
            resolve({
              code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
              stdout,
              stderr,
            })
          },
        )
        if (opts.input !== undefined) child.stdin!.end(opts.input)
      }),
    k: async (...args) => {
      const r = await h.kubectl(args)
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`)
      return r.stdout
    },
    restart: async (more = {}) => {
      await h.server.close()
      h.server = await createApiServer({ dataDir: join(dir, 'data'), ...extra, ...more })
      return h.server
    },
  }
  t.teardown(async () => {
    try {
      await h.server.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  return h
}

/** Writes `text` to a file in the harness dir and returns its path. */
export function writeTemp(h: Harness, name: string, text: string): string {
  const p = join(h.dir, name)
  writeFileSync(p, text)
  return p
}

/** Raw HTTPS request to the server with the admin token unless `token` is given (null: none). */
export async function request(
  server: ApiServer,
  method: string,
  path: string,
  opts: { body?: string | Buffer; contentType?: string; accept?: string; token?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; body: Buffer; json: () => any }> {
  const { request: httpsRequest } = await import('node:https')
  const url = new URL(path, server.url)
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers }
    const token = opts.token === undefined ? server.adminToken : opts.token
    if (token) headers.authorization = `Bearer ${token}`
    if (opts.contentType) headers['content-type'] = opts.contentType
    if (opts.accept) headers.accept = opts.accept
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body))
    const req = httpsRequest(url, { method, headers, ca: server.caPem }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        const text = body.toString('utf8')
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, json: () => JSON.parse(text) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (opts.body !== undefined) req.end(opts.body)
    else req.end()
  })
}

/** Writes a kubeconfig for `token` (same server and CA) into the harness dir; pass it as kubectl's `kubeconfig` option. */
export function kubeconfigFor(h: Harness, token: string, name: string): string {
  const p = join(h.dir, `${name}.kubeconfig`)
  writeFileSync(p, h.server.kubeconfigYaml(token), { mode: 0o600 })
  return p
}
