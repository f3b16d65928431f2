import t from 'tap'
import { Registry, Counter } from 'prom-client'
import { ProbeServer, type Check } from '../../../src/runtime/manager/probes.ts'

t.test('probe server: healthz, readyz follows checks, metrics with token', async (t) => {
  const registry = new Registry()
  const c = new Counter({ name: 'demo_total', help: 'demo', registers: [registry] })
  let ready = false
  const readyChecks = new Map<string, Check>([['informer-sync', () => ready]])
  const s = new ProbeServer({ registry, healthChecks: new Map([['ping', () => true]]), readyChecks, metricsToken: 'sekret' })
  const addr = await s.start()
  t.teardown(() => s.stop())
  const base = `http://127.0.0.1:${addr.port}`
  t.equal((await fetch(`${base}/healthz`)).status, 200)
  const notReady = await fetch(`${base}/readyz`)
  t.equal(notReady.status, 500)
  t.match(await notReady.text(), /\[-\]informer-sync failed/)
  ready = true
  t.equal((await fetch(`${base}/readyz`)).status, 200)
  t.equal((await fetch(`${base}/metrics`)).status, 401)
  t.equal((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong!' } })).status, 401)
  c.inc(3)
  const m = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer sekret' } })
  t.equal(m.status, 200)
  t.match(await m.text(), /demo_total 3/)
  t.equal((await fetch(`${base}/nope`)).status, 404)
  t.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405)
})

t.test('refuses a non-loopback bind without a metrics token', async (t) => {
  t.throws(() => new ProbeServer({ host: '0.0.0.0', registry: new Registry(), healthChecks: new Map(), readyChecks: new Map() }), {
    code: 'RT_INVALID_OPTION',
  })
})
