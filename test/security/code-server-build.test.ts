// The code-server build's trust edges: what npm prints reaches DevServer conditions and Events
// (readable by whoever may read the DevServer), so secrets in it are redacted; the build's npm gets
// an allowlisted environment, so the control plane's own secrets never reach npm's install
// scripts; the build annotation is input the controller parses, so a malformed or oversized value
// is ignored or bounded, and it matters only while no code-server catalog exists.
import t from 'tap'
import { cleanBuildEnv, CodeServerBuildError } from '../../src/cli/up/code-server-build.ts'
import { CODE_SERVER_BUILD_ANNOTATION, CODE_SERVER_BUILD_MESSAGE_MAX, codeServerBuildOf } from '../../src/api/code-server-build.ts'
import { codeServerWait } from '../../controller/code-server-build.ts'
import type { DevServer, RuntimeCatalog } from '../../controller/kinds.ts'

t.test('secrets in npm output never reach the failure message', async (t) => {
  const output = [
    'npm error code E401',
    'npm error //registry.example.com/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123',
    'npm error fetching https://deploy:s3cr3tpass@registry.example.com/code-server',
    'npm error Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig',
    'npm error password = hunter2',
    'npm error token: zlh_abcdef_0123456789',
  ].join('\n')
  const msg = new CodeServerBuildError(1, null, output).message
  for (const secret of ['npm_abcdefghijklmnopqrstuvwxyz0123', 's3cr3tpass', 'eyJhbGciOiJIUzI1NiJ9', 'hunter2', 'zlh_abcdef_0123456789']) {
    t.notOk(msg.includes(secret), `${secret.slice(0, 6)}… redacted`)
  }
  t.match(msg, /E401/, 'what went wrong still shows')
})

t.test("npm's environment is an allowlist: the control plane's secrets stay out", async (t) => {
  const env = cleanBuildEnv({
    PATH: '/usr/bin',
    HOME: '/h',
    KUBECONFIG: '/s/kubeconfig',
    ZLH_ADMIN_TOKEN: 'x',
    NPM_TOKEN: 'x',
    GITHUB_TOKEN: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    npm_config__authToken: 'x',
    NODE_OPTIONS: '--require /tmp/evil.js',
    LD_PRELOAD: '/tmp/evil.so',
  })
  t.same(Object.keys(env).sort(), ['HOME', 'PATH'])
})

t.test('the build annotation is parsed strictly and bounded', async (t) => {
  const ann = (v: string): Record<string, string> => ({ [CODE_SERVER_BUILD_ANNOTATION]: v })
  for (const bad of [
    'not json',
    '[]',
    'null',
    '{"phase":"Ready","message":"x","attempt":1}',
    '{"phase":"Failed","message":7,"attempt":1}',
    '{"phase":"Failed","message":"x","attempt":1.5}',
  ]) {
    t.equal(codeServerBuildOf(ann(bad)), undefined, `ignored: ${bad}`)
  }
  const huge = codeServerBuildOf(ann(JSON.stringify({ phase: 'Failed', message: 'x'.repeat(100_000), attempt: 1, retryAt: 5 })))
  t.equal(huge?.message.length, CODE_SERVER_BUILD_MESSAGE_MAX, 'message cut to the bound')
  t.notOk(huge && 'retryAt' in huge, 'a non-string retryAt is dropped')
})

t.test('the annotation speaks only while the DevServer waits for a missing catalog', async (t) => {
  const ds = (enabled: boolean): DevServer =>
    ({
      apiVersion: 'zerolaghub.dev/v1alpha1',
      kind: 'DevServer',
      metadata: {
        name: 'd',
        namespace: 'n',
        annotations: { [CODE_SERVER_BUILD_ANNOTATION]: JSON.stringify({ phase: 'Failed', message: 'boom', attempt: 2 }) },
      },
      spec: { codeServer: { enabled } },
    }) as unknown as DevServer
  t.match(codeServerWait(ds(true), undefined), { reason: 'CodeServerBuildFailed', message: /^code-server build attempt 2 failed: boom$/ })
  t.equal(
    codeServerWait(ds(true), { metadata: { name: 'code-server' } } as unknown as RuntimeCatalog),
    undefined,
    'a catalog exists: ignored',
  )
  t.equal(codeServerWait(ds(false), undefined), undefined, 'code-server disabled: ignored')
})
