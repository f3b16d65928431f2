// A confirmation dialog on the native <dialog> (modal, focus kept inside, Escape cancels).

import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'

/**
 * @param {{title: string, message: string, confirmLabel: string, onConfirm: () => Promise<void>, onClose: () => void}} props
 */
export function ConfirmDialog({ title, message, confirmLabel, onConfirm, onClose }) {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  useEffect(() => {
    const dialog = ref.current
    if (dialog && !dialog.open) dialog.showModal()
    return () => dialog?.open && dialog.close()
  }, [])
  const confirm = async (e) => {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      await onConfirm()
      onClose()
    } catch (err) {
      setError(err.message)
      setBusy(false)
    }
  }
  return html`
    <dialog ref=${ref} class="dialog" aria-labelledby="dialog-title" onClose=${onClose}>
      <form method="dialog" onSubmit=${confirm}>
        <h2 id="dialog-title">${title}</h2>
        <p>${message}</p>
        ${error && html`<p class="field-error" role="alert">${error}</p>`}
        <div class="actions">
          <button type="button" class="secondary" onClick=${onClose} autofocus>Cancel</button>
          <button type="submit" class="danger" disabled=${busy}>${busy ? 'Working…' : confirmLabel}</button>
        </div>
      </form>
    </dialog>
  `
}
