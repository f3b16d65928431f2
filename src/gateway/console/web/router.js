// Hash routes of the console (the server serves one page; the part after # picks the screen):
//   #/                              the server list
//   #/new/game  #/new/dev           create forms
//   #/game/<ns>/<name>              a GameServer's page (detail.js); #/dev/<ns>/<name> a DevServer's
//   #/game/<ns>/<name>/edit         its edit form (same for dev)
//   #/game/<ns>/<name>/<tab>        a tab of its page (tabs are detail.js's)
// Names and namespaces are encoded in the hash; `route()` decodes them.

import { useEffect, useState } from 'preact/hooks'

/**
 * @typedef {{screen: 'list'} | {screen: 'new', kind: 'GameServer'|'DevServer'} |
 *   {screen: 'server', kind: 'GameServer'|'DevServer', namespace: string, name: string, tab: string} |
 *   {screen: 'edit', kind: 'GameServer'|'DevServer', namespace: string, name: string} |
 *   {screen: 'unknown'}} Route
 */

const KIND = { game: 'GameServer', dev: 'DevServer' }

/** @returns {Route} */
export function parseRoute(hash) {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
  let decoded
  try {
    decoded = parts.map(decodeURIComponent)
  } catch {
    return { screen: 'unknown' }
  }
  if (decoded.length === 0) return { screen: 'list' }
  if (decoded[0] === 'new' && decoded.length === 2 && KIND[decoded[1]]) return { screen: 'new', kind: KIND[decoded[1]] }
  if (KIND[decoded[0]] && (decoded.length === 3 || decoded.length === 4)) {
    const base = { kind: KIND[decoded[0]], namespace: decoded[1], name: decoded[2] }
    if (decoded[3] === 'edit') return { screen: 'edit', ...base }
    return { screen: 'server', ...base, tab: decoded[3] ?? 'status' }
  }
  return { screen: 'unknown' }
}

/** The hash of a server's page (or one of its tabs, or 'edit'). */
export function serverHref(kind, namespace, name, tab) {
  const seg = kind === 'GameServer' ? 'game' : 'dev'
  return `#/${seg}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}${tab ? `/${encodeURIComponent(tab)}` : ''}`
}

export function navigate(hash) {
  if (location.hash !== hash) location.hash = hash
}

/** The current route; re-renders on navigation. */
export function useRoute() {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return route
}
