// The roles of manifests/base are enforced, and a missing rule is named by the component it
// breaks: with the controller and the gateway running as their ServiceAccounts (the e2e harness,
// RBAC applied as `zlh up` applies it), one rule is removed from a role of the running system and
// the component's failure names the verb and the resource; putting the rule back heals it.
// (Kubernetes: a ClusterRole change takes effect at the next request; docs "Using RBAC
// Authorization".)
import t from 'tap'
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { join } from 'node:path'
import pino from 'pino'
import { parse } from 'yaml'
import { startGatewayService } from '../../src/gateway/service.ts'
import { buildArtifacts, condition, exampleGameServer, startE2E, type E2E } from '../e2e/harness.ts'

t.setTimeout(6 * 60_000)

interface Rule {
  apiGroups?: string[]
  resources?: string[]
  verbs: string[]
  resourceNames?: string[]
  nonResourceURLs?: string[]
}

/** `rules` without `verb` on `resource`: a rule that grants it loses it for that resource only. */
function withoutVerb(rules: Rule[], resource: string, verb: string): Rule[] {
  return rules.flatMap((r) => {
    if (!(r.resources ?? []).includes(resource) || !r.verbs.includes(verb)) return [r]
    const others = (r.resources ?? []).filter((x) => x !== resource)
    const kept = r.verbs.filter((v) => v !== verb)
    return [
      ...(others.length > 0 ? [{ ...r, resources: others }] : []),
      ...(kept.length > 0 ? [{ ...r, resources: [resource], verbs: kept }] : []),
    ]
  })
}

