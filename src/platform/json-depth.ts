// How deep a JSON text nests, measured before parsing: the edges that take JSON bodies (agent,
// portal) refuse a hostile document here, in one non-recursive pass, before a recursive parser,
// validator or structuredClone could overflow the stack on it.
//
// Guarantees: strings are skipped (brackets inside them do not count, escapes included); the scan
// stops as soon as the depth passes `stopAt`; invalid JSON is not detected here (the parser does).

/** The deepest object/array nesting of a JSON text (0 for a scalar), stopping early past `stopAt`. */
export function jsonNestingDepth(text: string, stopAt = Infinity): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth
        if (max > stopAt) return max
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return max
}
