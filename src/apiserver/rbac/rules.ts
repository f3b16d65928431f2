// PolicyRule semantics, as Kubernetes defines them (pkg/apis/rbac/v1/evaluation_helpers.go and
// component-helpers' policy comparator): whether one rule allows a request, and whether a set of
// rules covers another (escalation prevention), plus the compact wording kube uses for rules in
// its "attempting to grant RBAC permissions not currently held" message.
//
// Semantics
// - verbs, apiGroups, resources: `*` matches anything, otherwise exact (case-sensitive).
// - A request for a subresource names "resource/subresource"; a rule matches it by that exact
//   string, by `*/subresource`, or by `*`. A rule for "pods" does not cover "pods/log".
// - A rule with resourceNames matches only requests that carry one of those names: never list,
//   watch of a collection, create or deletecollection, which have no name.
// - nonResourceURLs match exactly, or by prefix when the rule's URL ends in `*`.

import type { RequestAttributes } from '../authorizer.ts'
import { ALL, type PolicyRule } from './types.ts'

const has = (set: readonly string[] | undefined, s: string): boolean => (set ?? []).includes(s)
const hasAll = (set: readonly string[] | undefined, want: readonly string[] | undefined): boolean => (want ?? []).every((s) => has(set, s))

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb)
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group)
}

/** `combined` is "resource" or "resource/subresource". */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true
    if (subresource && r === `*/${subresource}`) return true
  }
  return false
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? []
  return names.length === 0 || names.includes(name)
}

/** Whether a rule's non-resource URL pattern covers `path` (exact, or prefix before a trailing `*`). */
export function nonResourceUrlCovers(pattern: string, path: string): boolean {
  if (pattern === ALL || pattern === path) return true
  return pattern.endsWith('*') && path.startsWith(pattern.replace(/\*+$/, ''))
}

export function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => nonResourceUrlCovers(u, path))
}

/** Whether `rule` allows the request (kube's RuleAllows). */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false
  if (!attrs.resourceRequest) return nonResourceUrlMatches(rule, attrs.path)
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource
  return (
    apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, combined, attrs.subresource) && resourceNameMatches(rule, attrs.name)
  )
}

/**
 * A rule broken into atomic rules: one verb with one group, resource and (if any) resource name,
 * or one verb with one non-resource URL. Each atomic rule is either covered by a single owner
 * rule or not at all, which makes coverage a simple per-piece check.
 */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = []
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs ?? []) {
        const names = rule.resourceNames ?? []
        if (names.length) for (const n of names) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [n] })
        else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] })
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs ?? []) out.push({ nonResourceURLs: [url], verbs: [verb] })
  return out
}

function resourcesCovered(owner: readonly string[] | undefined, wanted: readonly string[] | undefined): boolean {
  if (has(owner, ALL) || hasAll(owner, wanted)) return true
  return (wanted ?? []).every((r) => {
    if (has(owner, r)) return true
    const slash = r.indexOf('/')
    return slash >= 0 && has(owner, `*/${r.slice(slash + 1)}`)
  })
}

/** Whether `owner` covers every permission of `sub` (kube's ruleCovers). */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, ALL) || hasAll(owner.verbs, sub.verbs)
  const groups = has(owner.apiGroups, ALL) || hasAll(owner.apiGroups, sub.apiGroups)
  const resources = resourcesCovered(owner.resources, sub.resources)
  const urls = (sub.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => nonResourceUrlCovers(o, u)))
  const ownerNames = owner.resourceNames ?? []
  const subNames = sub.resourceNames ?? []
  const names = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames)
  return verbs && groups && resources && urls && names
}

/** Whether `owner` rules together cover `wanted`; `missing` lists the atomic rules they do not. */
export function covers(owner: readonly PolicyRule[], wanted: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = []
  for (const piece of wanted.flatMap(breakdownRule)) if (!owner.some((o) => ruleCovers(o, piece))) missing.push(piece)
  return { covered: missing.length === 0, missing }
}

/** Merges atomic rules that differ only in their verb (one group, one resource, at most one name). */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = []
  const simple = new Map<string, PolicyRule>()
  for (const r of rules) {
    const isSimple =
      !r.nonResourceURLs?.length && (r.resourceNames?.length ?? 0) <= 1 && r.apiGroups?.length === 1 && r.resources?.length === 1
    if (!isSimple) {
      out.push(r)
      continue
    }
    const key = JSON.stringify([r.apiGroups, r.resources, r.resourceNames ?? []])
    const seen = simple.get(key)
    if (seen) seen.verbs.push(...r.verbs)
    else simple.set(key, { ...r, verbs: [...r.verbs] })
  }
  return [...out, ...simple.values()]
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuotedList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`
}

/** A rule as kube words it in escalation errors: {APIGroups:[""], Resources:["secrets"], Verbs:["get"]}. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = []
  if (r.apiGroups?.length) parts.push(`APIGroups:${goQuotedList(r.apiGroups)}`)
  if (r.resources?.length) parts.push(`Resources:${goQuotedList(r.resources)}`)
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuotedList(r.nonResourceURLs)}`)
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goQuotedList(r.resourceNames)}`)
  if (r.verbs?.length) parts.push(`Verbs:${goQuotedList(r.verbs)}`)
  return `{${parts.join(', ')}}`
}
