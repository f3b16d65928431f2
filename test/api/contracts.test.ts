// The wire contracts of src/api against the places that spell them again outside TypeScript (crds/,
// manifests/, the CRD descriptions users read), and the agent-token Secret as one component writes
// it and the other reads it. Kubernetes' side of the names: a CRD is named `<plural>.<group>` and
// RBAC rules name resources by plural (kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/
// custom-resource-definitions/, "the name must match the spec fields below").
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import {
  AGENT_PORT,
  API_VERSION,
  CODE_SERVER_PORT,
  CONTAINERPROVIDER,
  DEVSERVER,
  GAMESERVER,
  GROUP,
  PLURALS,
  RUNTIMECATALOG,
  VERSION,
  agentTokenSecretName,
  effectiveGameSpec,
  ideHostName,
  loadCrds,
  withDefaults,
  type GameSpecRequest,
  type ZlhKindRef,
} from '../../src/api/index.ts'
import { startTestEnv } from '../../src/runtime/envtest/index.ts'
import { ensureAgentToken, recordAgentUrl } from '../../controller/agent-token.ts'
import { AgentLocator } from '../../src/gateway/portal/agent-access.ts'
import { AGENT_TOKENS_ROLE } from '../../src/gateway/portal/tenant-namespaces.ts'
import { DevHostMatcher } from '../../src/gateway/ide/dev-host.ts'
import { ideOf } from '../../controller/devserver.ts'
import type { KObject } from '../../src/runtime/index.ts'

const REPO = join(import.meta.dirname, '..', '..')
const KINDS: ZlhKindRef[] = [GAMESERVER, DEVSERVER, RUNTIMECATALOG, CONTAINERPROVIDER]

interface Rule {
  apiGroups?: string[]
  resources?: string[]
  resourceNames?: string[]
  verbs?: string[]
}
interface Doc {
  kind?: string
  metadata?: { name?: string }
  rules?: Rule[]
}

function manifestDocs(dir: string): Array<Doc & { file: string }> {
  const out: Array<Doc & { file: string }> = []
  for (const f of readdirSync(join(REPO, dir)).filter((x) => x.endsWith('.yaml'))) {
    for (const d of parseAllDocuments(readFileSync(join(REPO, dir, f), 'utf8'))) {
      const obj = d.toJS() as Doc | null
      if (obj) out.push({ ...obj, file: `${dir}/${f}` })
    }
  }
  return out
}

t.test('crds/ declares exactly our kinds, in our group and version, under the plurals src/api names', async (t) => {
  const crds = loadCrds()
  t.same(crds.map((c) => c.spec.names.kind).sort(), KINDS.map((k) => k.kind).sort(), 'one CRD per kind constant, none without one')
  for (const ref of KINDS) {
    t.equal(ref.apiVersion, API_VERSION, `${ref.kind}: apiVersion`)
    const crd = crds.find((c) => c.spec.names.kind === ref.kind)!
    t.equal(crd.spec.group, GROUP, `${ref.kind}: group`)
    t.equal(crd.spec.names.plural, PLURALS[ref.kind], `${ref.kind}: plural`)
    t.equal(crd.metadata.name, `${PLURALS[ref.kind]}.${GROUP}`, `${ref.kind}: CRD name is <plural>.<group>`)
    t.ok(
      crd.spec.versions.some((v) => v.name === VERSION && v.served && v.storage),
      `${ref.kind}: ${VERSION} served and stored`,
    )
  }
})

t.test('every RBAC rule on our group in manifests/base names a resource src/api knows', async (t) => {
  const plurals = new Set(Object.values(PLURALS))
  let rules = 0
  for (const doc of manifestDocs('manifests/base')) {
    for (const rule of doc.rules ?? []) {
      if (!rule.apiGroups?.includes(GROUP)) continue
      rules++
      for (const r of rule.resources ?? []) t.ok(plurals.has(r.split('/')[0]!), `${doc.file} ${doc.metadata?.name}: ${r}`)
    }
  }
  t.ok(rules >= 5, `${rules} rules on ${GROUP} checked`)
})

t.test("the gateway's agent-token role reads Secrets, and any name it is narrowed to is an agent-token Secret name", async (t) => {
  const role = manifestDocs('manifests/base').find((d) => d.kind === 'ClusterRole' && d.metadata?.name === AGENT_TOKENS_ROLE)
  t.ok(role, `manifests/base defines ClusterRole ${AGENT_TOKENS_ROLE}, the one the gateway binds in tenant namespaces`)
  const secretRules = (role?.rules ?? []).filter((r) => r.apiGroups?.includes('') && r.resources?.includes('secrets'))
  t.ok(
    secretRules.some((r) => r.verbs?.includes('get')),
    'get on secrets',
  )
  const suffix = agentTokenSecretName('x').slice(1)
  for (const name of secretRules.flatMap((r) => r.resourceNames ?? []))
    t.ok(name.endsWith(suffix), `resourceNames ${name} ends with ${suffix}`)
})

