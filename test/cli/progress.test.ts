// The progress display: plain lines off a TTY, JSON lines with --json, a failed step says why.
import t from 'tap'
import { PassThrough } from 'node:stream'
import { Progress } from '../../src/cli/progress.ts'

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough()
  let buf = ''
  out.on('data', (b: Buffer) => {
    buf += b.toString()
  })
  return { out, text: () => buf }
}

t.test('plain when not a TTY: one line per step, no control characters', async (t) => {
  const c = capture()
  const p = new Progress({ tty: false, out: c.out })
  t.equal(
    await p.step('doing a thing', async (detail) => {
      detail('half')
      return 42
    }),
    42,
  )
  await t.rejects(
    p.step('failing', async () => {
      throw new Error('disk full')
    }),
    /disk full/,
  )
  t.match(c.text(), /^✓ doing a thing \(\d+\.\ds\)\n✗ failing \(\d+\.\ds\): disk full\n$/)
  t.notMatch(c.text(), /\x1b/)
})

t.test('--json: one JSON object per step end and message', async (t) => {
  const c = capture()
  const p = new Progress({ json: true, tty: true, out: c.out })
  await p.step('x', async () => {})
  p.info('ready', { kubeconfig: '/k' })
  const lines = c
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  t.match(lines[0], { msg: 'step done', step: 'x' })
  t.same(lines[1], { msg: 'ready', kubeconfig: '/k' })
})

t.test('TTY: a live line with a spinner while the step runs', async (t) => {
  const c = capture()
  const p = new Progress({ tty: true, out: c.out })
  await p.step(
    'slow',
    (detail) =>
      new Promise((resolve) => {
        detail('3 MB')
        setTimeout(resolve, 400)
      }),
  )
  t.match(c.text(), /\r\x1b\[2K. slow — 3 MB \(0s\)/)
  t.match(c.text(), /✓ slow \(0\.\ds\)\n$/)
})

t.test('a long step without a TTY prints progress lines while it runs (JSON with --json)', async (t) => {
  for (const json of [false, true]) {
    const c = capture()
    const p = new Progress({ json, tty: false, out: c.out, heartbeatMs: 30 })
    await p.step('building', async (detail) => {
      detail('12 MB installed')
      for (let i = 0; i < 100 && c.text().split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 10))
    })
    const lines = c.text().trim().split('\n')
    t.ok(lines.length >= 3, `${json ? 'json' : 'plain'}: progress lines before the end`)
    if (json) t.match(JSON.parse(lines[0] as string), { msg: 'step progress', step: 'building', detail: '12 MB installed' })
    else t.match(lines[0], /^… building — 12 MB installed \(\d+s\)$/)
    t.notMatch(c.text(), /\x1b/)
  }
})
