// The components' kubeconfigs: client-node reads the token from the token file (its `tokenFile`
// auth provider, the one its in-cluster loader uses) and picks up a rotated token without a restart.
import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { parse } from 'yaml'
import pino from 'pino'
import { Writable } from 'node:stream'
import {
  ServiceAccountCredentials,
  serviceAccountKubeconfigYaml,
  serviceAccountUser,
} from '../../../src/cli/up/service-account-credentials.ts'
import type { Client } from '../../../src/runtime/index.ts'
import { writePrivateFile } from '../../../src/cli/state-dir.ts'

const SA = { namespace: 'zlh-system', name: 'zlh-controller' }

t.test("the kubeconfig names the token file, not the token, and client-node sends the file's token", async (t) => {
  const dir = t.testdir()
  const tokenFile = join(dir, 'zlh-controller.token')
  writePrivateFile(tokenFile, 'first-token-0123456789')
  t.equal(statSync(tokenFile).mode & 0o777, 0o600, 'token file 0600')
  const yaml = serviceAccountKubeconfigYaml(
    { server: 'https://127.0.0.1:6443', caPem: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' },
    SA,
    tokenFile,
  )
  t.notMatch(yaml, /first-token/, 'no token inside the kubeconfig')
  const doc = parse(yaml)
  t.equal(doc.users[0].name, 'system:serviceaccount:zlh-system:zlh-controller')
  t.equal(doc.contexts[0].context.namespace, 'zlh-system')
  const kc = new KubeConfig()
  kc.loadFromString(yaml)
  const opts: { headers?: Record<string, string> } = {}
  await kc.applyToHTTPSOptions(opts as never)
  t.equal(opts.headers?.Authorization, 'Bearer first-token-0123456789', "exactly the file's bytes (no newline)")
})

t.test('a rotated token file is read again (client-node re-reads it after a minute)', async (t) => {
  const dir = t.testdir()
  const tokenFile = join(dir, 't')
  writeFileSync(tokenFile, 'old-token')
  const kc = new KubeConfig()
  kc.loadFromString(serviceAccountKubeconfigYaml({ server: 'https://127.0.0.1:1' }, SA, tokenFile))
  const header = async (): Promise<string | undefined> => {
    const o: { headers?: Record<string, string> } = {}
    await kc.applyToHTTPSOptions(o as never)
    return o.headers?.Authorization
  }
  t.equal(await header(), 'Bearer old-token')
  writePrivateFile(tokenFile, 'new-token')
  const realNow = Date.now
  // The auth provider's re-read interval, without waiting for it.
  Date.now = () => realNow() + 61_000
  const RealDate = globalThis.Date
  globalThis.Date = class extends RealDate {
    constructor(...a: []) {
      super(...(a.length ? a : ([realNow() + 61_000] as unknown as [])))
    }
  } as DateConstructor
  try {
    t.equal(await header(), 'Bearer new-token')
  } finally {
    Date.now = realNow
    globalThis.Date = RealDate
  }
})

t.test("the user name is Kubernetes' system:serviceaccount:<ns>:<name>", async (t) => {
  t.equal(serviceAccountUser({ namespace: 'a', name: 'b' }), 'system:serviceaccount:a:b')
})

t.test('rotation at 80 % of the lifetime the server stamped; a failure is logged (no token) and retried', async (t) => {
  const dir = t.testdir()
  const asked: unknown[] = []
  const answers: Array<() => unknown> = [
    () => ({ status: { token: 'tok-1', expirationTimestamp: new Date(Date.now() + 2000).toISOString() } }),
    () => {
      throw new Error('POST …/token: 503 ServiceUnavailable')
    },
    () => ({ status: { token: 'tok-2', expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() } }),
  ]
  const client = {
    rest: {
      request: async (method: string, path: string, opts: { body: unknown }) => {
        asked.push([method, path, opts.body])
        return (answers.shift() as () => unknown)()
      },
    },
  } as unknown as Client
  const logged: any[] = []
  const log = pino(
    { level: 'info' },
    new Writable({
      write(c, _e, cb) {
        logged.push(JSON.parse(String(c)))
        cb()
      },
    }),
  )
  const creds = await ServiceAccountCredentials.mint({
    client,
    sa: SA,
    dir,
    endpoint: { server: 'https://127.0.0.1:1' },
    lifetimeSeconds: 3600,
    retryMs: 100,
    log,
  })
  t.teardown(() => creds.stop())
  t.same(
    asked[0],
    [
      'POST',
      '/api/v1/namespaces/zlh-system/serviceaccounts/zlh-controller/token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    ],
    'the TokenRequest API',
  )
  t.equal(readFileSync(creds.tokenFile, 'utf8'), 'tok-1')
  const deadline = Date.now() + 10_000
  while (readFileSync(creds.tokenFile, 'utf8') !== 'tok-2' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.equal(readFileSync(creds.tokenFile, 'utf8'), 'tok-2', 'rotated after the failed attempt')
  t.equal(asked.length, 3, 'first token, failed rotation, retry')
  const warn = logged.find((l) => l.level === 40)
  t.match(warn, { serviceAccount: 'system:serviceaccount:zlh-system:zlh-controller', err: /503/ }, 'the failure is logged at warn')
  t.notOk(
    logged.some((l) => /tok-1|tok-2/.test(JSON.stringify(l))),
    'no token in the log',
  )
  t.ok(creds.expiresAt.getTime() > Date.now() + 3_000_000, 'the new expiry')
})
