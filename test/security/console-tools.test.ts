// The web console's file browser builds every file route from a list of names (files.js): a
// typed or uploaded name must reach the agent as exactly that one name, in that folder, with no
// query it did not mean (op, recursive, namespace). Checked against the portal's own parser of
// those paths (agentPathOf, src/gateway/portal/agent-files.ts), so a name that would change the
// route, the folder or the query fails here; names the agent refuses anyway are refused by the
// browser first (nameProblem), and the portal still refuses them if one got through.
import t from 'tap'
import { agentPathOf } from '../../src/gateway/portal/agent-files.ts'
// @ts-expect-error: a browser module (plain JS with JSDoc), imported by Node for its pure helpers
import { fileUrl, nameProblem } from '../../src/gateway/console/web/files.js'

type FileUrl = (
  kind: 'GameServer' | 'DevServer',
  namespace: string,
  name: string,
  area: 'files' | 'uploads',
  segments: string[],
  query?: Record<string, string>,
) => string
const urlOf = fileUrl as FileUrl
const problemOf = nameProblem as (name: string) => string | null

/** What the agent receives for a console URL: its path's names (decoded once, as the agent's router does) and its query. */
function atAgent(url: string, area: 'files' | 'uploads'): { segments: string[]; query: Record<string, string> } {
  const routed = agentPathOf(url, area === 'files' ? '/files/' : '/uploads/', 5)
  const q = routed.indexOf('?')
  const path = q === -1 ? routed : routed.slice(0, q)
  const segments = path
    .slice(`/${area}/`.length)
    .split('/')
    .map((s) => decodeURIComponent(s))
  return { segments, query: Object.fromEntries(new URLSearchParams(q === -1 ? '' : routed.slice(q + 1))) }
}

// Legal names that look like syntax: each must stay one name.
const tricky = [
  '%2e%2e',
  '..%2f..%2fetc',
  '%2F',
  'a?op=rename',
  'x?namespace=other',
  'a#b',
  'a&recursive=true',
  'semi;colon',
  ' leading and trailing ',
  '...',
  '.hidden',
  '~',
  '%',
  '%zz',
  'ünïcødé',
  '日本語',
  'a+b',
  'quote\'"',
]

t.test('a tricky but legal name reaches the agent as that one name, in that folder, with only the intended query', async (t) => {
  for (const name of tricky) {
    t.equal(problemOf(name), null, `${JSON.stringify(name)} is a legal name`)
    for (const area of ['files', 'uploads'] as const) {
      const url = urlOf('GameServer', 'tenant-a', 'echo', area, ['maps', name], area === 'files' ? { op: 'mkdir' } : {})
      t.match(url, /^\/api\/game\/echo\//, 'the route is the server it was built for')
      const got = atAgent(url, area)
      t.same(got.segments, ['maps', name], `${area}: ${JSON.stringify(name)} arrives as one name under maps/`)
      t.same(
        got.query,
        area === 'files' ? { op: 'mkdir' } : {},
        `${area}: no query from the name (namespace is the portal's, not forwarded)`,
      )
      t.equal(new URL(url, 'https://h').searchParams.get('namespace'), 'tenant-a', 'the namespace is the one the page asked for')
    }
  }
})

t.test('a name the agent would refuse is refused in the browser, and by the portal if sent anyway', async (t) => {
  const refused: Array<[string, RegExp]> = [
    ['', /required/],
    ['.', /not a name/],
    ['..', /not a name/],
    ['a/b', /may not contain/],
    ['a\\b', /may not contain/],
    ['nul\0byte', /may not contain/],
    ['x'.repeat(256), /255 bytes/],
    ['é'.repeat(128), /255 bytes/],
  ]
  for (const [name, why] of refused) t.match(problemOf(name), why, `${JSON.stringify(name.slice(0, 20))} refused: ${why}`)
  // Encoded one by one, a "/" stays inside its name: the portal refuses it rather than walking up.
  for (const name of ['..', '.', 'a/../../b']) {
    t.throws(
      () => atAgent(urlOf('DevServer', 'default', 'ide', 'files', [name]), 'files'),
      { code: 'ZLH_GW_API_INVALID' },
      `${JSON.stringify(name)} never reaches the agent`,
    )
  }
})

t.test('the server name is one encoded segment too', async (t) => {
  const url = urlOf('DevServer', 'default', 'a/../../game/other', 'files', ['x'])
  t.match(url, /^\/api\/dev\/a%2F\.\.%2F\.\.%2Fgame%2Fother\/files\/x\?/, 'a "/" in the server name cannot change the route')
})
