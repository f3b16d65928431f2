// Line editing for the game console, which is a pipe to the game server's stdin: nothing echoes
// and nothing edits, so the page does both. What is typed shows after a "> " prompt; Enter sends
// the line (pasted text with newlines sends one line per newline); Backspace, Ctrl+C (drop the
// line) and ↑/↓ (recall the last 100 lines) work; other escape sequences (arrows, function keys)
// are ignored rather than sent as text. Output arriving while a line is typed is drawn above it.

const MAX_LINE_HISTORY = 100

/**
 * Line editing for a console that is a pipe (nothing echoes): what is typed shows after a "> "
 * prompt and goes out on Enter; output is drawn above the line being typed.
 * @param {{ write(data: string): void }} term the xterm Terminal (only write is used)
 * @param {(line: string) => void} submit
 */
export function lineEditor(term, submit) {
  let line = ''
  /** @type {string[]} */
  const history = []
  let recall = 0
  const prompt = () => `\x1b[36m> \x1b[0m${line}`
  const clearLine = () => term.write('\r\x1b[2K')
  const replace = (/** @type {string} */ text) => {
    line = text
    clearLine()
    term.write(prompt())
  }
  return {
    /** @param {string} data keys or pasted text from xterm */
    input(data) {
      if (data === '\x1b[A' || data === '\x1b[B') {
        if (history.length === 0) return
        recall = Math.max(0, Math.min(history.length, recall + (data === '\x1b[A' ? -1 : 1)))
        replace(history[recall] ?? '')
        return
      }
      // Other keys that send escape sequences (←/→, Home, F1…) have no meaning on a pipe.
      for (const ch of data.replace(/\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)?/g, '')) {
        if (ch === '\r' || ch === '\n') {
          if (line.length === 0) continue
          const sent = line
          line = ''
          clearLine()
          term.write(`\x1b[36m> \x1b[0m${sent}\r\n`)
          if (history.at(-1) !== sent) history.push(sent)
          if (history.length > MAX_LINE_HISTORY) history.shift()
          recall = history.length
          submit(sent)
        } else if (ch === '\x7f' || ch === '\b') {
          if (line.length > 0) replace([...line].slice(0, -1).join(''))
        } else if (ch === '\x03') {
          replace('')
          clearLine()
        } else if (ch >= ' ') {
          line += ch
          term.write(line.length === ch.length ? prompt() : ch)
        }
      }
    },
    /** Writes output with the typed line moved out of the way, then draws the line again under it. */
    around(/** @type {string} */ text) {
      if (line.length === 0) {
        term.write(text)
        return
      }
      clearLine()
      term.write(text.endsWith('\n') ? text : `${text}\r\n`)
      term.write(prompt())
    },
    redraw() {
      if (line.length > 0) term.write(prompt())
    },
  }
}
