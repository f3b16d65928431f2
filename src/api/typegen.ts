// Renders TypeScript declarations from CRD structural schemas: one interface per object node,
// named by its path (GameServerSpecServer), so the types never drift from crds/.

import type { JSONSchemaProps } from '../apiserver/schema/index.ts'
import type { CustomResourceDefinition } from './crds.ts'

const HEADER = `// Generated from crds/ by scripts/gen-types.ts. Do not edit: change the CRD and run \`npm run gen:types\`.

import type { Condition, ObjectMeta } from '../apimachinery/index.ts'
`

function pascal(s: string): string {
  return s.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_m, _p, c: string) => c.toUpperCase())
}

function doc(s: JSONSchemaProps, indent: string): string {
  return s.description ? `${indent}/** ${s.description.replace(/\*\//g, '* /')} */\n` : ''
}

/** metav1.Condition's fields and the ones it requires: a `status.conditions` item with exactly these is typed as the one Condition. */
const CONDITION_FIELDS = ['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']
const CONDITION_REQUIRED = ['lastTransitionTime', 'message', 'reason', 'status', 'type']

function isMetaV1Condition(s: JSONSchemaProps): boolean {
  const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === b[i])
  return (
    same(Object.keys(s.properties ?? {}), CONDITION_FIELDS) &&
    same(s.required ?? [], CONDITION_REQUIRED) &&
    same((s.properties?.status?.enum ?? []) as string[], ['False', 'True', 'Unknown'])
  )
}

class Emitter {
  out: string[] = []

  typeOf(s: JSONSchemaProps, name: string): string {
    if (s['x-kubernetes-int-or-string']) return 'number | string'
    let t: string
    switch (s.type) {
      case 'string':
        t = s.enum ? s.enum.map((e) => JSON.stringify(e)).join(' | ') : 'string'
        break
      case 'integer':
      case 'number':
        t = 'number'
        break
      case 'boolean':
        t = 'boolean'
        break
      case 'array':
        t = `Array<${this.typeOf(s.items ?? {}, `${name}Item`)}>`
        break
      case 'object':
        if (name.endsWith('StatusConditionsItem') && isMetaV1Condition(s)) t = 'Condition'
        else if (s.properties && Object.keys(s.properties).length) {
          this.emitInterface(s, name)
          t = name
        } else if (typeof s.additionalProperties === 'object') t = `Record<string, ${this.typeOf(s.additionalProperties, `${name}Value`)}>`
        else t = 'Record<string, unknown>'
        break
      default:
        t = 'unknown'
    }
    return s.nullable ? `${t} | null` : t
  }

  emitInterface(s: JSONSchemaProps, name: string, extra = ''): void {
    const lines: string[] = []
    for (const [k, ps] of Object.entries(s.properties ?? {})) {
      if (name.endsWith('Resource') && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue
      const opt = s.required?.includes(k) ? '' : '?'
      lines.push(`${doc(ps, '  ')}  ${k}${opt}: ${this.typeOf(ps, `${name.replace(/Resource$/, '')}${pascal(k)}`)}`)
    }
    this.out.push(`${doc(s, '')}export interface ${name.replace(/Resource$/, '')} {\n${extra}${lines.join('\n')}\n}\n`)
  }
}

export function renderTypes(crds: CustomResourceDefinition[]): string {
  const parts: string[] = [HEADER]
  for (const crd of crds) {
    const { kind } = crd.spec.names
    for (const v of crd.spec.versions.filter((x) => x.storage)) {
      const e = new Emitter()
      const head = `  apiVersion: '${crd.spec.group}/${v.name}'\n  kind: '${kind}'\n  metadata: ObjectMeta\n`
      e.emitInterface(v.schema.openAPIV3Schema, `${kind}Resource`, head)
      parts.push(`// ---- ${kind} (${crd.spec.group}/${v.name}, ${crd.spec.scope}) ----\n\n${e.out.join('\n')}`)
    }
  }
  return parts.join('\n')
}
