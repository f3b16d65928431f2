// A call the API server refused (403: the controller's ServiceAccount lacks a rule), reported so an
// operator sees which rule is missing: one error line per object and cause naming user, verb,
// resource, API group and namespace as the API server said them, and a Warning Event `Forbidden`
// on the object (recorded only if the controller still may create Events).
//
// Guarantees: the same denial for the same object is logged once (at error), then at debug; a
// different denial is logged again; once the object reconciles cleanly, that is logged (info) and a
// later denial is reported anew. The reconcile is retried with its own backoff (5 s doubling to
// 5 min) instead of the work queue's, since a missing rule is fixed by a person, not by retrying.
// Caveats: only the reconcile's own calls are seen; a refused watch or list shows in the cache's log.
import { ApiError, type EventRecorder, type KObject, type Reconciler, type Store } from '../src/runtime/index.ts'

const FIRST_RETRY_MS = 5_000
const MAX_RETRY_MS = 5 * 60_000

/** What a 403 says was denied (kube-apiserver's wording: `User "u" cannot <verb> resource "<r>" in API group "<g>" in the namespace "<ns>"`). */
export interface Denial {
  user?: string
  verb?: string
  resource?: string
  apiGroup?: string
  namespace?: string
  /** The refused request (method and path) and the server's message. */
  call: string
}

const FORBIDDEN_TEXT = /User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]*)")?/

/** The denial an error carries, or undefined when it is no 403 from the API server. */
export function forbiddenDenial(err: unknown): Denial | undefined {
  if (!(err instanceof ApiError) || err.statusCode !== 403) return undefined
  const m = FORBIDDEN_TEXT.exec(err.status.message ?? '')
  if (m === null) return { call: err.message }
  return { user: m[1], verb: m[2], resource: m[3], apiGroup: m[4] ?? '', namespace: m[5], call: err.message }
}

/** One sentence naming the denial and where its rule belongs. */
export function describeDenial(d: Denial): string {
  if (d.verb === undefined) return `the API server refused a call of the controller (${d.call}); grant the missing permission in manifests/base/rbac-controller.yaml`
  const where = d.namespace ? ` in namespace ${d.namespace}` : ''
  const group = d.apiGroup ? `${d.apiGroup}` : 'core'
  return `forbidden: ${d.user ?? 'the controller'} may not ${d.verb} ${d.resource} (API group ${group})${where}; ` +
    `add "${d.verb}" on "${d.resource}" to the controller's role (manifests/base/rbac-controller.yaml) and apply it`
}

export interface ForbiddenReportOptions {
  /** The reconciled kind's cache: the object an Event is recorded on. */
  store: Pick<Store<KObject>, 'getByName'>
  recorder: EventRecorder
}

/** `reconciler`, with 403s reported once per object and cause (see the header). */
export function reportForbidden(reconciler: Reconciler, opts: ForbiddenReportOptions): Reconciler {
  const reported = new Map<string, { cause: string, attempts: number }>()
  return async (req, ctx) => {
    const key = req.namespace ? `${req.namespace}/${req.name}` : req.name
    try {
      const result = await reconciler(req, ctx)
      const was = reported.get(key)
      if (was !== undefined) {
        reported.delete(key)
        ctx.log.info({ forbiddenBefore: was.cause }, 'reconciled again after a forbidden call: the permission is there now')
      }
      return result
    } catch (err) {
      const denial = forbiddenDenial(err)
      if (denial === undefined) throw err
      const cause = denial.verb !== undefined ? `${denial.verb} ${denial.apiGroup}/${denial.resource} ${denial.namespace ?? ''}` : denial.call
      const prev = reported.get(key)
      const attempts = prev?.cause === cause ? prev.attempts + 1 : 1
      reported.set(key, { cause, attempts })
      const retryMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1))
      const message = describeDenial(denial)
      if (attempts === 1) {
        const fields = { user: denial.user, verb: denial.verb, resource: denial.resource, apiGroup: denial.apiGroup, namespace: denial.namespace }
        ctx.log.error({ forbidden: fields, call: denial.call, retryInMs: retryMs }, message)
        const obj = opts.store.getByName(req.name, req.namespace)
        if (obj !== undefined) opts.recorder.event(obj, 'Warning', 'Forbidden', message)
      } else {
        ctx.log.debug({ forbidden: cause, attempts, retryInMs: retryMs }, 'still forbidden')
      }
      return { requeueAfter: retryMs }
    }
  }
}
