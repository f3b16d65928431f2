// The image's conventions as the Containerfile states them, read for the tests that check it
// statically and that run its command line here: the ENTRYPOINT resolved the way the image would
// resolve it (a command name through the image's PATH and the symlinks its RUN lines make, a
// `#!/usr/bin/env node` script through PATH again), with the install directory (WORKDIR) mapped
// to this checkout. No container runtime is needed (none is installed here).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from '../apiserver/harness.ts'

export const CONTAINERFILE = join(REPO, 'manifests', 'Containerfile')

/** Instructions (continuation lines joined, comments dropped) as [KEYWORD, rest]. */
export function containerfileInstructions(text = readFileSync(CONTAINERFILE, 'utf8')): Array<[string, string]> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const i = l.search(/\s/)
      return [l.slice(0, i).toUpperCase(), l.slice(i + 1).trim()]
    })
}

export interface ImageLayout {
  workdir: string
  /** The image's PATH (ENV PATH, `$PATH` as the base image's default). */
  path: string[]
  /** Symlinks made by `ln -s SRC DEST` in RUN lines: DEST → SRC. */
  links: Map<string, string>
  entrypoint: string[]
}

const BASE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

export function imageLayout(ins = containerfileInstructions()): ImageLayout {
  const workdir = ins.filter(([k]) => k === 'WORKDIR').at(-1)?.[1]
  const entry = ins.filter(([k]) => k === 'ENTRYPOINT').at(-1)?.[1]
  if (workdir === undefined || entry === undefined) throw new Error('Containerfile: no WORKDIR or ENTRYPOINT')
  let path = BASE_PATH
  for (const [k, rest] of ins) {
    const m = k === 'ENV' ? /^PATH[= ](.*)$/.exec(rest) : null
    if (m) path = m[1].split(':').flatMap((p) => (p === '$PATH' || p === '${PATH}' ? path : [p]))
  }
  const links = new Map<string, string>()
  for (const [k, rest] of ins) {
    if (k !== 'RUN') continue
    for (const m of rest.matchAll(/ln -s(?:f)? (\S+) (\S+)/g)) links.set(m[2], m[1])
  }
  return { workdir, path, links, entrypoint: JSON.parse(entry) as string[] }
}

/** An image path as a path of this checkout (only WORKDIR's content exists here). */
export function inCheckout(layout: ImageLayout, imagePath: string): string | undefined {
  return imagePath === layout.workdir
    ? REPO
    : imagePath.startsWith(`${layout.workdir}/`)
      ? join(REPO, imagePath.slice(layout.workdir.length + 1))
      : undefined
}

/** A command name through the image's PATH: the file in this checkout it would run. */
export function whichInImage(layout: ImageLayout, name: string): string | undefined {
  for (const dir of layout.path) {
    const imagePath = `${dir}/${name}`
    const target = layout.links.get(imagePath) ?? imagePath
    const local = inCheckout(layout, target)
    if (local !== undefined && existsSync(local)) return local
  }
  return undefined
}

/** ENTRYPOINT as argv on this machine: the interpreter of a script entrypoint first. */
export function containerfileEntrypoint(layout = imageLayout()): string[] {
  const [cmd, ...rest] = layout.entrypoint
  const file = cmd.includes('/') ? inCheckout(layout, cmd) : whichInImage(layout, cmd)
  if (file === undefined)
    throw new Error(
      `Containerfile ENTRYPOINT ${cmd}: not found in the image's PATH (${layout.path.join(':')}) among files of ${layout.workdir}`,
    )
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(readFileSync(file, 'utf8').slice(0, 200))
  if (shebang === null) return [file, ...rest]
  const interpreterName = shebang[1] === '/usr/bin/env' ? shebang[2] : shebang[1]
  const interpreter = whichInImage(layout, interpreterName.split('/').at(-1) as string)
  if (interpreter === undefined)
    throw new Error(
      `Containerfile ENTRYPOINT ${cmd}: its interpreter ${interpreterName} is not one of the image's files under ${layout.workdir}`,
    )
  return [interpreter, file, ...rest]
}