/** Replaces the rules of ClusterRole `name` in the running system; resolves with the way back. */
async function editClusterRole(e: E2E, name: string, edit: (rules: Rule[]) => Rule[]): Promise<() => Promise<void>> {
  const role = JSON.parse(await e.h.k('get', 'clusterrole', name, '-o', 'json'))
  const original = role.rules as Rule[]
  const replace = async (rules: Rule[]): Promise<void> => {
    const current = JSON.parse(await e.h.k('get', 'clusterrole', name, '-o', 'json'))
    const r = await e.h.kubectl(['replace', '-f', '-'], { input: JSON.stringify({ ...current, rules }) })
    if (r.code !== 0) throw new Error(`kubectl replace clusterrole ${name}: ${r.stderr}`)
  }
  await replace(edit(original))
  return () => replace(original)
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

const art = await buildArtifacts(t)
const e = await startE2E(t, art)
await e.startController()

t.test('the helper drops one verb on one resource and keeps the rest', async (t) => {
  t.same(withoutVerb([{ apiGroups: ['g'], resources: ['a', 'b'], verbs: ['get', 'patch'] }], 'a', 'patch'), [
    { apiGroups: ['g'], resources: ['b'], verbs: ['get', 'patch'] },
    { apiGroups: ['g'], resources: ['a'], verbs: ['get'] },
  ])
  t.same(withoutVerb([{ resources: ['a'], verbs: ['patch'] }], 'a', 'patch'), [])
})

t.test(
  'ClusterRole zlh-controller without patch on gameservers/status: the controller logs it once, with an Event; back, it heals',
  async (t) => {
    const restore = await editClusterRole(e, 'zlh-controller', (rules) => withoutVerb(rules, 'gameservers/status', 'patch'))
    let restored = false
    t.teardown(async () => {
      if (!restored) await restore()
    })
    await e.apply(exampleGameServer(e.portBase + 90))
    const lines = (): any[] =>
      e
        .logs()
        .split('\n')
        .flatMap((l) => {
          try {
            return [JSON.parse(l)]
          } catch {
            return []
          }
        })
    const denied = (l: any): boolean =>
      l.forbidden?.verb === 'patch' && l.forbidden?.resource === 'gameservers/status' && l.name === 'squid'
    const line = await until('the controller to log the forbidden status write', () => lines().find(denied))
    t.equal(line.level, 50, 'at error')
    t.match(line, {
      forbidden: { user: 'system:serviceaccount:zlh-system:zlh-controller', apiGroup: 'zerolaghub.dev', namespace: 'default' },
    })
    t.match(
      line.msg,
      /may not patch gameservers\/status .*manifests\/base\/rbac-controller\.yaml/,
      'says what is missing and where the rule belongs',
    )
    const event = await until('a Forbidden Event on the GameServer', async () => {
      const list = JSON.parse(await e.h.k('get', 'events', '-n', 'default', '-o', 'json'))
      return list.items.find((ev: any) => ev.reason === 'Forbidden' && ev.involvedObject?.name === 'squid')
    })
    t.equal(event.type, 'Warning')
    t.match(event.message, /patch gameservers\/status/)
    // Retries (5 s, 10 s, ...) add no error line (test/controller/forbidden.test.ts counts them).
    t.equal(lines().filter(denied).length, 1, 'logged once for this object and cause')
    const refused = await e.get('gameserver', 'squid')
    t.notOk(refused.status?.phase, 'no status was written')
    t.notOk(condition(refused, 'Synced'), 'the status write refused: no Synced condition, the Event and the log line carry it')
    t.ok(
      lines().some((l) => l.level === 40 && /could not be shown in the object's status/.test(l.msg ?? '') && l.name === 'squid'),
      'a warning says the status could not show it',
    )

    await restore()
    restored = true
    // An annotation change reconciles at once instead of after the backoff.
    await e.h.k('annotate', 'gameserver', 'squid', 'zlh.test/nudge=1')
    const healed = await e.waitFor('a status again', 'gameserver', 'squid', (gs: any) => gs.status?.phase !== undefined, 90_000)
    t.ok(healed.status.phase, `status written once the rule is back (${healed.status.phase})`)
    t.ok(
      lines().some((l) => /permission is there now/.test(l.msg ?? '')),
      'the recovery is logged',
    )
    await e.h.k('delete', 'gameserver', 'squid', '--wait=true', '--timeout=120s')
  },
)

// The refusal in the server's status (issue 19): condition Synced=False, reason Forbidden, the
// Event's message naming verb and resource; kubectl describe shows it. Granted again, the next
// reconcile sets Synced=True (reason ReconcileSuccess) and the server goes Ready.
t.test(
  'ClusterRole zlh-controller without create on secrets: the GameServer shows Synced=False Forbidden; granted, Synced=True and Ready',
  async (t) => {
    const restore = await editClusterRole(e, 'zlh-controller', (rules) => withoutVerb(rules, 'secrets', 'create'))
    let restored = false
    t.teardown(async () => {
      if (!restored) await restore()
    })
    await e.apply(exampleGameServer(e.portBase + 92).replace(/name: squid/, 'name: squid-secret'))
    const refused = await e.waitFor(
      'condition Synced=False',
      'gameserver',
      'squid-secret',
      (gs: any) => condition(gs, 'Synced')?.status === 'False',
      90_000,
    )
    const synced = refused.status.conditions.find((c: any) => c.type === 'Synced')
    t.match(synced, {
      reason: 'Forbidden',
      observedGeneration: refused.metadata.generation,
      message: /may not create secrets \(API group core\) in namespace default; add "create" on "secrets"/,
    })
    t.notOk(condition(refused, 'Ready')?.status === 'True', 'not Ready while refused')
    const describe = await e.h.k('describe', 'gameserver', 'squid-secret')
    t.match(
      describe,
      /Message:\s+forbidden: [\s\S]*may not create secrets[\s\S]*Reason:\s+Forbidden\s+Status:\s+False\s+Type:\s+Synced/,
      'kubectl describe shows the condition',
    )
    const wide = (await e.h.k('get', 'gameserver', 'squid-secret', '-o', 'wide')).trim().split('\n')
    // Columns are aligned (empty cells are blanks): read the row under the header's position.
    const column = wide[0].search(/\bSYNCED\b/)
    t.ok(column > 0, 'kubectl get -o wide has a SYNCED column')
    t.equal(wide[1].slice(column).split(/\s/)[0], 'False', 'showing False')
    const event = await until('the Forbidden Event', async () => {
      const list = JSON.parse(await e.h.k('get', 'events', '-n', 'default', '-o', 'json'))
      return list.items.find((ev: any) => ev.reason === 'Forbidden' && ev.involvedObject?.name === 'squid-secret')
    })
    t.equal(event.message, synced.message, 'the same message as the Event')

    await restore()
    restored = true
    await e.h.k('annotate', 'gameserver', 'squid-secret', 'zlh.test/nudge=1')
    const ready = await e.waitFor(
      'Ready and Synced=True',
      'gameserver',
      'squid-secret',
      (gs: any) => condition(gs, 'Ready')?.status === 'True' && condition(gs, 'Synced')?.status === 'True',
      180_000,
    )
    t.match(condition(ready, 'Synced'), { reason: 'ReconcileSuccess' }, 'the condition is set True, not removed')
    await e.h.k('delete', 'gameserver', 'squid-secret', '--wait=true', '--timeout=120s')
  },
)

t.test(
  'ClusterRole zlh-gateway without create on gameservers: the portal answers 403 naming create and gameservers, and logs it',
  async (t) => {
    const logged: any[] = []
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, cb) {
          for (const l of String(chunk).split('\n')) if (l) logged.push(JSON.parse(l))
          cb()
        },
      }),
    )
    const gw = await startGatewayService({
      client: e.gatewayClient(),
      listen: '127.0.0.1:0',
      ideSuffix: 'ide.test',
      publicScheme: 'http',
      adminTokenFile: join(e.stateDir, 'admin-token'),
      logger,
    })
    t.teardown(() => gw.close())
    const token = readFileSync(join(e.stateDir, 'admin-token'), 'utf8').trim()
    const spec = parse(exampleGameServer(e.portBase + 91)).spec
    const create = (name: string): Promise<Response> =>
      fetch(`${gw.gateway.url}/api/game`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, spec: { ...spec, running: false } }),
      })

    const restore = await editClusterRole(e, 'zlh-gateway', (rules) => withoutVerb(rules, 'gameservers', 'create'))
    let restored = false
    t.teardown(async () => {
      if (!restored) await restore()
    })
    const refused = await create('denied')
    const body = (await refused.json()) as { code?: string; message?: string }
    t.equal(refused.status, 403, `403, not a 502: ${JSON.stringify(body)}`)
    t.equal(body.code, 'ZLH_GW_API_BACKEND_FORBIDDEN')
    t.match(body.message, /create/, 'names the verb')
    t.match(body.message, /gameservers/, 'names the resource')
    t.notMatch(JSON.stringify(body), token, 'no token in the answer')
    const line = logged.find(
      (l) =>
        l.level >= 40 && /create/.test(JSON.stringify(l)) && /gameservers/.test(JSON.stringify(l)) && /forbidden/i.test(JSON.stringify(l)),
    )
    t.ok(line, 'the gateway logs the refused call at warn or error')
    t.notOk(
      logged.some((l) => JSON.stringify(l).includes(token)),
      'and never the token',
    )
    t.equal((await e.h.kubectl(['get', 'gameserver', 'denied'])).code, 1, 'nothing was created')

    await restore()
    restored = true
    const ok = await create('allowed')
    t.equal(ok.status, 201, `created once the rule is back: ${await ok.clone().text()}`)
    await e.h.k('delete', 'gameserver', 'allowed', '--wait=true', '--timeout=120s')
  },
)
