// The controller's probe/metrics endpoint (network-reachable in a cluster): hostile request targets
// are 400 and never end the process.
import t from 'tap'
import { Registry } from 'prom-client'
import { ProbeServer } from '../../src/runtime/manager/probes.ts'
import { rawRequest } from './raw-http.ts'

t.test('absolute-form and malformed targets get 400; the server keeps answering', async (t) => {
  const s = new ProbeServer({
    registry: new Registry(),
    healthChecks: new Map([['ping', () => true]]),
    readyChecks: new Map(),
    metricsToken: 'metrics-token-for-test',
  })
  const { port } = await s.start()
  t.teardown(() => s.stop())
  for (const target of ['http://[', 'http://x/metrics', 'https://127.0.0.1/healthz', '//x/metrics', '*', 'healthz']) {
    const res = await rawRequest(port, target)
    t.equal(res.status, 400, `GET ${target}`)
  }
  t.equal((await rawRequest(port, '/metrics')).status, 401, 'metrics still needs its token')
  t.equal((await rawRequest(port, '/healthz')).status, 200, 'still serving')
})
