// The IDE proxy's own pages: error pages for browsers (and the same code in a header for
// scripts), written either on an HTTP response or, for a refused WebSocket upgrade, on the raw socket.
// Every page is no-store and no-referrer, and carries no outside resources.

import { STATUS_CODES, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { gatewayErrors, type GatewayErrorCode } from '../errors.ts'

export const ERROR_CODE_HEADER = 'x-zlh-error'

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export interface ErrorPageOptions {
  /** Extra explanation, shown on the page (never a secret). */
  detail?: string
  /** Seconds after which the page reloads itself and clients may retry (not-ready pages). */
  retryAfterSeconds?: number
}

export function renderErrorPage(
  code: GatewayErrorCode,
  opts: ErrorPageOptions = {},
): { status: number; headers: Record<string, string>; body: string } {
  const spec = gatewayErrors.entries[code]
  const refresh = opts.retryAfterSeconds ? `<meta http-equiv="refresh" content="${opts.retryAfterSeconds}">` : ''
  const detail = opts.detail ? `<p>${escapeHtml(opts.detail)}</p>` : ''
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}<title>${escapeHtml(spec.message)}</title></head>` +
    `<body><h1>${escapeHtml(spec.message)}</h1>${detail}<p>${escapeHtml(spec.hint)}</p><p><small>${code}</small></p></body></html>`
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'",
    [ERROR_CODE_HEADER]: code,
  }
  if (opts.retryAfterSeconds) headers['retry-after'] = String(opts.retryAfterSeconds)
  return { status: spec.httpStatus, headers, body }
}

export function sendErrorPage(res: ServerResponse, code: GatewayErrorCode, opts: ErrorPageOptions = {}): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const page = renderErrorPage(code, opts)
  res.writeHead(page.status, page.headers)
  res.end(page.body)
}

/** Answers a refused upgrade with a plain HTTP response and closes the socket. */
export function rejectUpgrade(socket: Duplex, code: GatewayErrorCode, opts: ErrorPageOptions = {}): void {
  if (socket.destroyed) return
  const page = renderErrorPage(code, opts)
  let head = `HTTP/1.1 ${page.status} ${STATUS_CODES[page.status] ?? 'Error'}\r\nconnection: close\r\n`
  for (const [k, v] of Object.entries(page.headers)) head += `${k}: ${v}\r\n`
  socket.end(`${head}\r\n${page.body}`)
  // A client that never reads must not keep the socket alive.
  setTimeout(() => socket.destroy(), 2000).unref()
}
