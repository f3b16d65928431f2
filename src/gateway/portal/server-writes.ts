// Turning a portal request into a resource write: the body becomes the portal's configuration
// of the resource (what the portal wants to own), validated against the CRD schema before it is
// sent, then server-side applied under the `zlh-portal` field manager. kubectl/GitOps edits of
// other fields coexist; edits of the same fields conflict visibly (409 naming field and manager).
// A create-only write (POST) is a plain create under the same manager: the API server's own
// AlreadyExists makes it race-free (an apply would merge into, or conflict with, a server that
// exists). Fields the portal so owns (operation Update) never make its later applies conflict.

import { API_VERSION, validateResource, type FieldError } from '../../api/index.ts'
import { ApiError, serverSideApply, type Client, type KObject } from '../../runtime/index.ts'
import { PortalError } from './api-reply.ts'
import { PORTAL_FIELD_MANAGER, type ServerKind } from './kinds.ts'

/** What the portal sends to create or change a server. */
export interface ServerWriteBody {
  spec: Record<string, unknown>
  labels?: Record<string, string>
}

const BODY_KEYS = new Set(['spec', 'labels'])

/** The manifest a body stands for, or a 400 naming every bad field (paths as kubectl prints them). */
export function manifestFromBody(kind: ServerKind, namespace: string, name: string, body: unknown): KObject {
  const errors: Array<Pick<FieldError, 'field' | 'message'>> = []
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PortalError('ZLH_GW_API_INVALID', 'the body must be a JSON object {spec, labels?}', {
      errors: [{ field: '<body>', message: '<body>: Invalid value: must be a JSON object' }],
    })
  }
  for (const k of Object.keys(body))
    if (!BODY_KEYS.has(k)) errors.push({ field: k, message: `${k}: Unknown field: the body takes "spec" and optionally "labels"` })
  const { spec, labels } = body as Partial<ServerWriteBody>
  const manifest: KObject = {
    apiVersion: API_VERSION,
    kind,
    metadata: { name, namespace, ...(labels !== undefined ? { labels } : {}) },
    spec: spec as Record<string, unknown>,
  }
  if (
    labels !== undefined &&
    (typeof labels !== 'object' || labels === null || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string'))
  ) {
    errors.push({ field: 'metadata.labels', message: 'metadata.labels: Invalid value: must map names to strings' })
  }
  const result = validateResource(manifest)
  for (const e of result.errors) errors.push({ field: e.field, message: e.message })
  if (errors.length > 0) {
    throw new PortalError('ZLH_GW_API_INVALID', errors.map((e) => e.message).join('; '), { errors })
  }
  // The configuration as sent (not defaulted): applying defaults would make the portal the owner
  // of every defaulted field and turn harmless kubectl edits into conflicts.
  return manifest
}

export interface FieldConflict {
  field: string
  manager: string
  message: string
}

/** Applies `manifest` as the portal; a field owned by another manager → 409 listing each. */
export async function applyAsPortal(client: Client, manifest: KObject, opts: { force?: boolean } = {}): Promise<KObject> {
  try {
    return await serverSideApply(client, manifest, { fieldManager: PORTAL_FIELD_MANAGER, force: opts.force === true })
  } catch (err) {
    // Conflicts only with the portal's own create (zlh-portal, operation Update) are no one else's
    // edits: the apply takes those fields over. Any other manager in the list → the 409 as it is.
    if (opts.force !== true && onlyPortalConflicts(err)) {
      try {
        return await serverSideApply(client, manifest, { fieldManager: PORTAL_FIELD_MANAGER, force: true })
      } catch (again) {
        throw translateApiError(again, manifest)
      }
    }
    throw translateApiError(err, manifest)
  }
}

/** Creates `manifest` as the portal, only if no object of that name exists (409 ZLH_GW_API_ALREADY_EXISTS otherwise). */
export async function createAsPortal(client: Client, manifest: KObject): Promise<KObject> {
  try {
    return await client.create(manifest, { fieldManager: PORTAL_FIELD_MANAGER })
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 409 && err.reason === 'AlreadyExists') {
      const name = manifest.metadata?.name ?? ''
      throw new PortalError('ZLH_GW_API_ALREADY_EXISTS', `${(manifest.kind ?? 'object').toLowerCase()} "${name}" already exists`, {
        name,
        kind: manifest.kind,
      })
    }
    throw translateApiError(err, manifest)
  }
}

function onlyPortalConflicts(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.statusCode !== 409) return false
  const causes = err.status.details?.causes ?? []
  return (
    causes.length > 0 &&
    causes.every((c) => c.message?.startsWith('conflict with ') === true && managerOf(c.message) === PORTAL_FIELD_MANAGER)
  )
}

