// envtest: a real API server in-process for controller tests, as controller-runtime's envtest
// (which needs etcd + kube-apiserver binaries; this needs nothing). Thin wrapper over the
// embedded server: start it on a random loopback port over HTTPS with a temporary data dir,
// install CRDs, wait until they are served, hand back a KubeConfig and a Client, stop cleanly.
//
// Expected flow: const env = await startTestEnv({ crds: ['path/to/crds'] }); ... await env.stop()
// Guarantees: when startTestEnv resolves, every given CRD's kind answers discovery; stop()
// closes the server and removes the data dir it created (not one you passed).

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import { parseAllDocuments } from 'yaml'
import { createApiServer, type ApiServer, type ApiServerOptions } from '../../apiserver/index.ts'
import { Client } from '../client/client.ts'
import type { KObject } from '../client/objects.ts'
import { ErrorCodes, RuntimeError } from '../errors.ts'

export interface TestEnvOptions {
  /** CRD objects, or paths of YAML files / directories of them. */
  crds?: Array<string | KObject>
  /** Passed to the server (e.g. watchHistorySize); dataDir defaults to a fresh temp dir. */
  server?: Partial<ApiServerOptions>
  /** How long to wait for CRDs to be served (default 10 s). */
  crdTimeoutMs?: number
}

export interface TestEnv {
  server: ApiServer
  kubeConfig: KubeConfig
  client: Client
  dataDir: string
  /** Stops the server; a fresh start on the same dataDir resumes its objects. */
  stop(): Promise<void>
}

export async function startTestEnv(opts: TestEnvOptions = {}): Promise<TestEnv> {
  const ownDir = opts.server?.dataDir === undefined
  const dataDir = opts.server?.dataDir ?? mkdtempSync(join(tmpdir(), 'envtest-'))
  let server: ApiServer | undefined
  try {
    server = await createApiServer({ host: '127.0.0.1', port: 0, ...opts.server, dataDir })
    const kubeConfig = server.kubeConfig()
    const client = new Client(kubeConfig)
    const crds = (opts.crds ?? []).flatMap(loadCrds)
    for (const crd of crds) await client.create(crd)
    await waitServed(client, crds, opts.crdTimeoutMs ?? 10_000)
    const s = server
    let stopped = false
    return {
      server: s,
      kubeConfig,
      client,
      dataDir,
      async stop() {
        if (stopped) return
        stopped = true
        client.close()
        await s.close()
        if (ownDir) removeDir(dataDir)
      },
    }
  } catch (err) {
    await server?.close()
    if (ownDir) removeDir(dataDir)
    throw err
  }
}

/**
 * Removes the data dir, checking that it is gone: a recursive rmSync has been seen to return with
 * an entry left behind while the server's files were still settling after close().
 */
function removeDir(dir: string): void {
  for (let attempt = 0; attempt < 5 && existsSync(dir); attempt++) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
  }
}

function loadCrds(source: string | KObject): KObject[] {
  if (typeof source !== 'string') return [source]
  const files = statSync(source).isDirectory()
    ? readdirSync(source)
        .filter((f) => /\.ya?ml$|\.json$/.test(f))
        .sort()
        .map((f) => join(source, f))
    : [source]
  return files
    .flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJS() as KObject))
    .filter((o) => o?.kind === 'CustomResourceDefinition')
}

interface CrdSpec {
  group: string
  names: { kind: string }
  versions: Array<{ name: string; served?: boolean }>
}

async function waitServed(client: Client, crds: KObject[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (const crd of crds) {
    const spec = crd.spec as CrdSpec
    for (const v of spec.versions.filter((x) => x.served !== false)) {
      const kind = { apiVersion: `${spec.group}/${v.name}`, kind: spec.names.kind }
      for (;;) {
        try {
          await client.resource(kind)
          break
        } catch (err) {
          if (Date.now() > deadline)
            throw new RuntimeError(ErrorCodes.KIND_NOT_SERVED, `CRD ${crd.metadata?.name} not served within ${timeoutMs} ms`, {
              cause: err,
            })
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    }
  }
}
