// The console's pure front-end logic, imported from the very ES modules the browser runs
// (src/gateway/console/web/): hash routes round-trip any server name, and the API's field paths
// land on the right form input (the longest registered path that prefixes the error's field).
import t from 'tap'

// Browser modules (plain JS, no declarations): imported by URL, typed here by what the tests use.
const web = (file: string): Promise<Record<string, (...args: any[]) => any>> =>
  import(new URL(`../../../src/gateway/console/web/${file}`, import.meta.url).href)
const { parseRoute, serverHref } = await web('router.js')
const { inputForField } = await web('forms.js')

t.test('routes: every screen, and names round-trip through the hash', async (t) => {
  t.same(parseRoute(''), { screen: 'list' })
  t.same(parseRoute('#/'), { screen: 'list' })
  t.same(parseRoute('#/new/game'), { screen: 'new', kind: 'GameServer' })
  t.same(parseRoute('#/new/dev'), { screen: 'new', kind: 'DevServer' })
  t.same(parseRoute('#/new/other'), { screen: 'unknown' })
  t.same(parseRoute('#/game/default/mc1'), { screen: 'server', kind: 'GameServer', namespace: 'default', name: 'mc1', tab: 'status' })
  t.same(parseRoute('#/dev/team-a/ws/files'), { screen: 'server', kind: 'DevServer', namespace: 'team-a', name: 'ws', tab: 'files' })
  t.same(parseRoute('#/game/default/mc1/edit'), { screen: 'edit', kind: 'GameServer', namespace: 'default', name: 'mc1' })
  t.same(parseRoute('#/game/%E0%A4%A'), { screen: 'unknown' }, 'a broken escape is not a crash')
  t.same(parseRoute('#/game/a/b/c/d'), { screen: 'unknown' })
  for (const name of ['mc1', 'a.b-c', 'with/slash', 'sp ace', '%41', '<script>']) {
    const href = serverHref('GameServer', 'ns', name, 'console')
    t.same(
      parseRoute(href),
      { screen: 'server', kind: 'GameServer', namespace: 'ns', name, tab: 'console' },
      `${JSON.stringify(name)} round-trips`,
    )
  }
})

t.test("API field paths map to the form's inputs (validateResource's and the API server's paths)", async (t) => {
  const fields = {
    name: 'f-name',
    'metadata.name': 'f-name',
    'spec.server.port': 'f-port',
    'spec.server.command': 'f-command',
    'spec.runtime': 'f-runtime',
    'spec.resources.cores': 'f-cores',
  }
  t.equal(inputForField(fields, 'spec.server.port'), 'f-port')
  t.equal(inputForField(fields, 'spec.server.command[0]'), 'f-command', 'an item of a list is its input')
  t.equal(inputForField(fields, 'spec.runtime.name'), 'f-runtime', 'a sub-field of a group is the group’s input')
  t.equal(inputForField(fields, 'metadata.name'), 'f-name')
  t.equal(inputForField(fields, 'name'), 'f-name')
  t.equal(inputForField(fields, 'spec.server.portX'), undefined, 'a prefix must end at a segment')
  t.equal(inputForField(fields, 'spec.mods[0].url'), undefined, 'a field the form does not show has no input')
})
