// The server list: every server the token sees, live from the event stream (no polling), with
// phase, Ready, runtime, vmid, address, restarts, last crash (log tail on expand) and, when the
// status has them, players and sleep. Empty, loading and connection-lost states are explicit.

import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { api, serverPath } from './api.js'
import { ConfirmDialog } from './dialog.js'
import { PhaseBadge, playersText, refText, sleepText, timeAgo } from './format.js'
import { serverHref } from './router.js'
import { useServers } from './store.js'

function CrashCell({ crash, id }) {
  const [open, setOpen] = useState(false)
  if (!crash) return html`<span class="muted">none</span>`
  const tail = crash.logTail ?? []
  return html`
    <div class="crash">
      <span class="badge bad" data-classification=${crash.classification ?? ''}>${crash.classification ?? 'crash'}</span>
      ${' '}${timeAgo(crash.time)}
      ${
        tail.length > 0 &&
        html`<button
          type="button"
          class="link"
          aria-expanded=${open ? 'true' : 'false'}
          aria-controls=${id}
          onClick=${() => setOpen(!open)}
        >
          ${open ? 'Hide log' : 'Show log'}
        </button>`
      }
      ${open && html`<pre id=${id} class="log-tail">${tail.join('\n')}</pre>`}
    </div>
  `
}

function ServerRow({ server, spec, onDelete }) {
  const runtime = server.kind === 'GameServer' ? refText(spec?.runtime) : (spec?.runtimes ?? []).map(refText).join(', ')
  const game = server.kind === 'GameServer' ? refText(spec?.package) : spec?.codeServer?.enabled ? 'code-server' : ''
  const id = `crash-${server.kind}-${server.namespace}-${server.name}`
  return html`
    <tr data-server=${server.name} data-namespace=${server.namespace} data-kind=${server.kind}>
      <th scope="row" data-label="Name">
        <a href=${serverHref(server.kind, server.namespace, server.name)}>${server.name}</a>
        <div class="muted small">${server.kind === 'GameServer' ? 'game' : 'dev'} · ${server.namespace}</div>
      </th>
      <td data-label="Phase" class="phase"><${PhaseBadge} phase=${server.phase} /></td>
      <td data-label="Ready" class="ready">${server.ready ? 'yes' : 'no'}</td>
      <td data-label="Runtime">${runtime}${game && html`<div class="muted small">${game}</div>`}</td>
      <td data-label="vmid">${server.vmid ?? ''}</td>
      <td data-label="Address" class="address">${server.address ?? ''}</td>
      <td data-label="Restarts">${server.restarts}</td>
      <td data-label="Last crash" class="last-crash"><${CrashCell} crash=${server.lastCrash} id=${id} /></td>
      <td data-label="Players">${playersText(server.players)}${server.sleep && html`<div class="muted small">${sleepText(server.sleep)}</div>`}</td>
      <td class="row-actions">
        <a class="button secondary" href=${serverHref(server.kind, server.namespace, server.name, 'edit')}>Edit</a>
        <button type="button" class="danger" onClick=${() => onDelete(server)} aria-label=${`Delete ${server.name}`}>Delete</button>
      </td>
    </tr>
  `
}

export function ServerList() {
  const store = useServers()
  const [deleting, setDeleting] = useState(/** @type {any} */ (null))
  // Re-render every 30 s so "3 min ago" stays true (nothing is fetched: the data is live already).
  const [, setClock] = useState(0)
  useEffect(() => {
    const timer = setInterval(() => setClock(Date.now()), 30_000)
    return () => clearInterval(timer)
  }, [])
  const servers = [...store.servers.values()].sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind),
  )
  const specOf = (s) => store.specs.get(`${s.kind}/${s.namespace}/${s.name}`)
  return html`
    <section class="panel">
      <div class="heading">
        <h1>Servers</h1>
        <span class=${`live ${store.connection}`} role="status">
          ${
            store.connection === 'live'
              ? 'Live'
              : store.connection === 'offline'
                ? `Live updates lost; reconnecting in ${Math.round(store.retryInMs / 1000)} s`
                : store.connection === 'refused'
                  ? 'No live updates'
                  : 'Connecting…'
          }
        </span>
      </div>
      ${store.error && html`<p class="error" role="alert">${store.error}</p>`}
      ${!store.loaded && html`<p class="muted" role="status">Loading servers…</p>`}
      ${
        store.loaded &&
        store.connection !== 'refused' &&
        servers.length === 0 &&
        html`<div class="empty">
          <p>No servers yet.</p>
          <p><a class="button" href="#/new/game">Create a game server</a> <a class="button secondary" href="#/new/dev">Create a dev server</a></p>
        </div>`
      }
      ${
        servers.length > 0 &&
        html`<div class="table-wrap">
          <table class="servers">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Phase</th>
                <th scope="col">Ready</th>
                <th scope="col">Runtime</th>
                <th scope="col">vmid</th>
                <th scope="col">Address</th>
                <th scope="col">Restarts</th>
                <th scope="col">Last crash</th>
                <th scope="col">Players</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              ${servers.map(
                (s) =>
                  html`<${ServerRow}
                    key=${`${s.kind}/${s.namespace}/${s.name}`}
                    server=${s}
                    spec=${specOf(s)}
                    onDelete=${setDeleting}
                  />`,
              )}
            </tbody>
          </table>
        </div>`
      }
    </section>
    ${
      deleting &&
      html`<${ConfirmDialog}
        title=${`Delete ${deleting.name}?`}
        message=${`The ${deleting.kind === 'GameServer' ? 'game' : 'dev'} server ${deleting.namespace}/${deleting.name} and its container will be deleted. This cannot be undone.`}
        confirmLabel="Delete"
        onConfirm=${() => api('DELETE', serverPath(deleting.kind, deleting.namespace, deleting.name))}
        onClose=${() => setDeleting(null)}
      />`
    }
  `
}
