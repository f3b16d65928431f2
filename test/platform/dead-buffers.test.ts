// deadBufferReleaser (src/platform/dead-buffers.ts): a minor GC after every `everyBytes` of chunks
// where the process exposes gc (the agent runs with --expose-gc), nothing where it does not.
import t from 'tap'
import { deadBufferReleaser } from '../../src/platform/dead-buffers.ts'

t.test('without an exposed gc it does nothing', async (t) => {
  const saved = globalThis.gc
  globalThis.gc = undefined
  t.teardown(() => {
    globalThis.gc = saved
  })
  const release = deadBufferReleaser(10)
  t.doesNotThrow(() => {
    for (let i = 0; i < 100; i++) release(64)
  })
})

t.test('with gc: one minor collection per everyBytes of chunks, counted across chunks', async (t) => {
  const saved = globalThis.gc
  const calls: unknown[] = []
  globalThis.gc = ((opts?: unknown) => {
    calls.push(opts)
  }) as NodeJS.GCFunction
  t.teardown(() => {
    globalThis.gc = saved
  })
  const release = deadBufferReleaser(1000)
  release(400)
  release(400)
  t.equal(calls.length, 0, '800 bytes: not yet')
  release(400)
  t.same(calls, [{ type: 'minor' }], 'the 1000th byte: a minor GC')
  release(999)
  t.equal(calls.length, 1, 'the count starts again after a collection')
  release(5000)
  t.equal(calls.length, 2, 'a chunk larger than everyBytes: one collection, not several')
})
