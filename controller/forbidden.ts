// A write the API server refused, reported so an operator sees what to grant: one error line per
// object and cause, and a Warning Event on the object (recorded only if the controller still may
// create Events). Refusals covered:
//   - 403 from RBAC: names user, verb, resource, API group and namespace as the API server said them;
//   - 403 from the OwnerReferencesPermissionEnforcement admission plugin (hardened clusters): an
//     owner reference with blockOwnerDeletion needs `update` on the owner's `<plural>/finalizers`
//     (plugin/pkg/admission/gc/gc_admission.go in kubernetes); its message names no resource, so
//     the reconciled kind (`owner`) says which rule to add;
//   - 422 from an admission policy or webhook (ValidatingAdmissionPolicy denials are 422 Invalid):
//     Event `AdmissionRefused` with the policy's message, since only the cluster's operator can help.
//
// The refusal also shows in the object's status, as a condition `Synced` False with the Event's
// reason and message (synced-condition.ts), set True again once the object reconciles cleanly.
// If that status write is refused too (or fails), the Event and the log line are all there is.
//
// Guarantees: the same refusal for the same object is logged once (at error), then at debug; a
// different one is logged again; once the object reconciles cleanly, that is logged (info) and a
// later refusal is reported anew. The reconcile is retried with its own backoff (5 s doubling to
// 5 min) instead of the work queue's, since a missing rule is fixed by a person, not by retrying.
// The condition is written only when the cache does not already show it (no status write per
// retry), and a failure to write it never fails the reconcile.
// Caveats: only the reconcile's own calls are seen; a refused watch or list shows in the cache's log.
import { ApiError, type EventRecorder, type KObject, type Reconciler, type Store } from '../src/runtime/index.ts'
import { RECONCILE_SUCCESS, SYNCED_AGAIN_MESSAGE, syncedRefused, syncedSays, writeSynced, type SyncedTarget } from './synced-condition.ts'
import { Reason } from './condition-reasons.ts'

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
  /** Set when an admission plugin or policy refused the write, not RBAC. */
  admission?: 'OwnerReferencesPermissionEnforcement' | 'policy'
}

/** The reconciled kind's resource, for the rule an owner-reference refusal needs. */
export interface OwnerResource {
  resource: string
  apiGroup: string
}

const FORBIDDEN_TEXT = /User "([^"]*)" cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]*)")?/

// gc_admission.go's two refusals: blockOwnerDeletion without `update` on the owner's finalizers,
// and changing ownerReferences without `delete` on the object itself.
const OWNER_FINALIZERS_TEXT = /cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on/
const OWNER_DELETE_TEXT = /cannot set an ownerRef on a resource you can't delete/
// How admission webhooks and ValidatingAdmissionPolicy word a denial.
const ADMISSION_TEXT = /admission webhook "[^"]*" denied the request|ValidatingAdmissionPolicy '[^']*' with binding '[^']*' denied request/

/** What object a call was about, from its path: /api(s)/…/namespaces/<ns>/<resource>[/<name>]. */
function pathParts(path: string): { resource?: string; apiGroup: string; namespace?: string } {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/?]+))?\/([^/?]+)/.exec(path)
  return m === null ? { apiGroup: '' } : { apiGroup: m[1] ?? '', namespace: m[2], resource: m[3] }
}

/**
 * The refusal an error carries: a 403 (RBAC or owner-reference admission) or an admission 422;
 * undefined for anything else. `owner` is the reconciled kind (the owner of what it creates).
 */
export function forbiddenDenial(err: unknown, owner?: OwnerResource): Denial | undefined {
  if (!(err instanceof ApiError) || (err.statusCode !== 403 && err.statusCode !== 422)) return undefined
  const text = err.status.message ?? ''
  const call = err.message
  const target = pathParts(/^\S+ (\S+): /.exec(call)?.[1] ?? '')
  if (OWNER_FINALIZERS_TEXT.test(text)) {
    return {
      admission: 'OwnerReferencesPermissionEnforcement',
      verb: 'update',
      ...(owner ? { resource: `${owner.resource}/finalizers`, apiGroup: owner.apiGroup } : {}),
      namespace: target.namespace,
      call,
    }
  }
  if (OWNER_DELETE_TEXT.test(text)) {
    return {
      admission: 'OwnerReferencesPermissionEnforcement',
      verb: 'delete',
      resource: target.resource,
      apiGroup: target.apiGroup,
      namespace: target.namespace,
      call,
    }
  }
  if (err.statusCode === 422) return ADMISSION_TEXT.test(text) ? { admission: 'policy', call } : undefined
  if (ADMISSION_TEXT.test(text)) return { admission: 'policy', call }
  const m = FORBIDDEN_TEXT.exec(text)
  if (m === null) return { call }
  return { user: m[1], verb: m[2], resource: m[3], apiGroup: m[4] ?? '', namespace: m[5], call }
}

