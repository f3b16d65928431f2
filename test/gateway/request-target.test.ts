// The gateway's request-target rule (src/gateway/request-target.ts), both directions: what is
// accepted (and the exact path it is routed on) and what is refused, with the reason.
import t from 'tap'
import { checkPortalTarget, checkTargetForm, pathProblem } from '../../src/gateway/request-target.ts'

t.test('origin-form targets pass, split into path and query', async (t) => {
  t.same(checkPortalTarget('GET', '/api/servers'), { ok: true, asterisk: false, path: '/api/servers', query: '' })
  t.same(checkPortalTarget('GET', '/api/servers?'), { ok: true, asterisk: false, path: '/api/servers', query: '' })
  t.same(
    checkPortalTarget('GET', '/api/game/x/console?session=a%2Fb'),
    { ok: true, asterisk: false, path: '/api/game/x/console', query: 'session=a%2Fb' },
    'the query is not the path: escapes there are left alone',
  )
  for (const path of [
    '/',
    '/api/',
    '/api/game/x/files/a%20b%C3%A9.txt',
    '/api/game/x/files/100%25',
    '/api/game/x/files/what%3F',
    '/api/game/x/files/a..b',
    '/api/game/x/files/.hidden',
  ]) {
    t.equal(pathProblem(path), undefined, `${path} is in normal form`)
  }
  t.same(checkTargetForm('OPTIONS', '*'), { ok: true, asterisk: true }, 'OPTIONS * is the one non-path target')
})

t.test('everything else is refused, saying why', async (t) => {
  const refused: Array<[string, string, RegExp]> = [
    ['GET', 'http://127.0.0.1:1/api/servers', /absolute-form/],
    ['GET', 'https://h/api/servers', /absolute-form/],
    ['GET', 'HTTP://h/api/servers', /absolute-form/],
    ['CONNECT', 'h:443', /CONNECT/],
    ['GET', 'h:443', /starting with "\/"/],
    ['GET', '*', /only for OPTIONS/],
    ['GET', '', /starting with "\/"/],
    ['GET', '/api/servers#x', /"#"/],
    ['GET', '/%61pi/servers', /percent-encodes "a"/],
    ['GET', '/ap%69/servers', /percent-encodes "i"/],
    ['GET', '/api/toke%6Es', /percent-encodes "n"/],
    ['GET', '/api%2Fservers', /encoded separator/],
    ['GET', '/api%2fservers', /encoded separator/],
    ['GET', '/api%5Cservers', /encoded separator/],
    ['GET', '/api\\servers', /backslash/],
    ['GET', '/api/servers%00', /control character/],
    ['GET', '/api/servers\x01', /control characters/],
    ['GET', '//api/servers', /empty segment/],
    ['GET', '/api//servers', /empty segment/],
    ['GET', '/./api/servers', /"\." or "\.\." segments/],
    ['GET', '/x/../api/servers', /"\." or "\.\." segments/],
    ['GET', '/api/servers/..', /"\." or "\.\." segments/],
    ['GET', '/x/%2e%2e/api/servers', /percent-encodes "\."/],
    ['GET', '/api/%zz', /two hex digits/],
    ['GET', '/api/%4', /two hex digits/],
  ]
  for (const [method, target, reason] of refused) {
    const v = checkPortalTarget(method, target)
    t.equal(v.ok, false, `${method} ${JSON.stringify(target)} is refused`)
    if (!v.ok) t.match(v.reason, reason)
  }
  t.equal(checkTargetForm('GET', '/x/../y').ok, true, 'IDE hosts: only the form rule (their paths go to code-server verbatim)')
  t.equal(checkTargetForm('GET', 'http://dev-1.example/').ok, false, 'but never absolute-form')
})
