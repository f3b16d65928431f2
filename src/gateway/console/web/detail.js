// A server's page: a header (name, phase, actions) and tabs. The Status tab is here; other tabs
// (console, files, IDE) register in TABS with the kinds they apply to. The status is live from
// the store (event stream); the spec is read once and after edits.

import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { api, serverPath } from './api.js'
import { ConfirmDialog } from './dialog.js'
import { FileBrowser } from './files.js'
import { PhaseBadge, playersText, refText, sleepText, timeAgo } from './format.js'
import { navigate, serverHref } from './router.js'
import { rememberSpec, useServers } from './store.js'
import { ServerConsole } from './terminal.js'
import { OpenIde } from './ide.js'

function StatusPanel({ server, spec }) {
  const crash = server.lastCrash
  return html`
    <div class="status-grid">
      <dl class="facts">
        <dt>Phase</dt><dd class="phase"><${PhaseBadge} phase=${server.phase} /></dd>
        <dt>Ready</dt><dd class="ready">${server.ready ? 'yes' : 'no'}</dd>
        <dt>Namespace</dt><dd>${server.namespace}</dd>
        ${server.kind === 'GameServer' && html`<dt>Game</dt><dd>${spec?.game ?? ''} ${refText(spec?.package)}</dd>`}
        <dt>Runtime</dt>
        <dd>${server.kind === 'GameServer' ? refText(spec?.runtime) : (spec?.runtimes ?? []).map(refText).join(', ')}</dd>
        <dt>vmid</dt><dd>${server.vmid ?? '—'}</dd>
        <dt>Address</dt><dd class="address">${server.address ?? '—'}</dd>
        ${server.kind === 'GameServer' && html`<dt>Port</dt><dd>${spec?.server?.port ?? ''}</dd>`}
        <dt>Restarts</dt><dd>${server.restarts}</dd>
        ${server.players && html`<dt>Players</dt><dd>${playersText(server.players)}${server.players.sample?.length ? ` (${server.players.sample.map((p) => p.name).join(', ')})` : ''}</dd>`}
        ${server.sleep && html`<dt>Sleep</dt><dd>${sleepText(server.sleep)} ${timeAgo(server.sleep.since)}</dd>`}
        ${server.nextScheduledRestart && html`<dt>Next restart</dt><dd>${new Date(server.nextScheduledRestart).toLocaleString()}</dd>`}
        <dt>Spec applied</dt><dd>${server.upToDate ? 'yes' : 'not yet'}</dd>
      </dl>
      <div>
        <h2>Last crash</h2>
        ${
          crash
            ? html`<div class="crash-detail">
                <p>
                  <span class="badge bad" data-classification=${crash.classification ?? ''}>${crash.classification ?? 'crash'}</span>
                  ${' '}${timeAgo(crash.time)}
                  ${crash.exitCode !== undefined && crash.exitCode !== null ? ` · exit code ${crash.exitCode}` : ''}
                  ${crash.signal ? ` · signal ${crash.signal}` : ''}
                  ${crash.uptimeSeconds !== undefined ? ` · up ${crash.uptimeSeconds} s` : ''}
                </p>
                ${crash.logTail?.length > 0 && html`<pre class="log-tail">${crash.logTail.join('\n')}</pre>`}
              </div>`
            : html`<p class="muted">No crash recorded.</p>`
        }
        <h2>Conditions</h2>
        <table class="conditions">
          <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
          <tbody>
            ${server.conditions.map(
              (c) =>
                html`<tr data-condition=${c.type}><td>${c.type}</td><td>${c.status}</td><td>${c.reason}</td><td>${c.message}</td></tr>`,
            )}
          </tbody>
        </table>
      </div>
    </div>
  `
}

/**
 * The tabs of a server's page: `id` (in the URL), `label`, the kinds it applies to, and the
 * component, given {server, spec, session}.
 */