/** One sentence naming the denial and where its rule belongs. */
export function describeDenial(d: Denial): string {
  if (d.admission === 'policy')
    return `an admission policy of the cluster refused a write of the controller (${d.call}); its message says which rule; ask the cluster's operator to allow it`
  if (d.admission === 'OwnerReferencesPermissionEnforcement') {
    const rule =
      d.resource !== undefined
        ? `"${d.verb}" on "${d.resource}" (API group ${d.apiGroup || 'core'})`
        : `"${d.verb}" on the owner's finalizers subresource`
    const why = d.verb === 'update' ? 'an owner reference with blockOwnerDeletion needs' : 'changing owner references needs'
    return (
      `the OwnerReferencesPermissionEnforcement admission plugin refused a write of the controller (${d.call}): ${why} ${rule}; ` +
      "add it to the controller's role (manifests/base/rbac-controller.yaml) and apply it"
    )
  }
  if (d.verb === undefined)
    return `the API server refused a call of the controller (${d.call}); grant the missing permission in manifests/base/rbac-controller.yaml`
  const where = d.namespace ? ` in namespace ${d.namespace}` : ''
  const group = d.apiGroup ? `${d.apiGroup}` : 'core'
  return (
    `forbidden: ${d.user ?? 'the controller'} may not ${d.verb} ${d.resource} (API group ${group})${where}; ` +
    `add "${d.verb}" on "${d.resource}" to the controller's role (manifests/base/rbac-controller.yaml) and apply it`
  )
}

export interface ForbiddenReportOptions {
  /** The reconciled kind's cache: the object an Event is recorded on. */
  store: Pick<Store<KObject>, 'getByName'>
  recorder: EventRecorder
  /** The reconciled kind as a resource (the owner of the objects it creates). */
  owner?: OwnerResource
  /** Where the `Synced` condition is written (the reconciled kind, through its status subresource);
   * without it a refusal shows in the log and Events only. */
  status?: SyncedTarget
}

/** The Event's and the condition's reason for a refusal. */
export function refusalReason(d: Denial): typeof Reason.Forbidden | typeof Reason.AdmissionRefused {
  return d.admission === 'policy' ? Reason.AdmissionRefused : Reason.Forbidden
}

/** `reconciler`, with refused writes reported once per object and cause (see the header). */
export function reportForbidden(reconciler: Reconciler, opts: ForbiddenReportOptions): Reconciler {
  const reported = new Map<string, { cause: string; attempts: number; statusWriteFailed?: boolean }>()
  return async (req, ctx) => {
    const key = req.namespace ? `${req.namespace}/${req.name}` : req.name
    try {
      const result = await reconciler(req, ctx)
      const was = reported.get(key)
      if (was !== undefined) {
        reported.delete(key)
        ctx.log.info({ forbiddenBefore: was.cause }, 'reconciled again after a forbidden call: the permission is there now')
      }
      // Level-based: a refusal shown before a restart of the controller is cleared too.
      if (opts.status !== undefined && (was !== undefined || syncedRefused(opts.store.getByName(req.name, req.namespace)))) {
        try {
          await writeSynced(
            opts.status,
            req.name,
            req.namespace,
            { status: 'True', reason: RECONCILE_SUCCESS, message: SYNCED_AGAIN_MESSAGE },
            { signal: ctx.signal, onlyToClear: true },
          )
        } catch (err) {
          ctx.log.warn(
            { err: (err as Error).message },
            'the Synced condition could not be set back to True; the next reconcile tries again',
          )
        }
      }
      return result
    } catch (err) {
      const denial = forbiddenDenial(err, opts.owner)
      if (denial === undefined) throw err
      const cause =
        denial.verb !== undefined ? `${denial.verb} ${denial.apiGroup}/${denial.resource} ${denial.namespace ?? ''}` : denial.call
      const prev = reported.get(key)
      const attempts = prev?.cause === cause ? prev.attempts + 1 : 1
      const entry: { cause: string; attempts: number; statusWriteFailed?: boolean } = {
        cause,
        attempts,
        statusWriteFailed: attempts > 1 ? prev?.statusWriteFailed : undefined,
      }
      reported.set(key, entry)
      const retryMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1))
      const message = describeDenial(denial)
      const reason = refusalReason(denial)
      const obj = opts.store.getByName(req.name, req.namespace)
      if (attempts === 1) {
        const fields = {
          user: denial.user,
          verb: denial.verb,
          resource: denial.resource,
          apiGroup: denial.apiGroup,
          namespace: denial.namespace,
        }
        ctx.log.error({ forbidden: fields, call: denial.call, retryInMs: retryMs }, message)
        if (obj !== undefined) opts.recorder.event(obj, 'Warning', reason, message)
      } else {
        ctx.log.debug({ forbidden: cause, attempts, retryInMs: retryMs }, 'still forbidden')
      }
      if (opts.status !== undefined && obj !== undefined && !syncedSays(obj, 'False', reason, message)) {
        try {
          await writeSynced(opts.status, req.name, req.namespace, { status: 'False', reason, message }, { signal: ctx.signal })
        } catch (statusErr) {
          // The status write is refused too (or failed): the Event and the error line carry the refusal.
          const denied = forbiddenDenial(statusErr, opts.owner)
          const fields = {
            err: (statusErr as Error).message,
            ...(denied?.verb !== undefined ? { statusForbidden: { verb: denied.verb, resource: denied.resource } } : {}),
          }
          if (entry.statusWriteFailed === true) ctx.log.debug(fields, 'the Synced condition still cannot be written')
          else
            ctx.log.warn(
              fields,
              "the refusal could not be shown in the object's status (condition Synced); the Warning Event and the error line carry it",
            )
          entry.statusWriteFailed = true
        }
      }
      return { requeueAfter: retryMs }
    }
  }
}
