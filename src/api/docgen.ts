// Renders one Markdown reference page per CRD: every field with its type, default, constraints and
// description, so docs/resources/ never drifts from crds/.

import type { JSONSchemaProps } from '../apiserver/schema/index.ts'
import type { CustomResourceDefinition } from './crds.ts'

function typeName(s: JSONSchemaProps): string {
  if (s['x-kubernetes-int-or-string']) return 'int-or-string'
  if (s.type === 'array') return `[]${s.items ? typeName(s.items) : 'any'}`
  if (s.type === 'object' && typeof s.additionalProperties === 'object') return `map[string]${typeName(s.additionalProperties)}`
  return s.type ?? 'any'
}

function constraints(s: JSONSchemaProps, required: boolean): string {
  const c: string[] = []
  if (required) c.push('**required**')
  if (s.enum) c.push(`one of ${s.enum.map((e) => `\`${String(e)}\``).join(', ')}`)
  if (s.minimum !== undefined) c.push(`≥ ${s.minimum}`)
  if (s.maximum !== undefined) c.push(`≤ ${s.maximum}`)
  if (s.minLength !== undefined) c.push(`min length ${s.minLength}`)
  if (s.maxLength !== undefined) c.push(`max length ${s.maxLength}`)
  if (s.minItems !== undefined) c.push(`min items ${s.minItems}`)
  if (s.maxItems !== undefined) c.push(`max items ${s.maxItems}`)
  if (s.pattern) c.push(`pattern \`${s.pattern.replace(/\|/g, '\\|')}\``)
  if (s.format) c.push(`format ${s.format}`)
  if (s['x-kubernetes-list-type'] === 'map') c.push(`keyed by ${s['x-kubernetes-list-map-keys']!.join(', ')}`)
  for (const j of ['oneOf', 'anyOf'] as const) {
    const req = s[j]?.map((b) => b.required?.join('+')).filter(Boolean)
    if (req?.length) c.push(`${j === 'oneOf' ? 'exactly one' : 'at least one'} of ${req.map((r) => `\`${r}\``).join(', ')}`)
  }
  return c.join('; ')
}

function rows(s: JSONSchemaProps, path: string, required: boolean, out: string[]): void {
  const def = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``
  out.push(`| \`${path}\` | ${typeName(s)} | ${def} | ${constraints(s, required)} | ${(s.description ?? '').replace(/\|/g, '\\|')} |`)
  const child = s.type === 'array' ? s.items : s
  const prefix = s.type === 'array' ? `${path}[]` : path
  for (const [k, ps] of Object.entries(child?.properties ?? {})) rows(ps, `${prefix}.${k}`, child?.required?.includes(k) ?? false, out)
}

export function renderResourceDoc(crd: CustomResourceDefinition): string {
  const { names, group, scope } = crd.spec
  const v = crd.spec.versions.find((x) => x.storage)!
  const root = v.schema.openAPIV3Schema
  const out = [
    `# ${names.kind}`,
    '',
    `<!-- Generated from crds/${crd.metadata.name}.yaml by scripts/gen-docs.ts. Do not edit. -->`,
    '',
    root.description ?? '',
    '',
    `- API: \`${group}/${v.name}\`, ${scope === 'Namespaced' ? 'namespaced' : 'cluster-scoped'}`,
    `- Names: \`${names.plural}\`, \`${names.singular}\`${(names.shortNames ?? []).map((s) => `, \`${s}\``).join('')}; categories: ${(names.categories ?? []).join(', ')}`,
    `- \`kubectl get ${names.plural}\` columns: ${(v.additionalPrinterColumns ?? []).map((c) => c.name).join(', ')}`,
    '',
    '| field | type | default | constraints | description |',
    '| --- | --- | --- | --- | --- |',
  ]
  for (const part of ['spec', 'status'] as const) {
    const s = root.properties?.[part]
    if (s) rows(s, part, root.required?.includes(part) ?? false, out)
  }
  return `${out.join('\n')}\n`
}
