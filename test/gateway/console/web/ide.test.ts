// When the server page's Open IDE button may be used (src/gateway/console/web/ide.js): the same
// rule as the portal's POST /api/dev/:name/ide-token (src/gateway/portal/ide-routes.ts): a vmid,
// and Ready or asleep (opening the link wakes it); never without code-server.
import t from 'tap'
// @ts-expect-error: a browser module (plain JS with JSDoc), imported by Node for its logic
import { ideUnavailableReason } from '../../../../src/gateway/console/web/ide.js'

const reasonOf = ideUnavailableReason as (server: Record<string, unknown>, codeServerEnabled?: boolean) => string | null

t.test('usable when Ready with a vmid, and when asleep', async (t) => {
  t.equal(reasonOf({ phase: 'Running', ready: true, vmid: 101 }), null)
  t.equal(reasonOf({ phase: 'Running', ready: true, vmid: 101 }, true), null, 'code-server enabled explicitly')
  t.equal(reasonOf({ phase: 'Sleeping', ready: false, vmid: 101, sleep: { level: 'process' } }), null, 'asleep: the link wakes it')
})

t.test('disabled, with the reason, otherwise', async (t) => {
  t.match(reasonOf({ phase: 'Provisioning', ready: false, vmid: null }), /Provisioning, not Ready/)
  t.match(reasonOf({ phase: 'Stopped', ready: false, vmid: 101 }), /Stopped, not Ready/)
  t.match(reasonOf({ ready: false }), /Pending, not Ready/, 'no phase yet reads as Pending')
  t.match(reasonOf({ phase: 'Running', ready: true }), /not Ready/, 'no vmid: nothing to open')
  t.match(reasonOf({ phase: 'Running', ready: true, vmid: 101 }, false), /code-server is not enabled/)
})
