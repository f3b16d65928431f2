// `zlh up` (startSystem) runs the gateway's Minecraft router on loopback, routing by the IDE suffix
// (`<name>.<namespace>.localhost`), and says where in its result; an explicit port is taken as given.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { startSystem, type RunningSystem } from '../../../src/cli/up/system.ts'
import { Progress } from '../../../src/cli/progress.ts'
import { killProcessesUnder } from '../../e2e/harness.ts'
import { motdText, ping } from './mc-fixtures.ts'

t.setTimeout(240_000)

const stateDir = mkdtempSync(join(tmpdir(), 'zlh-up-mc-'))
let sys: RunningSystem | undefined
t.teardown(async () => {
  await sys?.stop()
  killProcessesUnder(stateDir)
  rmSync(stateDir, { recursive: true, force: true })
})

t.test('the router listens on the port asked, on loopback, with the IDE suffix', async (t) => {
  // A free port, asked for explicitly.
  const probe = createServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
  const port = (probe.address() as AddressInfo).port
  await new Promise<void>((r) => probe.close(() => r()))
  sys = await startSystem({
    stateDir,
    progress: new Progress({ json: true, out: new PassThrough() }),
    codeServer: false,
    minecraftPort: port,
  })
  t.equal(sys.minecraftAddress, `127.0.0.1:${port}`)
  t.equal(sys.ideSuffix, 'localhost')
  const answer = await ping(port, 'nothing.default.localhost')
  t.equal(motdText(answer), 'There is no game server at this address. Check the server address you typed.', 'the router answers')
})
