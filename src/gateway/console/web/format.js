// Small display helpers shared by the list and the server page.

import { html } from 'htm/preact'

/** "node stable", "node 24.1.0" from a spec's {name, version|channel}. */
export function refText(ref) {
  if (!ref?.name) return ''
  return `${ref.name} ${ref.version ?? ref.channel ?? ''}`.trim()
}

/** A relative time ("3 min ago") with the exact time as its tooltip. */
export function timeAgo(iso) {
  if (!iso) return ''
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  const s = Math.round((Date.now() - t) / 1000)
  const text =
    s < 60
      ? `${Math.max(s, 0)} s ago`
      : s < 3600
        ? `${Math.round(s / 60)} min ago`
        : s < 86400
          ? `${Math.round(s / 3600)} h ago`
          : `${Math.round(s / 86400)} d ago`
  return html`<time datetime=${iso} title=${new Date(t).toLocaleString()}>${text}</time>`
}

const PHASE_CLASS = {
  Running: 'ok',
  Sleeping: 'idle',
  Stopped: 'idle',
  Crashed: 'bad',
  Backoff: 'bad',
  Error: 'bad',
}

export function PhaseBadge({ phase }) {
  return html`<span class=${`badge ${PHASE_CLASS[phase] ?? 'busy'}`}>${phase}</span>`
}

/** "3 / 20" players, with names in the tooltip; nothing when the status has none. */
export function playersText(players) {
  if (!players || typeof players.online !== 'number') return ''
  return `${players.online}${typeof players.max === 'number' ? ` / ${players.max}` : ''}`
}

export function sleepText(sleep) {
  if (!sleep) return ''
  return `asleep (${sleep.level ?? 'container'})${sleep.reason ? `: ${sleep.reason}` : ''}`
}
