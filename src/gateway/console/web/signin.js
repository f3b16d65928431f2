// The sign-in screen: a portal token (the admin token `zlh up` prints, or one POST /api/tokens
// issued) is exchanged for the console's session cookie; the token is not kept by the page.

import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { signIn } from './api.js'

export function SignIn({ onSignedIn, error: startError }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState(startError ?? '')
  const [busy, setBusy] = useState(false)
  const submit = async (e) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      const session = await signIn(token)
      setToken('')
      onSignedIn(session)
    } catch (err) {
      setError(err.hint ? `${err.message}. ${err.hint}` : err.message)
    } finally {
      setBusy(false)
    }
  }
  return html`
    <main class="signin">
      <form class="panel" onSubmit=${submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to ZeroLagHub</h1>
        <p>Paste a portal token: <code>zlh up</code> prints the admin token; an administrator issues others.</p>
        <label for="token">Portal token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck="false"
          required
          autofocus
          value=${token}
          onInput=${(e) => setToken(e.currentTarget.value)}
          aria-invalid=${error ? 'true' : 'false'}
          aria-describedby=${error ? 'signin-error' : undefined}
        />
        ${error && html`<p id="signin-error" class="field-error" role="alert">${error}</p>`}
        <button type="submit" disabled=${busy || !token.trim()}>${busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  `
}
