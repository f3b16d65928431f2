// The gateway under its ServiceAccount (zlh-system/zlh-gateway) with exactly the roles of
// manifests/base/rbac-gateway.yaml, against the embedded API server's RBAC:
//  - issuing a portal token for a namespace creates it and binds the gateway there to ClusterRole
//    zlh-gateway-agent-tokens, so the tenant's files work; a namespace that was never made a
//    tenant is a 403 that names `get secrets` and the namespace;
//  - the gateway can bind that one ClusterRole and nothing else (escalation prevention:
//    https://kubernetes.io/docs/reference/access-authn-authz/rbac/#restrictions-on-role-binding-creation-or-update);
//  - a rule removed from the gateway's ClusterRole makes the portal answer 403
//    ZLH_GW_API_BACKEND_FORBIDDEN naming the verb and resource (the missing `create` on
//    gameservers: an apply that creates needs it, https://kubernetes.io/docs/reference/using-api/server-side-apply/),
//    logged by the gateway at warn without any token.
import t, { type Test } from 'tap'
import { Writable } from 'node:stream'
import { KubeConfig } from '@kubernetes/client-node'
import pino from 'pino'
import { startTestAgent } from '../../agent/helpers.ts'
import { startTestEnv, type TestEnv } from '../../../src/runtime/envtest/index.ts'
import { ApiError, Client, PatchType, type KObject } from '../../../src/runtime/index.ts'
import { startGatewayService, type GatewayService } from '../../../src/gateway/service.ts'
import { applyBaseRbac, GATEWAY_SERVICE_ACCOUNT } from '../../../src/cli/up/base-rbac.ts'
import { requestServiceAccountToken } from '../../../src/cli/up/service-account-credentials.ts'
import { ROLE_BINDING } from '../../../src/gateway/portal/kinds.ts'
import { AGENT_TOKENS_ROLE } from '../../../src/gateway/portal/tenant-namespaces.ts'
import { SUFFIX } from '../fixtures.ts'
import { CRDS, gameSpec } from './portal-env.ts'

const CLUSTER_ROLE = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' }

/** A client of the same API server that authenticates with `token`. */
function clientWithToken(kc: KubeConfig, token: string): Client {
  const cluster = kc.getCurrentCluster()!
  const out = new KubeConfig()
  out.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'sa', token }],
    contexts: [{ name: 'sa', cluster: cluster.name, user: 'sa' }],
    currentContext: 'sa',
  })
  return new Client(out)
}

interface GatewayAsServiceAccount {
  env: TestEnv
  svc: GatewayService
  admin: string
  gwClient: Client
  logs: string[]
  api(path: string, init?: { method?: string; token?: string; json?: unknown }): Promise<{ status: number; text: string; json: any }>
}

async function startGatewayAsServiceAccount(t: Test): Promise<GatewayAsServiceAccount> {
  const env = await startTestEnv({ crds: [CRDS] })
  t.teardown(() => env.stop())
  await applyBaseRbac(env.client, { fieldManager: 'test' })
  const { token } = await requestServiceAccountToken(env.client, GATEWAY_SERVICE_ACCOUNT, 3600)
  const gwClient = clientWithToken(env.kubeConfig, token)
  t.teardown(() => gwClient.close())
  const logs: string[] = []
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean))
        cb()
      },
    }),
  )
  const svc = await startGatewayService({
    client: gwClient,
    listen: '127.0.0.1:0',
    ideSuffix: SUFFIX,
    publicScheme: 'https',
    publicPort: 'listen',
    logger,
  })
  t.teardown(() => svc.close())
  return {
    env,
    svc,
    gwClient,
    logs,
    admin: svc.bootstrapAdminToken!,
    async api(path, init = {}) {
      const res = await fetch(`${svc.gateway.url}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
      })
      const text = await res.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: res.status, text, json }
    },
  }
}

async function serverWithAgent(env: TestEnv, namespace: string, name: string, agent: { url: string; token: string }): Promise<void> {
  await env.client.create({ apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'GameServer', metadata: { name, namespace }, spec: gameSpec() })
  await env.client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${name}-agent-token`, namespace },
    data: { token: Buffer.from(agent.token).toString('base64'), agentUrl: Buffer.from(agent.url).toString('base64') },
  })
}

