// The game console's line editing (src/gateway/console/web/line-editor.js): the game server's
// stdin is a pipe, so what reaches it is exactly the lines the person finished with Enter.
import t from 'tap'
// @ts-expect-error: a browser module (plain JS with JSDoc), imported by Node for its logic
import { lineEditor } from '../../../../src/gateway/console/web/line-editor.js'

interface Editor {
  input(data: string): void
  around(text: string): void
}

function setup(): { editor: Editor; sent: string[]; screen: () => string } {
  const sent: string[] = []
  let written = ''
  const editor = (lineEditor as (term: { write(d: string): void }, submit: (l: string) => void) => Editor)(
    { write: (d) => (written += d) },
    (l) => sent.push(l),
  )
  return { editor, sent, screen: () => written }
}

t.test('Enter sends the typed line once; an empty Enter sends nothing', async (t) => {
  const { editor, sent, screen } = setup()
  for (const ch of 'say hi') editor.input(ch)
  t.same(sent, [], 'nothing before Enter')
  t.match(screen(), /say hi/, 'the typed text is echoed on the screen')
  editor.input('\r')
  editor.input('\r')
  t.same(sent, ['say hi'])
})

t.test('Backspace and Ctrl+C edit the line before it is sent', async (t) => {
  const { editor, sent } = setup()
  editor.input('stopp')
  editor.input('\x7f')
  editor.input('\r')
  editor.input('op')
  editor.input('\x03')
  editor.input('list\r')
  editor.input('\x7f\x7f\r')
  t.same(sent, ['stop', 'list'], 'Backspace removed a character; Ctrl+C dropped "op"; Backspace on nothing is harmless')
})

t.test('a paste with several lines sends one line per newline (CRLF too)', async (t) => {
  const { editor, sent } = setup()
  editor.input('one\r\ntwo\nthree\r')
  t.same(sent, ['one', 'two', 'three'])
})

t.test('escape sequences are keys, not text: never sent', async (t) => {
  const { editor, sent } = setup()
  editor.input('a\x1b[Db\x1b[1;5C\x1bOPc\x1b[3~\r')
  t.same(sent, ['abc'], '←, Ctrl+→, F1 and Delete left no "[D", "[1;5C", "OP" or "[3~" in the line')
})

t.test('↑/↓ recall earlier lines; Enter sends the recalled line', async (t) => {
  const { editor, sent } = setup()
  editor.input('first\r')
  editor.input('second\r')
  editor.input('\x1b[A')
  editor.input('\x1b[A')
  editor.input('\r')
  editor.input('\x1b[A')
  editor.input('\x1b[B')
  editor.input('\x1b[B')
  editor.input('third\r')
  t.same(sent, ['first', 'second', 'first', 'third'], '↑↑ is "first"; ↓ past the newest is an empty line')
})

t.test('output arriving while a line is typed does not lose the line', async (t) => {
  const { editor, sent, screen } = setup()
  editor.input('hal')
  editor.around('[server] tick\n')
  editor.input('f\r')
  t.same(sent, ['half'])
  t.match(screen(), /\[server\] tick\n.*> .*hal/s, 'the line is drawn again under the output')
})
