// The Files tab of a server: a file browser over the portal's file routes
// (/api/<game|dev>/<name>/files/<path> and /uploads/<path>, proxied to the agent: the game
// server's files, or the DevServer's workspace). List, enter folders, breadcrumb, download,
// upload several files with progress, rename, delete (confirmed), new folder.
//
// Guarantees: a path is kept as a list of names and each name is URL-encoded on its own, so no
// typed name can change which route or folder a request reaches; a name the agent would refuse
// ("", ".", "..", "/", "\", NUL, over 255 bytes) is refused here first, next to its field; every
// API error is shown with the API's message. Nothing is sent for a folder the user left (stale
// answers are dropped).

import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, api, csrfHeaders, serverPath } from './api.js'
import { ConfirmDialog } from './dialog.js'

/**
 * The URL of a file route: `area` is `files` or `uploads`, `segments` the path's names (each
 * encoded on its own), `query` extra parameters (op, recursive).
 * @param {'GameServer' | 'DevServer'} kind
 * @param {string} namespace
 * @param {string} name
 * @param {'files' | 'uploads'} area
 * @param {string[]} segments
 * @param {Record<string, string>} [query]
 */
export function fileUrl(kind, namespace, name, area, segments, query = {}) {
  const path = segments.map((s) => encodeURIComponent(s)).join('/')
  const extra = new URLSearchParams(query).toString()
  return `${serverPath(kind, namespace, name, `/${area}/${path}`)}${extra ? `&${extra}` : ''}`
}

/** Why a file or folder name cannot be used, or null when it can. @param {string} value */
export function nameProblem(value) {
  if (value.length === 0) return 'a name is required'
  if (value === '.' || value === '..') return `"${value}" is not a name`
  if (/[/\\\0]/.test(value)) return 'a name may not contain "/", "\\" or NUL'
  if (new TextEncoder().encode(value).length > 255) return 'a name is at most 255 bytes'
  return null
}

