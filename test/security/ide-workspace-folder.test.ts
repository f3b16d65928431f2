// The IDE's workspace redirect is built from DevServer status.ide.folder (written by the
// controller from what the agent reports). A hostile value — from a compromised agent or anyone
// who may write the status — must not make the redirect leave the dev host's origin or inject
// anything into the response: the CRD refuses what is not an absolute path, and the gateway
// ignores any folder that is not a plain absolute path (control characters, `..`, `//host`) and
// opens the default /home/dev/workspace instead. Real API server, real gateway informer.
import t from 'tap'
import { send, sessionCookieOf, startUpstream, waitFor } from '../gateway/fixtures.ts'
import { readyConditions, startPortal, type PortalEnv } from '../gateway/portal/portal-env.ts'

const VMID = 4343

t.test('status.ide.folder cannot turn the workspace redirect into anything else', async (t) => {
  const upstream = await startUpstream()
  t.teardown(() => upstream.close())
  const p = await startPortal(t)
  const w = await p.token('servers:read', 'servers:write', 'ide')
  t.equal(
    (await p.api('/api/dev/box', { method: 'PUT', token: w, json: { spec: { running: true, codeServer: { enabled: true } } } })).status,
    201,
  )
  const ide = (folder?: string) => ({
    host: `dev-${VMID}.zlh.test`,
    url: `https://dev-${VMID}.zlh.test/`,
    ...(folder === undefined ? {} : { folder }),
  })
  await p.setStatus('DevServer', 'box', {
    phase: 'Running',
    vmid: VMID,
    address: upstream.address,
    ide: ide(),
    conditions: readyConditions(true),
  })
  await waitFor(() => p.svc.routes.lookup(VMID)?.ready === true, 'the informer to route the DevServer')
  const cookie = await signIn(p, w)
  const host = `dev-${VMID}.zlh.test:${p.svc.gateway.port}`
  const origin = `https://${host}`
  const redirectFor = async (folder: string) => {
    await p.setStatus('DevServer', 'box', { ide: ide(folder) })
    await waitFor(
      () => p.svc.routes.lookup(VMID)?.address === upstream.address && seen(p, folder),
      `the informer to see folder ${JSON.stringify(folder)}`,
    )
    return send(p.svc.gateway, { host, path: '/', headers: { cookie } })
  }

  const good = '/home/alice/.local/state/zlh/containers/local/containers/4343/root/home/dev/workspace'
  const r = await redirectFor(good)
  t.equal(r.status, 302)
  t.equal(r.headers.location, `${origin}/?folder=${good}`, 'the reported folder is opened')

  for (const folder of ['relative/path', '//evil.example/x', '/']) {
    const res = await p.env.client
      .patch(
        { apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer' },
        'box',
        'default',
        { status: { ide: ide(folder) } },
        'application/merge-patch+json',
        { subresource: 'status', fieldManager: 'zlh-controller' },
      )
      .then(
        () => 'accepted',
        (err: Error) => err.message,
      )
    t.match(res, /folder/, `${JSON.stringify(folder)} is refused by the API server, naming the field`)
  }

  for (const folder of ['/ok\r\nSet-Cookie: pwned=1', '/a/../../etc', '/tab\there', '/x\u2028y', '/a//b']) {
    // The good folder first, so that the route visibly changes when the hostile one arrives.
    t.equal((await redirectFor(good)).headers.location, `${origin}/?folder=${good}`)
    const res = await redirectFor(folder)
    const name = JSON.stringify(folder).replace(/[^\x20-\x7e]/g, '?')
    t.equal(res.status, 302, name)
    t.equal(res.headers.location, `${origin}/?folder=/home/dev/workspace`, `${name}: ignored, the default opens on the dev host`)
    t.notOk(JSON.stringify(res.headers).includes('pwned'), `${name}: nothing injected into the response`)
  }
})

/** True once the route reflects the status's folder: kept when plain, dropped otherwise. */
function seen(p: PortalEnv, folder: string): boolean {
  const route = p.svc.routes.lookup(VMID)
  const plain =
    !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/.test(folder) &&
    !folder
      .split('/')
      .slice(1)
      .some((s) => s === '' || s === '.' || s === '..')
  return plain ? route?.folder === folder : route?.folder === undefined
}

async function signIn(p: PortalEnv, token: string): Promise<string> {
  const link = await p.api('/api/dev/box/ide-token', { method: 'POST', token })
  const url = new URL(link.json.url)
  const redeem = await send(p.svc.gateway, { host: url.host, path: url.pathname + url.search })
  const cookie = sessionCookieOf(redeem)
  if (redeem.status !== 302 || !cookie) throw new Error(`sign-in failed: ${redeem.status}`)
  return cookie
}
