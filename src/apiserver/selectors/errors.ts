// The one error type selector parsing throws; the API server turns it into a 400 BadRequest Status.

export class SelectorError extends Error {
  /** Stable code so callers can tell selector problems from other failures. */
  readonly code = 'InvalidSelector'
  /** Which selector was bad: 'label' (labelSelector) or 'field' (fieldSelector). */
  readonly kind: 'label' | 'field'
  constructor(kind: 'label' | 'field', message: string) {
    super(message)
    this.name = 'SelectorError'
    this.kind = kind
  }
}
