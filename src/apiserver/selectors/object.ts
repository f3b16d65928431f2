// metav1.LabelSelector (matchLabels + matchExpressions, as in ownerless specs and Deployments)
// turned into a LabelSelector, following apimachinery's LabelSelectorAsSelector.

import { SelectorError } from './errors.ts'
import { makeRequirement, selectorOf, NOTHING, type LabelSelector, type LabelRequirement } from './label.ts'

export interface LabelSelectorRequirementObject {
  key: string
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string
  values?: string[]
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>
  matchExpressions?: LabelSelectorRequirementObject[]
}

const OPERATORS: Record<string, 'in' | 'notin' | 'exists' | '!'> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' }

/**
 * null/undefined selects nothing; an empty selector selects everything (upstream semantics).
 * Throws SelectorError for an unknown operator, bad keys/values, or values where none belong.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return NOTHING
  if (typeof sel !== 'object')
    throw new SelectorError('label', 'a label selector must be an object with matchLabels and/or matchExpressions')
  const reqs: LabelRequirement[] = []
  const where = (msg: string, e: unknown): never => {
    throw new SelectorError('label', `${msg}: ${e instanceof Error ? e.message.replace(/^unable to parse requirement: /, '') : String(e)}`)
  }
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (typeof v !== 'string') throw new SelectorError('label', `matchLabels[${JSON.stringify(k)}]: value must be a string`)
    try {
      reqs.push(makeRequirement(k, '=', [v]))
    } catch (e) {
      where(`matchLabels[${JSON.stringify(k)}]`, e)
    }
  }
  ;(sel.matchExpressions ?? []).forEach((expr, i) => {
    const op = OPERATORS[expr?.operator]
    if (!op)
      throw new SelectorError(
        'label',
        `matchExpressions[${i}].operator: "${expr?.operator}" is not a valid label selector operator (In, NotIn, Exists, DoesNotExist)`,
      )
    try {
      reqs.push(makeRequirement(expr.key, op, expr.values ?? []))
    } catch (e) {
      where(`matchExpressions[${i}]`, e)
    }
  })
  return selectorOf(reqs)
}
