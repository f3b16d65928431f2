// The console application: the session gate (sign-in until a session exists), the header with
// who is signed in and sign-out, and the screen the route names.

import { html } from 'htm/preact'
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { currentSession, onSignedOut, signOut } from './api.js'
import { ServerDetail } from './detail.js'
import { ServerForm } from './forms.js'
import { ServerList } from './list.js'
import { navigate, useRoute } from './router.js'
import { SignIn } from './signin.js'
import { startServers, stopServers } from './store.js'

function Screen({ route, session }) {
  switch (route.screen) {
    case 'list':
      return html`<${ServerList} session=${session} />`
    case 'new':
      return html`<${ServerForm} key=${`new-${route.kind}`} kind=${route.kind} session=${session} />`
    case 'edit':
      return html`<${ServerForm}
        key=${`edit-${route.kind}-${route.namespace}-${route.name}`}
        kind=${route.kind}
        namespace=${route.namespace}
        name=${route.name}
        session=${session}
      />`
    case 'server':
      return html`<${ServerDetail} key=${`${route.kind}-${route.namespace}-${route.name}`} route=${route} session=${session} />`
    default:
      return html`<section class="panel"><h1>Page not found</h1><p><a href="#/">Back to the servers</a></p></section>`
  }
}

function App() {
  const [session, setSession] = useState(/** @type {any} */ (undefined))
  const [error, setError] = useState('')
  const route = useRoute()

  useEffect(() => {
    currentSession()
      .then((s) => setSession(s))
      .catch((err) => {
        setError(`The console could not reach the gateway: ${err.message}`)
        setSession(null)
      })
    onSignedOut(() => {
      stopServers()
      setSession(null)
    })
  }, [])
  useEffect(() => {
    if (session) startServers()
  }, [session])

  const doSignOut = async () => {
    stopServers()
    await signOut().catch(() => {})
    setSession(null)
    navigate('#/')
  }

  if (session === undefined) return html`<p class="loading" role="status">Loading…</p>`
  if (session === null) return html`<${SignIn} error=${error} onSignedIn=${(s) => setSession(s)} />`
  return html`
    <header class="topbar">
      <a class="brand" href="#/">ZeroLagHub</a>
      <nav aria-label="Main">
        <a href="#/">Servers</a>
        <a href="#/new/game">New game server</a>
        <a href="#/new/dev">New dev server</a>
      </nav>
      <div class="who">
        <span title=${session.namespaces.length ? `namespaces: ${session.namespaces.join(', ')}` : ''}>${session.user}</span>
        <button type="button" class="secondary" onClick=${doSignOut}>Sign out</button>
      </div>
    </header>
    <main id="main"><${Screen} route=${route} session=${session} /></main>
  `
}

render(html`<${App} />`, document.getElementById('app'))