t.test('tenant namespaces: the gateway binds itself to read agent tokens there, and nowhere else', async (t) => {
  const agent = await startTestAgent(t.testdir())
  t.teardown(() => agent.close())
  const g = await startGatewayAsServiceAccount(t)

  const issued = await g.api('/api/tokens', {
    method: 'POST',
    token: g.admin,
    json: { user: 'acme-ops', scopes: ['servers:read', 'servers:write', 'files'], namespaces: ['acme'] },
  })
  t.equal(issued.status, 201, `a tenant token is issued (${issued.text})`)
  const binding = await g.env.client.get<KObject & { roleRef?: { kind: string; name: string }; subjects?: unknown[] }>(
    ROLE_BINDING,
    AGENT_TOKENS_ROLE,
    'acme',
  )
  t.same(
    binding.roleRef,
    { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AGENT_TOKENS_ROLE },
    'the RoleBinding in acme names the ClusterRole',
  )
  t.same(
    binding.subjects,
    [{ kind: 'ServiceAccount', name: 'zlh-gateway', namespace: 'zlh-system' }],
    "and the gateway's ServiceAccount, learned from SelfSubjectReview",
  )

  await serverWithAgent(g.env, 'acme', 'acme-game', agent)
  const tenant = issued.json.token as string
  const write = await g.api('/api/game/acme-game/files/hello.txt', { method: 'PUT', token: tenant, json: 'hi' })
  t.ok(
    write.status >= 200 && write.status < 300,
    `the tenant writes a file: the gateway read the agent token in acme (${write.status} ${write.text})`,
  )

  // A namespace nobody issued a token for: the gateway has no binding there.
  await g.env.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stray' } })
  await serverWithAgent(g.env, 'stray', 'stray-game', agent)
  const refused = await g.api('/api/game/stray-game/files/hello.txt?namespace=stray', { token: g.admin })
  t.equal(refused.status, 403, 'the admin reaches stray, but the gateway may not read its Secrets: 403, not 502')
  t.equal(refused.json.code, 'ZLH_GW_API_BACKEND_FORBIDDEN')
  t.match(refused.json, { verb: 'get', resource: 'secrets', namespace: 'stray' })
  t.match(refused.json.message, /may not get secrets in namespace "stray"/, 'the message names verb, resource and namespace')
  const warned = g.logs.filter((l) => l.includes('refused a call of the gateway'))
  t.ok(warned.length > 0, 'the gateway logged the refusal')
  t.match(
    JSON.parse(warned[0]!),
    { level: 40, refused: { verb: 'get', resource: 'secrets', namespace: 'stray' } },
    'at warn, with what kube said',
  )
  t.notOk(
    g.logs.some((l) => l.includes(agent.token) || l.includes(g.admin) || l.includes(tenant)),
    'no token in any log line',
  )

  // At start the gateway checks the tenants of the stored tokens: a binding deleted meanwhile is back.
  await g.env.client.delete(ROLE_BINDING, AGENT_TOKENS_ROLE, 'acme')
  await g.svc.close()
  const again = await startGatewayService({
    client: g.gwClient,
    listen: '127.0.0.1:0',
    ideSuffix: SUFFIX,
    publicScheme: 'https',
    publicPort: 'listen',
  })
  t.teardown(() => again.close())
  t.ok(await g.env.client.get(ROLE_BINDING, AGENT_TOKENS_ROLE, 'acme'), 'a restarted gateway recreated the RoleBinding in acme')

  // Escalation prevention: bind is granted on zlh-gateway-agent-tokens only.
  const escalate = await g.gwClient
    .create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'grab', namespace: 'acme' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'zlh-gateway', namespace: 'zlh-system' }],
    } as KObject)
    .then(
      () => undefined,
      (err: unknown) => err,
    )
  t.ok(
    escalate instanceof ApiError && escalate.statusCode === 403,
    `the gateway cannot bind itself to admin (${(escalate as Error | undefined)?.message})`,
  )
})

t.test("a rule removed from the gateway's ClusterRole: the portal answers 403 naming verb and resource", async (t) => {
  const g = await startGatewayAsServiceAccount(t)
  // manifests/base's zlh-gateway without `create` on gameservers/devservers (the bug the issue measured).
  const role = await g.env.client.get<KObject & { rules: Array<{ resources?: string[]; verbs: string[] }> }>(CLUSTER_ROLE, 'zlh-gateway')
  const rules = role.rules.map((r) => (r.resources?.includes('gameservers') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r))
  t.not(JSON.stringify(rules), JSON.stringify(role.rules), 'the role had create on gameservers')
  await g.env.client.patch(CLUSTER_ROLE, 'zlh-gateway', undefined, { rules }, PatchType.merge)

  const created = await g.api('/api/game', { method: 'POST', token: g.admin, json: { name: 'refused', spec: gameSpec() } })
  t.equal(created.status, 403, `POST /api/game: 403, not 502 (${created.text})`)
  t.equal(created.json.code, 'ZLH_GW_API_BACKEND_FORBIDDEN')
  t.match(created.json, { verb: 'create', resource: 'gameservers', apiGroup: 'zerolaghub.dev', namespace: 'default' })
  t.match(created.json.message, /may not create gameservers\.zerolaghub\.dev in namespace "default"/)
  const applied = await g.api('/api/game/refused', { method: 'PUT', token: g.admin, json: { spec: gameSpec() } })
  t.equal(applied.status, 403, `PUT (an apply that creates) is refused too (${applied.text})`)
  t.equal(applied.json.code, 'ZLH_GW_API_BACKEND_FORBIDDEN')
  t.ok(
    g.logs.some((l) => l.includes('refused a call of the gateway') && l.includes('"create"')),
    'logged at warn',
  )

  // With the manifests' role (create restored), the same call works: the fix of the issue.
  await g.env.client.patch(CLUSTER_ROLE, 'zlh-gateway', undefined, { rules: role.rules }, PatchType.merge)
  const after = await g.api('/api/game', { method: 'POST', token: g.admin, json: { name: 'allowed', spec: gameSpec() } })
  t.equal(after.status, 201, `with manifests/base's role the portal creates (${after.text})`)
})
