// Create and edit forms for GameServers and DevServers. Choices come from the runtime catalog
// (GET /api/runtimes); the API validates (the form sets no limits of its own, so its rules are
// the CRD's) and each error it returns is shown next to the input whose field path it names
// (`spec.server.port` → the port input); errors naming no input are listed above the buttons.
// Editing sends the server's whole spec with the form's fields changed (PUT = apply), so fields
// the form does not show (env, mods, health …) are kept.

import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, serverPath } from './api.js'
import { navigate, serverHref } from './router.js'
import { rememberSpec } from './store.js'

/** Field path of the API → input id. The longest path that prefixes an error's field wins. */
const GAME_FIELDS = {
  name: 'f-name',
  'metadata.name': 'f-name',
  'spec.game': 'f-game',
  'spec.package': 'f-package',
  'spec.runtime': 'f-runtime',
  'spec.server.command': 'f-command',
  'spec.server.args': 'f-args',
  'spec.server.port': 'f-port',
  'spec.supervision.restartPolicy': 'f-restart-policy',
  'spec.supervision.maxConsecutiveFailures': 'f-max-failures',
  'spec.resources.cores': 'f-cores',
  'spec.resources.memoryMiB': 'f-memory',
  'spec.resources.diskGiB': 'f-disk',
  'spec.running': 'f-running',
}
const DEV_FIELDS = {
  name: 'f-name',
  'metadata.name': 'f-name',
  'spec.runtimes': 'f-runtime',
  'spec.codeServer': 'f-code-server',
  'spec.resources.cores': 'f-cores',
  'spec.resources.memoryMiB': 'f-memory',
  'spec.resources.diskGiB': 'f-disk',
  'spec.running': 'f-running',
}