export const TABS = [
  { id: 'status', label: 'Status', kinds: ['GameServer', 'DevServer'], component: StatusPanel },
  { id: 'console', label: 'Console', kinds: ['GameServer', 'DevServer'], component: ServerConsole },
  { id: 'files', label: 'Files', kinds: ['GameServer', 'DevServer'], component: FileBrowser },
  { id: 'ide', label: 'IDE', kinds: ['DevServer'], component: OpenIde },
]

export function ServerDetail({ route, session }) {
  const store = useServers()
  const { kind, namespace, name } = route
  const server = store.servers.get(`${kind}/${namespace}/${name}`)
  const spec = store.specs.get(`${kind}/${namespace}/${name}`)
  const [deleting, setDeleting] = useState(false)
  const [specError, setSpecError] = useState('')

  // Read once the server is known: a name this token cannot see is never asked for (no 404 noise).
  const known = server !== undefined
  useEffect(() => {
    if (!known) return
    api('GET', serverPath(kind, namespace, name))
      .then(rememberSpec)
      .catch((err) => setSpecError(err.status === 404 ? '' : err.message))
  }, [kind, namespace, name, known])

  if (!server) {
    return html`<section class="panel">
      <h1>${name}</h1>
      <p class="muted" role="status">${store.loaded ? `No ${kind === 'GameServer' ? 'game' : 'dev'} server ${namespace}/${name}.` : 'Loading…'}</p>
      <p><a href="#/">Back to the servers</a></p>
    </section>`
  }
  const tabs = TABS.filter((t) => t.kinds.includes(kind))
  const active = tabs.find((t) => t.id === route.tab) ?? tabs[0]
  const Active = active.component
  const onTabKey = (e) => {
    const at = tabs.indexOf(active)
    const next =
      e.key === 'ArrowRight' ? tabs[(at + 1) % tabs.length] : e.key === 'ArrowLeft' ? tabs[(at - 1 + tabs.length) % tabs.length] : null
    if (!next) return
    e.preventDefault()
    navigate(serverHref(kind, namespace, name, next.id))
    requestAnimationFrame(() => document.getElementById(`tab-${next.id}`)?.focus())
  }
  return html`
    <section class="panel server-page" data-server=${name} data-kind=${kind}>
      <div class="heading">
        <h1>${name} <span class="muted small">${kind === 'GameServer' ? 'game server' : 'dev server'}</span></h1>
        <${PhaseBadge} phase=${server.phase} />
        <div class="actions">
          <a class="button secondary" href=${serverHref(kind, namespace, name, 'edit')}>Edit</a>
          <button type="button" class="danger" onClick=${() => setDeleting(true)}>Delete</button>
        </div>
      </div>
      ${specError && html`<p class="error" role="alert">${specError}</p>`}
      <div class="tabs" role="tablist" aria-label="Server views" onKeyDown=${onTabKey}>
        ${tabs.map(
          (t) => html`<a
            id=${`tab-${t.id}`}
            role="tab"
            href=${serverHref(kind, namespace, name, t.id)}
            aria-selected=${t === active ? 'true' : 'false'}
            aria-controls="tabpanel"
            tabindex=${t === active ? '0' : '-1'}
          >${t.label}</a>`,
        )}
      </div>
      <div id="tabpanel" role="tabpanel" aria-labelledby=${`tab-${active.id}`}>
        <${Active} server=${server} spec=${spec} session=${session} />
      </div>
    </section>
    ${
      deleting &&
      html`<${ConfirmDialog}
        title=${`Delete ${name}?`}
        message=${`The ${kind === 'GameServer' ? 'game' : 'dev'} server ${namespace}/${name} and its container will be deleted. This cannot be undone.`}
        confirmLabel="Delete"
        onConfirm=${async () => {
          await api('DELETE', serverPath(kind, namespace, name))
          navigate('#/')
        }}
        onClose=${() => setDeleting(false)}
      />`
    }
  `
}
