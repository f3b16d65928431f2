// The IDE tab of a DevServer: "Open IDE" asks the portal for a fresh one-time link to the hosted
// IDE (POST /api/dev/<name>/ide-token → {url, expiresAt}; see src/gateway/portal/ide-routes.ts)
// and opens it in a new tab.
//
// Guarantees: the link is asked for only on a click and opened with noopener/noreferrer (the IDE
// tab gets no handle on the console and no Referer); the button is disabled, with the reason
// next to it, while the DevServer is not Ready or has no code-server; when the browser blocked
// the new tab, the link is shown to click instead (it works once, for about a minute).

import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { ApiError, api, serverPath } from './api.js'

/** An asleep DevServer (spec.idle) hands out links too: opening one wakes it. @param {{ phase?: string, sleep?: unknown }} server */
export const isAsleep = (server) => server.phase === 'Sleeping' || (server.sleep !== undefined && server.sleep !== null)

/**
 * Why Open IDE cannot be used now, or null when it can (the portal's rule, ide-routes.ts: Ready,
 * or asleep, with a vmid).
 * @param {{ phase?: string, ready?: boolean, vmid?: number | null, sleep?: unknown }} server
 * @param {boolean | undefined} codeServerEnabled spec.codeServer.enabled (undefined: the default, on)
 */
export function ideUnavailableReason(server, codeServerEnabled) {
  if (codeServerEnabled === false) return 'code-server is not enabled on this DevServer (edit it and tick "code-server")'
  if (!(server.ready || isAsleep(server)) || typeof server.vmid !== 'number')
    return `the DevServer is ${server.phase ?? 'Pending'}, not Ready: the IDE opens once it is`
  return null
}

/**
 * A DevServer page tab (detail.js): `server` is the portal's status view, `spec` the DevServer's
 * spec once read.
 * @param {{ server: { namespace: string, name: string, phase?: string, ready?: boolean, vmid?: number | null, sleep?: unknown }, spec?: { codeServer?: { enabled?: boolean } } }} props
 */
export function OpenIde({ server, spec }) {
  const { namespace, name } = server
  const codeServerEnabled = spec?.codeServer?.enabled
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [blockedLink, setBlockedLink] = useState('')
  const reason = ideUnavailableReason(server, codeServerEnabled)

  const open = async () => {
    setBusy(true)
    setError('')
    setBlockedLink('')
    try {
      const { url } = await api('POST', serverPath('DevServer', namespace, name, '/ide-token'))
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('the portal answered without a link')
      // With noopener the browser returns null whether or not it opened the tab, so the link
      // stays on the page as well (one-time: it is spent once the tab used it).
      window.open(url, '_blank', 'noopener,noreferrer')
      setBlockedLink(url)
    } catch (err) {
      setError(err instanceof ApiError && err.hint ? `${err.message} (${err.hint})` : String(/** @type {Error} */ (err)?.message ?? err))
    } finally {
      setBusy(false)
    }
  }

  return html`<section class="tool ide-tool" aria-label=${`IDE of ${name}`}>
    <p>
      <button type="button" class="primary" onClick=${open} disabled=${busy || reason !== null}
        aria-describedby=${reason ? 'ide-reason' : undefined}>${busy ? 'Opening…' : 'Open IDE'}</button>
      ${reason ? html` <span id="ide-reason" class="muted">${reason}</span>` : null}
      ${!reason && isAsleep(server) ? html` <span class="muted">The DevServer is asleep: opening the IDE wakes it.</span>` : null}
    </p>
    <p class="tool-hint">The IDE opens in a new tab through a one-time link that signs you in to this DevServer only.</p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      blockedLink
        ? html`<p class="muted">If no tab opened, <a href=${blockedLink} target="_blank" rel="noopener noreferrer">open the IDE here</a> (the link works once, for about a minute).</p>`
        : null
    }
  </section>`
}