/** Which input an API field path belongs to, or undefined. */
export function inputForField(fields, field) {
  let best
  for (const path of Object.keys(fields)) {
    const under = field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`)
    if (under && (!best || path.length > best.length)) best = path
  }
  return best && fields[best]
}

/** Splits "a b 'c d'" into words (single or double quotes group). */
function words(text) {
  const out = []
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3])
  return out
}
const joinWords = (list) => (list ?? []).map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' ')

/** `channel:stable` / `version:1.2` ⇄ {channel} / {version}. */
const refChoice = (ref) => (ref?.version ? `version:${ref.version}` : ref?.channel ? `channel:${ref.channel}` : '')
function choiceRef(choice) {
  const at = choice.indexOf(':')
  if (at === -1) return {}
  return { [choice.slice(0, at)]: choice.slice(at + 1) }
}
const numberOrText = (v) => (v === '' ? undefined : Number.isFinite(Number(v)) ? Number(v) : v)

function formFromSpec(kind, spec) {
  const s = spec ?? {}
  if (kind === 'GameServer') {
    return {
      game: s.game ?? 'minecraft',
      packageName: s.package?.name ?? '',
      packageChoice: refChoice(s.package),
      runtimeName: s.runtime?.name ?? '',
      runtimeChoice: refChoice(s.runtime),
      command: joinWords(s.server?.command),
      args: joinWords(s.server?.args),
      port: String(s.server?.port ?? 25565),
      restartPolicy: s.supervision?.restartPolicy ?? 'Always',
      maxFailures: s.supervision?.maxConsecutiveFailures === undefined ? '' : String(s.supervision.maxConsecutiveFailures),
      cores: String(s.resources?.cores ?? 1),
      memory: String(s.resources?.memoryMiB ?? 2048),
      disk: String(s.resources?.diskGiB ?? 8),
      running: s.running ?? true,
    }
  }
  return {
    runtimeName: s.runtimes?.[0]?.name ?? '',
    runtimeChoice: refChoice(s.runtimes?.[0]),
    codeServer: s.codeServer?.enabled ?? true,
    cores: String(s.resources?.cores ?? 1),
    memory: String(s.resources?.memoryMiB ?? 2048),
    disk: String(s.resources?.diskGiB ?? 8),
    running: s.running ?? true,
  }
}

function specFromForm(kind, f, base) {
  const resources = {
    ...(base?.resources ?? {}),
    cores: numberOrText(f.cores),
    memoryMiB: numberOrText(f.memory),
    diskGiB: numberOrText(f.disk),
  }
  if (kind === 'GameServer') {
    const spec = {
      ...(base ?? {}),
      game: f.game,
      runtime: { name: f.runtimeName, ...choiceRef(f.runtimeChoice) },
      server: { ...(base?.server ?? {}), command: words(f.command), args: words(f.args), port: numberOrText(f.port) },
      supervision: {
        ...(base?.supervision ?? {}),
        restartPolicy: f.restartPolicy,
        ...(f.maxFailures !== '' ? { maxConsecutiveFailures: numberOrText(f.maxFailures) } : {}),
      },
      resources,
      running: f.running,
    }
    if (f.packageName) spec.package = { name: f.packageName, ...choiceRef(f.packageChoice) }
    else delete spec.package
    if (f.maxFailures === '') delete spec.supervision.maxConsecutiveFailures
    return spec
  }
  const others = (base?.runtimes ?? []).slice(1)
  return {
    ...(base ?? {}),
    runtimes: f.runtimeName ? [{ name: f.runtimeName, ...choiceRef(f.runtimeChoice) }, ...others] : others,
    codeServer: { ...(base?.codeServer ?? {}), enabled: f.codeServer },
    resources,
    running: f.running,
  }
}

/** Version choices of a catalog entry: its channels, then its versions (verified ones marked). */
function versionChoices(entry) {
  if (!entry) return []
  return [
    ...Object.entries(entry.channels ?? {}).map(([ch, v]) => ({ value: `channel:${ch}`, label: `channel ${ch} (${v})` })),
    ...(entry.versions ?? []).map((v) => ({ value: `version:${v.version}`, label: `${v.version}${v.verified ? '' : ' (not verified)'}` })),
  ]
}

function Field({ id, label, error, hint, children }) {
  return html`
    <div class=${`field${error ? ' has-error' : ''}`}>
      <label for=${id}>${label}</label>
      ${children}
      ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
      ${error && html`<p class="field-error" id=${`${id}-error`} role="alert">${error}</p>`}
    </div>
  `
}

export function ServerForm({ kind, namespace: editNamespace, name: editName, session }) {
  const editing = editName !== undefined
  const fields = kind === 'GameServer' ? GAME_FIELDS : DEV_FIELDS
  const [catalog, setCatalog] = useState(/** @type {any[] | null} */ (null))
  const [catalogError, setCatalogError] = useState('')
  const [base, setBase] = useState(/** @type {any} */ (undefined))
  const [form, setForm] = useState(() => formFromSpec(kind, undefined))
  const [name, setName] = useState(editName ?? '')
  const namespaces = session.namespaces
  const [namespace, setNamespace] = useState(editNamespace ?? namespaces[0] ?? '')
  const [errors, setErrors] = useState(/** @type {Record<string, string>} */ ({}))
  const [formError, setFormError] = useState('')
  const [busy, setBusy] = useState(false)
  const formRef = useRef(/** @type {HTMLFormElement | null} */ (null))

  useEffect(() => {
    api('GET', '/api/runtimes')
      .then((c) => setCatalog(c.runtimes))
      .catch((err) => {
        setCatalog([])
        setCatalogError(`The runtime catalog could not be read: ${err.message}`)
      })
    if (editing) {
      api('GET', serverPath(kind, editNamespace, editName))
        .then((item) => {
          setBase(item.spec)
          setForm(formFromSpec(kind, item.spec))
        })
        .catch((err) => setFormError(err.message))
    }
  }, [])

  // New forms pick sensible catalog defaults once the catalog is there.
  useEffect(() => {
    if (!catalog || editing || catalog.length === 0) return
    const has = (n) => catalog.some((r) => r.name === n)
    const firstChoice = (n) => versionChoices(catalog.find((r) => r.name === n))[0]?.value ?? ''
    setForm((f) => {
      const next = { ...f }
      if (!next.runtimeName) next.runtimeName = has('node') ? 'node' : catalog[0].name
      if (!next.runtimeChoice) next.runtimeChoice = firstChoice(next.runtimeName)
      if (kind === 'GameServer' && !next.packageName) {
        const pkg = catalog.find((r) => r.name !== next.runtimeName)
        next.packageName = pkg?.name ?? ''
        next.packageChoice = firstChoice(next.packageName)
        if (!next.command) next.command = next.packageName
      }
      return next
    })
  }, [catalog])

  const set = (key) => (e) => {
    const t = e.currentTarget
    const value = t.type === 'checkbox' ? t.checked : t.value
    setForm((f) => {
      const next = { ...f, [key]: value }
      // A new entry from the catalog starts at its first channel or version.
      if (key === 'runtimeName') next.runtimeChoice = versionChoices(catalog?.find((r) => r.name === value))[0]?.value ?? ''
      if (key === 'packageName') next.packageChoice = versionChoices(catalog?.find((r) => r.name === value))[0]?.value ?? ''
      return next
    })
  }

  const submit = async (e) => {
    e.preventDefault()
    setBusy(true)
    setErrors({})
    setFormError('')
    const spec = specFromForm(kind, form, base)
    try {
      const item = editing
        ? await api('PUT', serverPath(kind, editNamespace, editName), { spec })
        : await api(
            'POST',
            `/api/${kind === 'GameServer' ? 'game' : 'dev'}${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`,
            {
              name,
              spec,
            },
          )
      rememberSpec(item)
      navigate(serverHref(item.kind, item.namespace, item.name))
    } catch (err) {
      /** @type {Record<string, string>} */
      const byInput = {}
      const unplaced = []
      for (const fe of err.errors ?? []) {
        const input = inputForField(fields, fe.field)
        if (input) byInput[input] = byInput[input] ? `${byInput[input]}; ${fe.message}` : fe.message
        else unplaced.push(fe.message)
      }
      setErrors(byInput)
      setFormError(unplaced.length > 0 || Object.keys(byInput).length === 0 ? [err.message, ...unplaced].join(' — ') : '')
      setBusy(false)
      // Focus the first input with an error, so keyboard and screen-reader users land on it.
      const first = Object.keys(fields)
        .map((k) => fields[k])
        .find((id) => byInput[id])
      if (first) requestAnimationFrame(() => formRef.current?.querySelector(`#${first}`)?.focus())
    }
  }

  const err = (id) => errors[id]
  const inputProps = (id) => ({
    id,
    'aria-invalid': errors[id] ? 'true' : 'false',
    'aria-describedby': errors[id] ? `${id}-error` : undefined,
  })
  const catalogOptions = (selected) => {
    const names = (catalog ?? []).map((r) => r.name)
    if (selected && !names.includes(selected)) names.unshift(selected)
    return names.map((n) => html`<option value=${n}>${n}</option>`)
  }
  const choiceOptions = (entryName, selected) => {
    const choices = versionChoices(catalog?.find((r) => r.name === entryName))
    if (selected && !choices.some((c) => c.value === selected)) choices.unshift({ value: selected, label: selected.replace(':', ' ') })
    return choices.map((c) => html`<option value=${c.value}>${c.label}</option>`)
  }
  const title = editing ? `Edit ${editName}` : kind === 'GameServer' ? 'New game server' : 'New dev server'
  const cancelHref = editing ? serverHref(kind, editNamespace, editName) : '#/'

  return html`
    <section class="panel">
      <h1>${title}</h1>
      ${catalogError && html`<p class="error" role="alert">${catalogError}</p>`}
      ${editing && base === undefined && !formError && html`<p class="muted" role="status">Loading…</p>`}
      <form ref=${formRef} class="server-form" onSubmit=${submit} noValidate aria-busy=${busy ? 'true' : 'false'}>
        <fieldset>
          <legend>Server</legend>
          <${Field} id="f-name" label="Name" error=${err('f-name')} hint=${editing ? '' : 'Lowercase letters, digits and dashes.'}>
            <input ...${inputProps('f-name')} name="name" value=${name} disabled=${editing} required autocomplete="off" onInput=${(e) => setName(e.currentTarget.value)} />
          <//>
          ${
            !editing &&
            namespaces.length > 1 &&
            html`<${Field} id="f-namespace" label="Namespace">
              <select id="f-namespace" value=${namespace} onChange=${(e) => setNamespace(e.currentTarget.value)}>
                ${namespaces.map((n) => html`<option value=${n}>${n}</option>`)}
              </select>
            <//>`
          }
          ${
            kind === 'GameServer' &&
            html`<${Field} id="f-game" label="Game" error=${err('f-game')}>
              <input ...${inputProps('f-game')} value=${form.game} onInput=${set('game')} />
            <//>`
          }
        </fieldset>

        <fieldset>
          <legend>Software</legend>
          ${
            kind === 'GameServer' &&
            html`<div class="row">
              <${Field} id="f-package" label="Game package" error=${err('f-package')}>
                <select ...${inputProps('f-package')} value=${form.packageName} onChange=${set('packageName')}>
                  <option value="">(none)</option>
                  ${catalogOptions(form.packageName)}
                </select>
              <//>
              <${Field} id="f-package-version" label="Package version">
                <select id="f-package-version" value=${form.packageChoice} onChange=${set('packageChoice')} disabled=${!form.packageName}>
                  ${choiceOptions(form.packageName, form.packageChoice)}
                </select>
              <//>
            </div>`
          }
          <div class="row">
            <${Field} id="f-runtime" label="Runtime" error=${err('f-runtime')}>
              <select ...${inputProps('f-runtime')} value=${form.runtimeName} onChange=${set('runtimeName')}>
                ${kind === 'DevServer' && html`<option value="">(none)</option>`}
                ${catalogOptions(form.runtimeName)}
              </select>
            <//>
            <${Field} id="f-runtime-version" label="Runtime version">
              <select id="f-runtime-version" value=${form.runtimeChoice} onChange=${set('runtimeChoice')} disabled=${!form.runtimeName}>
                ${choiceOptions(form.runtimeName, form.runtimeChoice)}
              </select>
            <//>
          </div>
          ${
            kind === 'DevServer' &&
            html`<div class=${`field checkbox${err('f-code-server') ? ' has-error' : ''}`}>
              <input type="checkbox" ...${inputProps('f-code-server')} checked=${form.codeServer} onChange=${set('codeServer')} />
              <label for="f-code-server">Run code-server (the browser IDE)</label>
              ${err('f-code-server') && html`<p class="field-error" id="f-code-server-error" role="alert">${err('f-code-server')}</p>`}
            </div>`
          }
        </fieldset>

        ${
          kind === 'GameServer' &&
          html`<fieldset>
            <legend>Process</legend>
            <${Field} id="f-command" label="Command" error=${err('f-command')} hint="The program and its first words, e.g. flying-squid.">
              <input ...${inputProps('f-command')} value=${form.command} onInput=${set('command')} autocomplete="off" spellcheck="false" />
            <//>
            <${Field} id="f-args" label="Arguments" error=${err('f-args')}>
              <input ...${inputProps('f-args')} value=${form.args} onInput=${set('args')} autocomplete="off" spellcheck="false" />
            <//>
            <div class="row">
              <${Field} id="f-port" label="Port" error=${err('f-port')}>
                <input ...${inputProps('f-port')} type="number" inputmode="numeric" value=${form.port} onInput=${set('port')} />
              <//>
              <${Field} id="f-restart-policy" label="Restart policy" error=${err('f-restart-policy')}>
                <select ...${inputProps('f-restart-policy')} value=${form.restartPolicy} onChange=${set('restartPolicy')}>
                  <option value="Always">Always</option>
                  <option value="OnFailure">On failure</option>
                  <option value="Never">Never</option>
                </select>
              <//>
              <${Field} id="f-max-failures" label="Give up after failures" error=${err('f-max-failures')} hint="Empty: never give up.">
                <input ...${inputProps('f-max-failures')} type="number" inputmode="numeric" value=${form.maxFailures} onInput=${set('maxFailures')} />
              <//>
            </div>
          </fieldset>`
        }

        <fieldset>
          <legend>Resources</legend>
          <div class="row">
            <${Field} id="f-cores" label="Cores" error=${err('f-cores')}>
              <input ...${inputProps('f-cores')} type="number" inputmode="numeric" value=${form.cores} onInput=${set('cores')} />
            <//>
            <${Field} id="f-memory" label="Memory (MiB)" error=${err('f-memory')}>
              <input ...${inputProps('f-memory')} type="number" inputmode="numeric" value=${form.memory} onInput=${set('memory')} />
            <//>
            <${Field} id="f-disk" label="Disk (GiB)" error=${err('f-disk')}>
              <input ...${inputProps('f-disk')} type="number" inputmode="numeric" value=${form.disk} onInput=${set('disk')} />
            <//>
          </div>
          <div class=${`field checkbox${err('f-running') ? ' has-error' : ''}`}>
            <input type="checkbox" ...${inputProps('f-running')} checked=${form.running} onChange=${set('running')} />
            <label for="f-running">Running</label>
          </div>
        </fieldset>

        ${formError && html`<p class="error" role="alert" id="form-error">${formError}</p>`}
        <div class="actions">
          <a class="button secondary" href=${cancelHref}>Cancel</a>
          <button type="submit" disabled=${busy || (editing && base === undefined)}>${busy ? 'Saving…' : editing ? 'Save' : 'Create'}</button>
        </div>
      </form>
    </section>
  `
}