t.test('the ports users read about in the CRDs and examples are the ones src/api defines', async (t) => {
  const devCrd = readFileSync(join(REPO, 'crds', 'devservers.zerolaghub.dev.yaml'), 'utf8')
  t.match(devCrd, `code-server runs on port ${CODE_SERVER_PORT}.`, 'DevServer spec.codeServer.enabled')
  t.match(
    readFileSync(join(REPO, 'manifests', 'examples', 'devserver.yaml'), 'utf8'),
    `code-server on port ${CODE_SERVER_PORT}`,
    'the DevServer example',
  )
  t.match(
    readFileSync(join(REPO, 'docs', 'agent-token-delivery.md'), 'utf8'),
    String(AGENT_PORT),
    'docs/agent-token-delivery.md names the agent port',
  )
})

t.test('agent-token Secret names stay valid Secret names (DNS subdomain, at most 253 characters)', async (t) => {
  t.equal(agentTokenSecretName('squid'), 'squid-agent-token')
  const long = agentTokenSecretName('a'.repeat(253))
  t.equal(long.length, 253)
  t.ok(long.endsWith('-agent-token'))
})

// The Secret as the controller writes it (controller/agent-token.ts) is the Secret the gateway reads
// (src/gateway/portal/agent-access.ts): same name, same keys, same token.
t.test('what the controller writes into the agent-token Secret, the gateway reads back', async (t) => {
  const env = await startTestEnv({ crds: [join(REPO, 'crds')] })
  t.teardown(() => env.stop())
  const client = env.client
  const spec = { game: 'minecraft', runtime: { name: 'node', version: '22' }, server: { command: ['x'], port: 25565 } }
  const recorded = await client.create<KObject>({ ...GAMESERVER, metadata: { name: 'squid', namespace: 'default' }, spec })
  const plain = await client.create<KObject>({ ...GAMESERVER, metadata: { name: 'kraken', namespace: 'default' }, spec })
  await client.patch(GAMESERVER, 'kraken', 'default', { status: { address: '10.0.0.5' } }, 'application/merge-patch+json', {
    subresource: 'status',
  })

  const token = await ensureAgentToken(client, recorded)
  await recordAgentUrl(client, recorded, 'http://127.0.0.1:17102')
  const plainToken = await ensureAgentToken(client, plain)
  const locator = new AgentLocator(client)

  t.same(
    await locator.locate('GameServer', 'default', 'squid'),
    { baseUrl: 'http://127.0.0.1:17102', token },
    'the recorded agent URL and the token',
  )
  t.same(
    await locator.locate('GameServer', 'default', 'kraken'),
    { baseUrl: `http://10.0.0.5:${AGENT_PORT}`, token: plainToken },
    'no URL recorded: the address and the agent port',
  )
})

t.test('the IDE host the controller writes into status.ide is the one the gateway routes by vmid', async (t) => {
  const written = ideOf({ vmid: 101, address: '10.0.0.5' }, 'ide.example.test')
  t.equal(written.host, ideHostName(101, 'ide.example.test'))
  t.equal(new DevHostMatcher('ide.example.test').match(written.host)?.vmid, 101, 'the gateway finds vmid 101 in it')
  t.equal(new DevHostMatcher('ide.example.test').hostFor(101), written.host, 'and builds the same host for it')
})

t.test("the game spec defaults the agent and the controller fill in are the CRD's", async (t) => {
  const minimal = {
    apiVersion: API_VERSION,
    kind: 'GameServer',
    metadata: { name: 'g', namespace: 'default' },
    spec: { game: 'minecraft', runtime: { name: 'node', channel: 'stable' }, server: { command: ['x'] } },
  }
  const defaulted = withDefaults<{ spec: Pick<GameSpecRequest, 'server' | 'supervision'> }>(minimal)
  const filled = effectiveGameSpec(minimal.spec)
  t.same(effectiveGameSpec(defaulted.spec), filled, 'filling in defaults after the API server did changes nothing')
  // The CRD has no default for args: none is an empty list to the agent.
  t.same(filled.server, { args: [], ...defaulted.spec.server }, 'the server defaults are the CRD defaults')
  t.same(filled.supervision, { ...defaulted.spec.supervision }, 'the supervision defaults are the CRD defaults')
})