/** The manager a conflict cause names: `conflict with "kubectl" using v1` → kubectl. */
function managerOf(message: string | undefined): string {
  return /"([^"]+)"/.exec(message ?? '')?.[1] ?? 'unknown'
}

/** Maps an API server refusal to the portal's catalog (conflicts and validation keep their fields). */
export function translateApiError(err: unknown, obj?: KObject): unknown {
  if (!(err instanceof ApiError)) return err
  const causes = err.status.details?.causes ?? []
  const what = obj ? `${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}` : 'the resource'
  if (err.statusCode === 409 && causes.length > 0) {
    const conflicts: FieldConflict[] = causes.map((c) => ({
      field: c.field ?? '',
      manager: managerOf(c.message),
      message: c.message ?? '',
    }))
    return new PortalError('ZLH_GW_API_CONFLICT', `${what}: ${conflicts.map((c) => `${c.field} is owned by "${c.manager}"`).join('; ')}`, {
      conflicts,
    })
  }
  if (err.statusCode === 404 && err.status.details?.kind === 'namespaces') {
    // A write into a namespace the caller holds but someone deleted (tenants are created when their token is issued).
    return new PortalError(
      'ZLH_GW_API_NAMESPACE_NOT_FOUND',
      `namespace "${err.status.details.name ?? obj?.metadata?.namespace ?? ''}" does not exist: an administrator recreates it (kubectl create namespace) or issues the token again`,
    )
  }
  if (err.statusCode === 404) return new PortalError('ZLH_GW_API_NOT_FOUND', `${what} does not exist`)
  if (err.statusCode === 422 || err.statusCode === 400) {
    const errors = causes.map((c) => ({ field: (c.field ?? '').replace(/^\./, ''), message: c.message ?? '' }))
    return new PortalError('ZLH_GW_API_INVALID', err.status.message ?? 'rejected by the API server', { errors })
  }
  if (err.statusCode === 409)
    return new PortalError('ZLH_GW_API_CONFLICT', err.status.message ?? `${what} was changed concurrently`, { conflicts: [] })
  if (err.statusCode === 403) return backendForbidden(err, obj)
  return new PortalError('ZLH_GW_API_BACKEND', `${err.statusCode} ${err.reason}`)
}

/** What the API server refused, from its Status (kube-apiserver's "cannot <verb> resource ..." message, else details). */
export interface RefusedCall {
  verb: string
  resource: string
  apiGroup: string
  namespace?: string
  name?: string
  apiMessage: string
}

// kube-apiserver's forbidden message (endpoints/handlers/responsewriters/errors.go): `User "u" cannot
// <verb> resource "<resource>[/<sub>]" in API group "<group>" (in the namespace "<ns>"| at the cluster scope)`.
const FORBIDDEN_MESSAGE = /cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/

export function refusedCallOf(err: ApiError, obj?: KObject): RefusedCall {
  const apiMessage = err.status.message ?? ''
  const m = FORBIDDEN_MESSAGE.exec(apiMessage)
  const details = err.status.details as { name?: string; group?: string; kind?: string } | undefined
  const namespace = m?.[4] ?? obj?.metadata?.namespace
  const name = details?.name || obj?.metadata?.name
  return {
    verb: m?.[1] ?? 'use',
    resource: m?.[2] ?? details?.kind ?? obj?.kind ?? 'a resource',
    apiGroup: m?.[3] ?? details?.group ?? '',
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    apiMessage,
  }
}

/** 403 ZLH_GW_API_BACKEND_FORBIDDEN naming verb, resource and namespace; `refused` carries them for the log. */
function backendForbidden(err: ApiError, obj?: KObject): PortalError {
  const call = refusedCallOf(err, obj)
  const resource = call.apiGroup ? `${call.resource}.${call.apiGroup}` : call.resource
  const where = call.namespace ? ` in namespace "${call.namespace}"` : ''
  const detail = FORBIDDEN_MESSAGE.test(call.apiMessage)
    ? `the gateway may not ${call.verb} ${resource}${where}`
    : `${call.apiMessage || `the gateway may not use ${resource}${where}`}`
  const refusal = new PortalError('ZLH_GW_API_BACKEND_FORBIDDEN', detail, {
    verb: call.verb,
    resource: call.resource,
    apiGroup: call.apiGroup,
    ...(call.namespace ? { namespace: call.namespace } : {}),
  })
  refusal.cause = call
  return refusal
}

/** Logs (warn) a call the API server refused, with what kube said; tokens are never part of it. */
export function logRefusal(log: { warn(obj: object, msg: string): void }, err: unknown): void {
  if (!(err instanceof PortalError) || err.code !== 'ZLH_GW_API_BACKEND_FORBIDDEN') return
  log.warn({ refused: err.cause }, 'the Kubernetes API refused a call of the gateway (403): its role lacks this permission')
}
