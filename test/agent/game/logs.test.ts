import t from 'tap'
import { existsSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { RotatingLog, readLogTail } from '../../../agent/game/rotating-log.ts'
import { LineRing } from '../../../agent/game/ring-buffer.ts'

t.test('the rotating log keeps at most keep+1 files of about maxBytes each', async (t) => {
  const dir = t.testdir()
  const file = path.join(dir, 'game.log')
  const log = new RotatingLog(file, 1000, 2)
  for (let i = 0; i < 100; i++) log.write(`line ${String(i).padStart(3, '0')} ${'x'.repeat(40)}\n`)
  log.close()
  t.ok(existsSync(`${file}.1`) && existsSync(`${file}.2`), 'rotated files exist')
  t.notOk(existsSync(`${file}.3`), 'older ones are dropped')
  for (const f of [file, `${file}.1`, `${file}.2`]) t.ok(statSync(f).size <= 1000, `${path.basename(f)} within the size limit`)
  t.same(readLogTail(file, 2), [`line 098 ${'x'.repeat(40)}`, `line 099 ${'x'.repeat(40)}`], 'the tail is the newest output')
  t.match(readFileSync(`${file}.1`, 'utf8'), /line 0[0-9]{2}/)
})

t.test('the line ring keeps the last N lines, bounded in length, joining partial chunks', async (t) => {
  const ring = new LineRing(3, 10)
  ring.push('one\ntw')
  ring.push('o\nthree\r\nfour\n')
  ring.push('a-very-long-line-indeed\npartial')
  t.same(ring.tail(), ['four', 'a-very-lon', 'partial'])
  t.same(ring.tail(2), ['a-very-lon', 'partial'])
  ring.clear()
  t.same(ring.tail(), [])
})
