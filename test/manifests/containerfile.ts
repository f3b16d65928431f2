// The image's conventions as the Containerfile states them, read once for the tests that run its
// command line here: its ENTRYPOINT with the install directory (WORKDIR) mapped to this checkout.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from '../apiserver/harness.ts'

export const CONTAINERFILE = join(REPO, 'manifests', 'Containerfile')

/** Instructions (continuation lines joined, comments dropped) as [keyword, rest]. */
export function containerfileInstructions(text = readFileSync(CONTAINERFILE, 'utf8')): Array<[string, string]> {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => { const i = l.search(/\s/); return [l.slice(0, i).toUpperCase(), l.slice(i + 1).trim()] })
}

/** ENTRYPOINT (exec form) with `node` as this Node and the WORKDIR as the checkout. */
export function containerfileEntrypoint(): string[] {
  const ins = containerfileInstructions()
  const workdir = ins.filter(([k]) => k === 'WORKDIR').at(-1)?.[1]
  const entry = ins.filter(([k]) => k === 'ENTRYPOINT').at(-1)?.[1]
  if (workdir === undefined || entry === undefined) throw new Error('Containerfile: no WORKDIR or ENTRYPOINT')
  const argv = JSON.parse(entry) as string[]
  return argv.map((a, i) => i === 0 && a === 'node' ? process.execPath : a.startsWith(`${workdir}/`) ? join(REPO, a.slice(workdir.length + 1)) : a)
}