/** A size for people. @param {number} bytes */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes / 1024
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`
}

/**
 * @typedef {{ name: string, type: 'file' | 'directory' | 'symlink' | 'other', size: number, modifiedAt: string }} Entry
 * @typedef {{ id: number, name: string, loaded: number, total: number, status: 'uploading' | 'done' | 'failed', error?: string }} Upload
 */

/**
 * A server page tab (detail.js): `server` is the portal's status view of the server.
 * @param {{ server: { kind: 'GameServer' | 'DevServer', namespace: string, name: string } }} props
 */
export function FileBrowser({ server }) {
  const { kind, namespace, name } = server
  const [cwd, setCwd] = useState(/** @type {string[]} */ ([]))
  const [entries, setEntries] = useState(/** @type {Entry[] | null} */ (null))
  const [error, setError] = useState('')
  /** The listing's own error (a failed read), apart from a failed action's, which a re-read must not hide. */
  const [listError, setListError] = useState('')
  const [loading, setLoading] = useState(false)
  const [uploads, setUploads] = useState(/** @type {Upload[]} */ ([]))
  const [renaming, setRenaming] = useState(/** @type {string | null} */ (null))
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState(/** @type {Entry | null} */ (null))
  const [reload, setReload] = useState(0)
  const fileInput = useRef(/** @type {HTMLInputElement | null} */ (null))
  const nextUploadId = useRef(1)
  const url = (/** @type {'files' | 'uploads'} */ area, /** @type {string[]} */ segments, query = {}) =>
    fileUrl(kind, namespace, name, area, segments, query)

  useEffect(() => {
    let current = true
    setLoading(true)
    setListError('')
    api('GET', url('files', cwd))
      .then((listing) => {
        if (!current) return
        const list = /** @type {Entry[]} */ (listing?.entries ?? [])
        list.sort((a, b) => Number(b.type === 'directory') - Number(a.type === 'directory') || a.name.localeCompare(b.name))
        setEntries(list)
      })
      .catch((err) => {
        if (current) {
          setEntries(null)
          setListError(errorMessage(err))
        }
      })
      .finally(() => {
        if (current) setLoading(false)
      })
    return () => {
      current = false
    }
  }, [kind, name, namespace, cwd.join('/'), reload])

  const refresh = () => setReload((n) => n + 1)
  /** Goes to a folder; a message about the last one is not about this one. */
  const enter = (/** @type {string[]} */ segments) => {
    setError('')
    setRenaming(null)
    setCwd(segments)
  }
  /** Runs one change (mkdir, rename, delete); its error is shown, the listing refreshed either way. */
  const change = async (/** @type {() => Promise<unknown>} */ call) => {
    setError('')
    try {
      await call()
      return true
    } catch (err) {
      setError(errorMessage(err))
      return false
    } finally {
      refresh()
    }
  }

  const download = async (/** @type {Entry} */ entry) => {
    setError('')
    try {
      // Through fetch, not a plain link: the API takes the session cookie only with the CSRF header.
      const res = await fetch(url('files', [...cwd, entry.name]), { credentials: 'same-origin', headers: csrfHeaders() })
      if (!res.ok) throw apiErrorOf(res.status, await res.text())
      const blob = await res.blob()
      const href = URL.createObjectURL(blob)
      const a = document.createElement('a')
      a.href = href
      a.download = entry.name
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(href), 60_000)
    } catch (err) {
      setError(`download of ${entry.name} failed: ${errorMessage(err)}`)
    }
  }

  const upload = async (/** @type {FileList | null} */ files) => {
    if (!files || files.length === 0) return
    const dir = [...cwd]
    const batch = [...files].map((f) => ({ file: f, id: nextUploadId.current++ }))
    setUploads((u) => [
      ...u.filter((x) => x.status === 'uploading'),
      ...batch.map(({ file, id }) => /** @type {Upload} */ ({ id, name: file.name, loaded: 0, total: file.size, status: 'uploading' })),
    ])
    const update = (/** @type {number} */ id, /** @type {Partial<Upload>} */ patch) =>
      setUploads((u) => u.map((x) => (x.id === id ? { ...x, ...patch } : x)))
    for (const { file, id } of batch) {
      const problem = nameProblem(file.name)
      if (problem) {
        update(id, { status: 'failed', error: problem })
        continue
      }
      const failure = await sendFile(url('uploads', [...dir, file.name]), file, (loaded) => update(id, { loaded }))
      update(id, failure ? { status: 'failed', error: failure } : { status: 'done', loaded: file.size })
      refresh()
    }
    if (fileInput.current) fileInput.current.value = ''
  }

  const atRoot = cwd.length === 0
  return html`<section class="tool files-tool" aria-label=${`Files of ${name}`}>
    <nav class="breadcrumb" aria-label="Folder">
      <ol>
        <li><button type="button" class="link" aria-current=${atRoot ? 'location' : undefined} onClick=${() => enter([])}>
          ${kind === 'DevServer' ? 'workspace' : 'files'}
        </button></li>
        ${cwd.map(
          (segment, i) =>
            html`<li><button type="button" class="link" aria-current=${i === cwd.length - 1 ? 'location' : undefined}
              onClick=${() => enter(cwd.slice(0, i + 1))}>${segment}</button></li>`,
        )}
      </ol>
    </nav>
    <div class="files-toolbar">
      <button type="button" onClick=${() => fileInput.current?.click()}>Upload files</button>
      <input ref=${fileInput} type="file" multiple hidden aria-label="Files to upload" onChange=${(/** @type {Event} */ e) =>
        upload(/** @type {HTMLInputElement} */ (e.target).files)} />
      <button type="button" class="secondary" onClick=${() => setCreating(true)} disabled=${creating}>New folder</button>
      <button type="button" class="secondary" onClick=${refresh}>Refresh</button>
      ${loading ? html`<span class="muted" role="status">loading…</span>` : null}
    </div>
    ${listError ? html`<p class="error" role="alert">${listError}</p>` : null}
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${uploads.length > 0 ? html`<${UploadList} uploads=${uploads} />` : null}
    ${
      creating
        ? html`<${NameForm} label="New folder name" submitLabel="Create" initial=""
            onCancel=${() => setCreating(false)}
            onSubmit=${async (/** @type {string} */ folder) => {
              if (await change(() => api('POST', url('files', [...cwd, folder], { op: 'mkdir' })))) setCreating(false)
            }} />`
        : null
    }
    ${
      entries
        ? html`<table class="files-table">
          <thead><tr><th scope="col">Name</th><th scope="col" class="num">Size</th><th scope="col" class="wide">Modified</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>
            ${
              entries.length === 0
                ? html`<tr><td colspan="4" class="muted">This folder is empty.</td></tr>`
                : entries.map(
                    (entry) => html`<tr key=${entry.name} data-name=${entry.name}>
                  <td class="file-name">
                    ${
                      renaming === entry.name
                        ? html`<${NameForm} label=${`New name for ${entry.name}`} submitLabel="Rename" initial=${entry.name}
                            onCancel=${() => setRenaming(null)}
                            onSubmit=${async (/** @type {string} */ to) => {
                              const ok = await change(() =>
                                api('POST', url('files', [...cwd, entry.name], { op: 'rename' }), { to: [...cwd, to].join('/') }),
                              )
                              if (ok) setRenaming(null)
                            }} />`
                        : entry.type === 'directory'
                          ? html`<button type="button" class="link folder" onClick=${() => enter([...cwd, entry.name])}>${entry.name}/</button>`
                          : html`<button type="button" class="link" title="Download" onClick=${() => download(entry)}>${entry.name}</button>`
                    }
                  </td>
                  <td class="num">${entry.type === 'directory' ? '' : formatSize(entry.size)}</td>
                  <td class="wide muted">${entry.modifiedAt ? new Date(entry.modifiedAt).toLocaleString() : ''}</td>
                  <td class="row-actions">
                    ${entry.type === 'file' ? html`<button type="button" class="secondary" onClick=${() => download(entry)} aria-label=${`Download ${entry.name}`}>Download</button>` : null}
                    <button type="button" class="secondary" onClick=${() => setRenaming(entry.name)} aria-label=${`Rename ${entry.name}`}>Rename</button>
                    <button type="button" class="danger" onClick=${() => setDeleting(entry)} aria-label=${`Delete ${entry.name}`}>Delete</button>
                  </td>
                </tr>`,
                  )
            }
          </tbody>
        </table>`
        : null
    }
    ${
      deleting
        ? html`<${ConfirmDialog}
            title=${`Delete ${deleting.type === 'directory' ? 'folder' : 'file'} "${deleting.name}"?`}
            message=${deleting.type === 'directory' ? 'The folder and everything in it is deleted. This cannot be undone.' : 'This cannot be undone.'}
            confirmLabel="Delete"
            onClose=${() => setDeleting(null)}
            onConfirm=${async () => {
              // An error stays in the dialog (it shows the API's message); the listing is re-read either way.
              try {
                await api('DELETE', url('files', [...cwd, deleting.name], deleting.type === 'directory' ? { recursive: 'true' } : {}))
              } finally {
                refresh()
              }
            }} />`
        : null
    }
  </section>`
}

/** @param {{ uploads: Upload[] }} props */
function UploadList({ uploads }) {
  return html`<ul class="uploads" aria-label="Uploads">
    ${uploads.map(
      (u) => html`<li key=${u.id} data-status=${u.status}>
        <span class="upload-name">${u.name}</span>
        <progress max=${u.total || 1} value=${u.status === 'done' ? u.total || 1 : u.loaded} aria-label=${`Upload of ${u.name}`}></progress>
        <span class=${u.status === 'failed' ? 'error' : 'muted'}>
          ${u.status === 'uploading' ? `${formatSize(u.loaded)} of ${formatSize(u.total)}` : u.status === 'done' ? 'uploaded' : `failed: ${u.error}`}
        </span>
      </li>`,
    )}
  </ul>`
}

/**
 * A one-field form for a name (new folder, rename): checked here first, Escape cancels.
 * @param {{ label: string, submitLabel: string, initial: string, onSubmit: (name: string) => Promise<void>, onCancel: () => void }} props
 */
function NameForm({ label, submitLabel, initial, onSubmit, onCancel }) {
  const [value, setValue] = useState(initial)
  const [problem, setProblem] = useState(/** @type {string | null} */ (null))
  const [busy, setBusy] = useState(false)
  const input = useRef(/** @type {HTMLInputElement | null} */ (null))
  useEffect(() => {
    input.current?.focus()
    input.current?.select()
  }, [])
  const id = `name-${label.replace(/\W+/g, '-').toLowerCase()}`
  return html`<form class="name-form" onSubmit=${async (/** @type {Event} */ e) => {
    e.preventDefault()
    const p = nameProblem(value)
    setProblem(p)
    if (p) return
    setBusy(true)
    try {
      await onSubmit(value)
    } finally {
      setBusy(false)
    }
  }} onKeyDown=${(/** @type {KeyboardEvent} */ e) => {
    if (e.key === 'Escape') {
      e.preventDefault()
      onCancel()
    }
  }}>
    <label for=${id} class="visually-hidden">${label}</label>
    <input id=${id} ref=${input} value=${value} aria-invalid=${problem ? 'true' : undefined} aria-describedby=${problem ? `${id}-error` : undefined}
      placeholder=${label} onInput=${(/** @type {Event} */ e) => setValue(/** @type {HTMLInputElement} */ (e.target).value)} />
    <button type="submit" disabled=${busy}>${submitLabel}</button>
    <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    ${problem ? html`<span id=${`${id}-error`} class="field-error" role="alert">${problem}</span>` : null}
  </form>`
}

/**
 * Sends one file as the raw body of an upload with XHR (fetch has no upload progress); resolves
 * to null when the agent stored it, else to the API's message.
 * @param {string} target
 * @param {File} file
 * @param {(loaded: number) => void} onProgress
 * @returns {Promise<string | null>}
 */
function sendFile(target, file, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', target)
    for (const [k, v] of Object.entries(csrfHeaders())) xhr.setRequestHeader(k, v)
    xhr.setRequestHeader('content-type', 'application/octet-stream')
    xhr.upload.onprogress = (e) => onProgress(e.loaded)
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(null)
      else resolve(errorMessage(apiErrorOf(xhr.status, xhr.responseText)))
    }
    xhr.onerror = () => resolve('the connection failed')
    xhr.send(file)
  })
}

/** The API's error for an answer read as text (JSON {code, message, hint, errors}, else the status). */
function apiErrorOf(/** @type {number} */ status, /** @type {string} */ text) {
  let body = {}
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: the status says it
  }
  return new ApiError(status, typeof body === 'object' && body !== null ? body : {})
}

/** What to show for an error: the API's message and its hint. @param {unknown} err */
function errorMessage(err) {
  if (err instanceof ApiError) return err.hint ? `${err.message} (${err.hint})` : err.message
  return String(/** @type {Error} */ (err)?.message ?? err)
}
