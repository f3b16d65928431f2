// Terminal output made fit for a record: crash messages and log tails end up in the GameServer
// status, `zlh status` and the portal, where colour codes and cursor movement are noise (or worse,
// they would act on the terminal of whoever prints them). The raw console stream is not touched.
//
// Guarantees: the result contains no ESC, no C0 control character except tab and newline, no DEL
// and no C1 control character; printable text (any script) is kept as it was.

// CSI: ESC [ (or the 8-bit CSI) parameters, intermediates, final byte.
const CSI = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]/g
// OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \ or the 8-bit ST), or to the end when unterminated.
const CONTROL_STRING = /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)/g
// Any other escape sequence: ESC, intermediates, one final byte (charset selection, RIS, keypad modes…).
const OTHER_ESCAPE = /\x1b[ -/]*[0-~]?/g
// What is left: C0 controls but tab and newline, DEL, C1 controls.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g

/** `text` without terminal escape sequences and control characters (tab and newline kept). */
export function plainText(text: string): string {
  return text.replace(CONTROL_STRING, '').replace(CSI, '').replace(OTHER_ESCAPE, '').replace(CONTROL, '')
}

/**
 * One output line as a terminal would leave it: a carriage return inside the line (progress
 * bars) means later text overwrote earlier text, so the last non-empty segment is kept; then
 * escapes and controls are removed.
 */
export function plainLine(line: string): string {
  const segments = line.split('\r').filter((s) => s !== '')
  return plainText(segments.at(-1) ?? '')
}
