// The subset of OpenAPI v3 (JSONSchemaProps) that apiextensions.k8s.io/v1 CRDs may use.

export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  format?: string
  description?: string
  title?: string
  properties?: Record<string, JSONSchemaProps>
  additionalProperties?: JSONSchemaProps | boolean
  items?: JSONSchemaProps
  required?: string[]
  enum?: unknown[]
  default?: unknown
  nullable?: boolean
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: boolean
  exclusiveMaximum?: boolean
  multipleOf?: number
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  minProperties?: number
  maxProperties?: number
  oneOf?: JSONSchemaProps[]
  anyOf?: JSONSchemaProps[]
  allOf?: JSONSchemaProps[]
  not?: JSONSchemaProps
  example?: unknown
  externalDocs?: unknown
  'x-kubernetes-preserve-unknown-fields'?: boolean
  'x-kubernetes-embedded-resource'?: boolean
  'x-kubernetes-int-or-string'?: boolean
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map'
  'x-kubernetes-list-map-keys'?: string[]
  'x-kubernetes-map-type'?: 'atomic' | 'granular'
  'x-kubernetes-validations'?: unknown[]
}

export type Junctor = 'oneOf' | 'anyOf' | 'allOf' | 'not'

export const JUNCTORS: readonly Junctor[] = ['oneOf', 'anyOf', 'allOf', 'not']

/** Children of a schema node under its value (properties, additionalProperties, items). */
export function childSchemas(s: JSONSchemaProps): Array<[string, JSONSchemaProps]> {
  const out: Array<[string, JSONSchemaProps]> = []
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push([`.${k}`, v])
  if (s.additionalProperties && typeof s.additionalProperties === 'object') out.push(['[*]', s.additionalProperties])
  if (s.items) out.push(['[*]', s.items])
  return out
}
