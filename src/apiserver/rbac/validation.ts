// Defaulting and validation of the four RBAC kinds, as kube-apiserver's pkg/apis/rbac/v1/defaults.go
// and pkg/apis/rbac/validation: roleRef required and immutable, its kind Role|ClusterRole
// (ClusterRole only in a ClusterRoleBinding) in rbac.authorization.k8s.io; subjects User, Group or
// ServiceAccount (one in a ClusterRoleBinding needs a namespace); rules need verbs and either
// apiGroups + resources or nonResourceURLs (the latter only in ClusterRoles).

import { isDeepStrictEqual } from 'node:util'
import { nameErrors } from '../object-meta.ts'
import { fieldError, type FieldError } from '../schema/index.ts'
import { labelSelectorFromObject } from '../selectors/index.ts'
import type { KObject } from '../types.ts'
import { RBAC_GROUP, type BindingObject, type LabelSelectorLike, type PolicyRule, type RoleObject, type Subject } from './types.ts'

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0)
const quoted = (values: string[]) => `supported values: ${values.map((v) => JSON.stringify(v)).join(', ')}`

/** Subject and roleRef apiGroup defaults (kube's SetDefaults_Subject / SetDefaults_RoleBinding). */
export function defaultBinding(o: KObject): void {
  const b = o as BindingObject
  if (isObj(b.roleRef) && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP
  for (const s of list(b.subjects)) {
    if (isObj(s) && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP
  }
}

export function policyRuleErrors(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  if (!isObj(rule)) return [fieldError(path, 'FieldValueTypeInvalid', 'must be an object', rule)]
  const out: FieldError[] = []
  if (len(rule.verbs) === 0) out.push(fieldError(`${path}.verbs`, 'FieldValueRequired', 'verbs must contain at least one value'))
  if (len(rule.nonResourceURLs) > 0) {
    if (namespaced)
      out.push(
        fieldError(
          `${path}.nonResourceURLs`,
          'FieldValueInvalid',
          'namespaced rules cannot apply to non-resource URLs',
          rule.nonResourceURLs,
        ),
      )
    if (len(rule.apiGroups) > 0 || len(rule.resources) > 0 || len(rule.resourceNames) > 0) {
      out.push(
        fieldError(
          `${path}.nonResourceURLs`,
          'FieldValueInvalid',
          'rules cannot apply to both regular resources and non-resource URLs',
          rule.nonResourceURLs,
        ),
      )
    }
    return out
  }
  if (len(rule.apiGroups) === 0)
    out.push(fieldError(`${path}.apiGroups`, 'FieldValueRequired', 'resource rules must supply at least one api group'))
  if (len(rule.resources) === 0)
    out.push(fieldError(`${path}.resources`, 'FieldValueRequired', 'resource rules must supply at least one resource'))
  return out
}

function rulesErrors(o: RoleObject, namespaced: boolean): FieldError[] {
  return list(o.rules).flatMap((r, i) => policyRuleErrors(r as PolicyRule, namespaced, `rules[${i}]`))
}

export function validateRole(o: KObject): FieldError[] {
  return rulesErrors(o as RoleObject, true)
}

export function validateClusterRole(o: KObject): FieldError[] {
  const role = o as RoleObject
  const out = rulesErrors(role, false)
  const agg = role.aggregationRule as unknown
  if (agg !== undefined && agg !== null) {
    const selectors = isObj(agg) ? list(agg.clusterRoleSelectors) : []
    if (selectors.length === 0)
      out.push(
        fieldError(
          'aggregationRule.clusterRoleSelectors',
          'FieldValueRequired',
          'at least one clusterRoleSelector required if aggregationRule is non-nil',
        ),
      )
    selectors.forEach((s, i) => {
      try {
        labelSelectorFromObject(s as LabelSelectorLike)
      } catch (err) {
        out.push(fieldError(`aggregationRule.clusterRoleSelectors[${i}]`, 'FieldValueInvalid', (err as Error).message, s))
      }
    })
  }
  return out
}

function subjectErrors(s: Subject, namespaced: boolean, path: string): FieldError[] {
  if (!isObj(s)) return [fieldError(path, 'FieldValueTypeInvalid', 'must be an object', s)]
  const out: FieldError[] = []
  if (!s.name) out.push(fieldError(`${path}.name`, 'FieldValueRequired', ''))
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) out.push(...nameErrors(s.name, 'dns-subdomain', `${path}.name`))
      if (s.apiGroup) out.push(fieldError(`${path}.apiGroup`, 'FieldValueNotSupported', quoted(['']), s.apiGroup))
      if (!namespaced && !s.namespace) out.push(fieldError(`${path}.namespace`, 'FieldValueRequired', ''))
      break
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP)
        out.push(fieldError(`${path}.apiGroup`, 'FieldValueNotSupported', quoted([RBAC_GROUP]), s.apiGroup ?? ''))
      break
    default:
      out.push(fieldError(`${path}.kind`, 'FieldValueNotSupported', quoted(['ServiceAccount', 'User', 'Group']), s.kind ?? ''))
  }
  return out
}

function bindingErrors(o: KObject, old: KObject | undefined, namespaced: boolean): FieldError[] {
  const b = o as BindingObject
  const out: FieldError[] = []
  if (!isObj(b.roleRef)) out.push(fieldError('roleRef', 'FieldValueRequired', 'a binding must reference a Role or ClusterRole'))
  const ref = (isObj(b.roleRef) ? b.roleRef : { apiGroup: RBAC_GROUP }) as Partial<BindingObject['roleRef']>
  if (ref.apiGroup !== RBAC_GROUP)
    out.push(fieldError('roleRef.apiGroup', 'FieldValueNotSupported', quoted([RBAC_GROUP]), ref.apiGroup ?? ''))
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole']
  if (!kinds.includes(ref.kind ?? '')) out.push(fieldError('roleRef.kind', 'FieldValueNotSupported', quoted(kinds), ref.kind ?? ''))
  if (!ref.name) out.push(fieldError('roleRef.name', 'FieldValueRequired', ''))
  else out.push(...nameErrors(ref.name, 'path-segment', 'roleRef.name'))
  list(b.subjects).forEach((s, i) => {
    out.push(...subjectErrors(s as Subject, namespaced, `subjects[${i}]`))
  })
  if (old && !isDeepStrictEqual((old as BindingObject).roleRef, b.roleRef))
    out.push(fieldError('roleRef', 'FieldValueInvalid', 'cannot change roleRef', b.roleRef))
  return out
}

export function validateRoleBinding(o: KObject, old: KObject | undefined): FieldError[] {
  return bindingErrors(o, old, true)
}

export function validateClusterRoleBinding(o: KObject, old: KObject | undefined): FieldError[] {
  return bindingErrors(o, old, false)
}
