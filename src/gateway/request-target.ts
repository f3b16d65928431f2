// The gateway's one rule for request targets, applied before anything routes or authenticates
// (HTTP requests and WebSocket upgrades, portal host and IDE hosts alike). The gateway is not a
// forward proxy, and it never lets two spellings of one path reach different decisions.
//
// The rule (refuse, never normalise):
//  - Every host: the target must be origin-form, `/path[?query]`. Absolute-form (`http://…`,
//    `https://…`), authority-form (`host:port`, CONNECT) and `*` are refused with 400; only
//    `OPTIONS *` is accepted (answered by the gateway itself). A `#` anywhere is refused (clients
//    never send fragments; routers disagree on where it ends the path).
//  - Portal host (everything that is not an IDE host) additionally: the path (before `?`) must
//    already be in normal form, so what the router matches is exactly what was sent:
//      no empty segment (`//`), no `.` or `..` segment, no backslash, no control character;
//      percent-escapes must be well formed and may not encode an unreserved character
//      (letters, digits, `-._~`: `%61pi`, `%2e%2e`), a slash or backslash (`%2F`, `%5C`) or a
//      control character (`%00`). Other escapes (space, non-ASCII, `%25`, `%3F`, …) stay allowed:
//      file names need them, and they decode inside one segment.
//    Anything else → 400 naming what was wrong. The IDE hosts forward paths to code-server
//    verbatim and authorise by host and cookie, never by path, so only the form rule applies there.
// Guarantees: pure functions; a target that passes is routed on exactly the returned path.

export type TargetVerdict =
  | { readonly ok: true; readonly asterisk: false; readonly path: string; readonly query: string }
  | { readonly ok: true; readonly asterisk: true }
  | { readonly ok: false; readonly reason: string }

const UNRESERVED = /^[A-Za-z0-9\-._~]$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/

/** The form rule (every host): origin-form only, `OPTIONS *` aside. */
export function checkTargetForm(method: string | undefined, url: string | undefined): TargetVerdict {
  const target = url ?? ''
  if (target === '*') {
    return method === 'OPTIONS'
      ? { ok: true, asterisk: true }
      : { ok: false, reason: `"*" is a target only for OPTIONS, not ${method ?? 'this method'}` }
  }
  if (method === 'CONNECT') return { ok: false, reason: 'CONNECT is refused: the gateway is not a proxy' }
  if (!target.startsWith('/')) {
    return {
      ok: false,
      reason: /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
        ? 'absolute-form targets (scheme://host/path) are refused: the gateway is not a proxy; send the path only, with a Host header'
        : 'the request target must be a path starting with "/"',
    }
  }
  if (target.includes('#')) return { ok: false, reason: 'the request target may not contain "#"' }
  const q = target.indexOf('?')
  return { ok: true, asterisk: false, path: q === -1 ? target : target.slice(0, q), query: q === -1 ? '' : target.slice(q + 1) }
}

/** The portal host's rule: the form rule, and the path already in normal form. */
export function checkPortalTarget(method: string | undefined, url: string | undefined): TargetVerdict {
  const form = checkTargetForm(method, url)
  if (!form.ok || form.asterisk) return form
  const problem = pathProblem(form.path)
  return problem ? { ok: false, reason: `the path ${problem}; send it in normal form` } : form
}

/** Why a path is not in normal form, or undefined when it is. */
export function pathProblem(path: string): string | undefined {
  if (path.includes('\\')) return 'may not contain a backslash'
  if (CONTROL.test(path)) return 'may not contain control characters'
  const segments = path.split('/').slice(1)
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (s === '' && i < segments.length - 1) return 'may not contain an empty segment ("//")'
    if (s === '.' || s === '..') return 'may not contain "." or ".." segments'
  }
  for (let at = path.indexOf('%'); at !== -1; at = path.indexOf('%', at + 1)) {
    const hex = path.slice(at + 1, at + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'has a "%" that is not followed by two hex digits'
    const code = parseInt(hex, 16)
    const char = String.fromCharCode(code)
    if (UNRESERVED.test(char)) return `percent-encodes "${char}" (%${hex}), which must be sent as itself`
    if (char === '/' || char === '\\') return `may not contain an encoded separator (%${hex})`
    if (CONTROL.test(char)) return `may not contain an encoded control character (%${hex})`
  }
  return undefined
}
