// Which files the web console serves, decided once at start: the console's own modules (the
// files directly in web/, by name) and a fixed list of vendor files from node_modules (preact,
// htm, xterm), each under a URL that carries its package version so it can be cached for a year.
// No path from a URL ever reaches the file system: a request names a key of these maps or gets
// a 404. Files are read at start and kept in memory (the console is ~100 kB).
//
// Why no bundler: the front end is plain ES modules and the browser resolves the bare imports
// (`preact`, `htm/preact`, `@xterm/xterm`) through the page's import map, so `npm ci` is the
// whole build; nothing needs a network or a toolchain at run or CI time.

import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** A file the console serves. */
export interface ServedFile {
  body: Buffer
  contentType: string
  /** Strong validator (sha256 of the body). */
  etag: string
  /** Vendor files are versioned in their URL: cached for a year; the console's own are revalidated. */
  immutable: boolean
}

/** Where the console is mounted on the portal host. */
export const CONSOLE_PREFIX = '/console'
export const WEB_DIR = join(import.meta.dirname, 'web')

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
}
const OWN_FILE = /^[a-z0-9][a-z0-9-]*\.(js|css|svg|png)$/

/** The vendor files: the import map's bare specifiers and the stylesheets the console links. */
const VENDOR: ReadonlyArray<{ pkg: string; file: string; specifier?: string }> = [
  { pkg: 'preact', file: 'dist/preact.mjs', specifier: 'preact' },
  { pkg: 'preact', file: 'hooks/dist/hooks.mjs', specifier: 'preact/hooks' },
  { pkg: 'htm', file: 'dist/htm.mjs', specifier: 'htm' },
  { pkg: 'htm', file: 'preact/index.mjs', specifier: 'htm/preact' },
  { pkg: '@xterm/xterm', file: 'lib/xterm.mjs', specifier: '@xterm/xterm' },
  { pkg: '@xterm/xterm', file: 'lib/xterm.mjs.map' },
  { pkg: '@xterm/xterm', file: 'css/xterm.css' },
  { pkg: '@xterm/addon-fit', file: 'lib/addon-fit.mjs', specifier: '@xterm/addon-fit' },
  { pkg: '@xterm/addon-fit', file: 'lib/addon-fit.mjs.map' },
]

export interface ConsoleFiles {
  /** URL path (under the prefix, e.g. `app.js`, `vendor/preact@10.29.8/dist/preact.mjs`) → file. */
  readonly files: ReadonlyMap<string, ServedFile>
  /** The import map: bare specifier → absolute URL path. */
  readonly imports: Readonly<Record<string, string>>
  /** Vendor stylesheets by package file (e.g. `@xterm/xterm/css/xterm.css`) → absolute URL path. */
  readonly stylesheets: Readonly<Record<string, string>>
}

export function loadConsoleFiles(webDir = WEB_DIR): ConsoleFiles {
  const files = new Map<string, ServedFile>()
  for (const name of readdirSync(webDir).sort()) {
    // Regular files only: a symlink in web/ would reach outside it.
    if (!OWN_FILE.test(name) || !lstatSync(join(webDir, name)).isFile()) continue
    files.set(name, served(readFileSync(join(webDir, name)), name, false))
  }
  const imports: Record<string, string> = {}
  const stylesheets: Record<string, string> = {}
  const require = createRequire(import.meta.url)
  for (const v of VENDOR) {
    const dir = packageDir(require, v.pkg)
    const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
    const key = `vendor/${v.pkg.replace(/^@[^/]+\//, '')}@${version}/${v.file}`
    files.set(key, served(readFileSync(join(dir, v.file)), v.file, true))
    const url = `${CONSOLE_PREFIX}/${key}`
    if (v.specifier) imports[v.specifier] = url
    if (v.file.endsWith('.css')) stylesheets[`${v.pkg}/${v.file}`] = url
  }
  return { files, imports, stylesheets }
}

function served(body: Buffer, name: string, immutable: boolean): ServedFile {
  const ext = name.slice(name.lastIndexOf('.'))
  const contentType = CONTENT_TYPES[ext]
  if (!contentType) throw new Error(`the console does not serve ${ext} files (${name})`)
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url')}"`, immutable }
}

/** The directory of an installed package (its package.json's), found from its main entry. */
function packageDir(require: NodeJS.Require, pkg: string): string {
  let dir = dirname(require.resolve(pkg))
  for (let i = 0; i < 6; i++) {
    try {
      const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }
      if (meta.name === pkg) return dir
    } catch {
      /* not this level */
    }
    dir = dirname(dir)
  }
  throw new Error(`the console's vendor package ${pkg} is not installed (npm ci installs it)`)
}
