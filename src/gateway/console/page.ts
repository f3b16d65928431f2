// The console's one HTML page and the security headers of everything the console serves.
//
// The page holds no script of its own: its only inline element is the import map (JSON, not
// code), allowed by its sha256 in `script-src`; every script is a module file of this origin.
// xterm.js builds `<style>` elements at run time (sizes, theme) and has no nonce option, so the
// page carries a fresh nonce per response in `style-src` and in a meta tag the console's boot
// module gives to the style elements it sees created (web/boot.js); no other inline style runs.

import { createHash, randomBytes } from 'node:crypto'
import type { ConsoleFiles } from './static-files.ts'
import { CONSOLE_PREFIX } from './static-files.ts'

export interface ConsolePage {
  /** A fresh page and its Content-Security-Policy (the style nonce changes every time). */
  render(): { html: string; csp: string }
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

export function consolePage(files: ConsoleFiles): ConsolePage {
  // `<` escaped so the JSON can never end the script element.
  const importMap = JSON.stringify({ imports: files.imports }).replace(/</g, '\\u003c')
  const importMapHash = createHash('sha256').update(importMap).digest('base64')
  const stylesheets = [...Object.values(files.stylesheets), `${CONSOLE_PREFIX}/style.css`, `${CONSOLE_PREFIX}/tools.css`].filter(
    (href) => !href.startsWith(`${CONSOLE_PREFIX}/`) || files.files.has(href.slice(CONSOLE_PREFIX.length + 1)),
  )
  const icon = files.files.has('favicon.svg') ? `<link rel="icon" href="${CONSOLE_PREFIX}/favicon.svg" type="image/svg+xml">` : ''
  return {
    render() {
      const nonce = randomBytes(18).toString('base64')
      const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="zlh-style-nonce" content="${escapeAttr(nonce)}">
<title>ZeroLagHub console</title>
${icon}
${stylesheets.map((href) => `<link rel="stylesheet" href="${escapeAttr(href)}">`).join('\n')}
<script type="importmap">${importMap}</script>
<script type="module" src="${CONSOLE_PREFIX}/boot.js"></script>
</head>
<body>
<div id="app"><noscript>The ZeroLagHub console needs JavaScript. The portal API (/api) works without it.</noscript></div>
</body>
</html>
`
      return { html, csp: contentSecurityPolicy(`'sha256-${importMapHash}'`, `'nonce-${nonce}'`) }
    },
  }
}

/** The console's CSP; without arguments, the one of every response that is not the page. */
export function contentSecurityPolicy(scriptSource = '', styleSource = ''): string {
  return [
    "default-src 'none'",
    `script-src 'self'${scriptSource ? ` ${scriptSource}` : ''}`,
    `style-src 'self'${styleSource ? ` ${styleSource}` : ''}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ')
}

/** Headers on every console response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}
