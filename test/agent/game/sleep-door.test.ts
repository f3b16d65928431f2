// The sleeping door's bookkeeping with a fake front door: what a sleeping game answers (MOTD, wake,
// the retry and ask-the-operator messages), a port still held a moment by the game's leftovers is
// retried, other bind errors are not, released doors live on until their connections are gone.
import t from 'tap'
import type { AddressInfo } from 'node:net'
import type { FrontDoorDecision, FrontDoorOptions } from '../../../src/platform/game-protocol/types.ts'
import { ASK_OPERATOR, RETRY_AFTER_WAKE, SleepDoors, type MinecraftDoor } from '../../../agent/game/sleep-door.ts'

class FakeDoor implements MinecraftDoor {
  readonly options: FrontDoorOptions
  failures: string[]
  connections = 0
  listened: number[] = []
  stopped = 0
  closed = 0
  constructor(options: FrontDoorOptions, failures: string[]) {
    this.options = options
    this.failures = failures
  }
  async listen(port: number): Promise<AddressInfo> {
    const code = this.failures.shift()
    if (code) throw Object.assign(new Error(`listen ${code}`), { code })
    this.listened.push(port)
    return { address: '::', family: 'IPv6', port }
  }
  async stopListening(): Promise<void> {
    this.stopped++
  }
  async close(): Promise<void> {
    this.closed++
  }
}

function factory(failures: string[] = []) {
  const made: FakeDoor[] = []
  const create = (o: FrontDoorOptions): FakeDoor => {
    const d = new FakeDoor(o, failures)
    made.push(d)
    return d
  }
  return { made, create }
}

const decide = async (door: FakeDoor): Promise<FrontDoorDecision> =>
  await door.options.decide({ protocolVersion: 769, host: 'x', port: 25565, nextState: 1 }, undefined as never)

t.test('what a sleeping game answers, for wake onConnect and never', async (t) => {
  const f = factory()
  const doors = new SleepDoors(f.create, 10_000)
  const onLogin = async () => ({ host: '127.0.0.1', port: 25565 })
  await doors.open(25565, { gameMotd: 'My world', maxPlayers: 20, wake: 'onConnect', onLogin })
  t.equal(doors.isOpen, true)
  t.same(f.made[0]!.listened, [25565])
  t.equal(f.made[0]!.options.holdTimeoutMs, 10_000)
  const d = await decide(f.made[0]!)
  t.match(d, { action: 'sleeping', motd: 'My world — sleeping, join to wake', maxPlayers: 20, retryMessage: RETRY_AFTER_WAKE })
  t.equal(d.action === 'sleeping' && d.wake, onLogin)

  await doors.open(25565, { gameMotd: 'My world', wake: 'never', onLogin })
  t.equal(f.made[0]!.stopped, 1, 'the previous door stopped listening first')
  const never = await decide(f.made[1]!)
  t.match(never, { action: 'sleeping', motd: 'My world — sleeping', retryMessage: ASK_OPERATOR })
  t.equal(never.action === 'sleeping' && never.wake, undefined, 'wake never: a login is not held')
  await doors.closeAll()
  t.same(
    f.made.map((d) => d.closed),
    [1, 1],
    'every door closed',
  )
})

t.test('a port still in use is retried; another bind error is not', async (t) => {
  const busy = factory(['EADDRINUSE', 'EADDRINUSE'])
  const doors = new SleepDoors(busy.create)
  await doors.open(25565, { gameMotd: null, wake: 'onConnect', onLogin: async () => undefined })
  t.equal(doors.isOpen, true, 'open on the third try')
  await doors.closeAll()

  const denied = factory(['EACCES'])
  const other = new SleepDoors(denied.create)
  await t.rejects(other.open(80, { gameMotd: null, wake: 'onConnect', onLogin: async () => undefined }), { code: 'EACCES' })
  t.equal(other.isOpen, false)
  t.equal(denied.made[0]!.closed, 1, 'the failed door is closed')
})

t.test('a released door keeps its connections until they are gone', async (t) => {
  const f = factory()
  const doors = new SleepDoors(f.create)
  await doors.open(25565, { gameMotd: null, wake: 'onConnect', onLogin: async () => undefined })
  const first = f.made[0]!
  first.connections = 1 // a player proxied through it
  await doors.release()
  t.equal(doors.isOpen, false)
  t.equal(first.stopped, 1)
  t.equal(first.closed, 0, 'the proxied player stays connected')
  await doors.open(25565, { gameMotd: null, wake: 'onConnect', onLogin: async () => undefined })
  t.equal(first.closed, 0, 'still connected at the next sleep')
  first.connections = 0
  await doors.release()
  t.equal(first.closed, 1, 'closed once its player left')
  await doors.closeAll()
  t.equal(f.made[1]!.closed, 1)
})
