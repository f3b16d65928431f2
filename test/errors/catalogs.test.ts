// Every component's error catalog, loaded together: one definition shape (src/platform/error-catalog.ts),
// a prefix per component, no code defined twice anywhere, the older unprefixed wire codes frozen,
// and every gateway code the docs name is one the gateway defines.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { definedErrorCatalogs } from '../../src/platform/error-catalog.ts'
import { AgentError, agentErrors, errorBody } from '../../agent/errors.ts'
import { FileError } from '../../agent/files/errors.ts'
import { GameError } from '../../agent/game/errors.ts'
import { GatewayError, gatewayErrors } from '../../src/gateway/errors.ts'
import { apiErrorBody } from '../../src/gateway/portal/api-reply.ts'
import { renderErrorPage } from '../../src/gateway/ide/pages.ts'
import { ProviderError, providerErrors } from '../../src/providers/errors.ts'
import { RuntimeError, TerminalError, runtimeErrors, ErrorCodes } from '../../src/runtime/errors.ts'
import { artifactServerErrors } from '../../src/cli/artifacts/errors.ts'
import { AgentClientErrorCodes } from '../../src/agent-client/errors.ts'

const root = join(import.meta.dirname, '..', '..')

t.test('each component defines its catalog with the one helper and its own prefix', async (t) => {
  const byComponent = new Map(definedErrorCatalogs().map((c) => [c.component, c]))
  t.equal(byComponent.get('agent'), agentErrors as never)
  t.equal(byComponent.get('gateway'), gatewayErrors as never)
  t.equal(byComponent.get('providers'), providerErrors as never)
  t.equal(byComponent.get('runtime'), runtimeErrors as never)
  t.equal(byComponent.get('artifact-server'), artifactServerErrors as never)
  t.same(Object.fromEntries([...byComponent].map(([name, c]) => [name, c.prefix])), {
    agent: 'AGENT_',
    gateway: 'ZLH_GW_',
    providers: 'Provider',
    runtime: 'RT_',
    'artifact-server': 'ZLH_ARTIFACTS_',
  })
})

t.test('no code is defined twice anywhere', async (t) => {
  const seen = new Map<string, string>()
  for (const catalog of definedErrorCatalogs()) {
    for (const code of catalog.codes) {
      t.notOk(seen.has(code), `${code} is defined by ${catalog.component}${seen.has(code) ? ` and ${seen.get(code)}` : ''}`)
      seen.set(code, catalog.component)
    }
  }
  t.ok(seen.size > 100, `${seen.size} codes in all`)
})

t.test('codes without their prefix are only the frozen wire codes, and no more of them appear', async (t) => {
  // The agent's codes are read by src/agent-client and passed through by the portal, from agents
  // already deployed; the providers' older codes are stored as condition reasons Provider<code>.
  t.same([...providerErrors.unprefixedCodes].sort(), [
    'BackendFailed',
    'Conflict',
    'Exhausted',
    'HostUnsupported',
    'InvalidConfig',
    'Locked',
    'NotFound',
    'TaskFailed',
    'Timeout',
  ])
  t.equal(agentErrors.unprefixedCodes.length, 55, 'every agent code of this release, none added since')
  t.same(gatewayErrors.unprefixedCodes, [])
  t.same(runtimeErrors.unprefixedCodes, [])
  t.same(artifactServerErrors.unprefixedCodes, [])
  for (const catalog of definedErrorCatalogs()) {
    for (const code of catalog.codes) {
      if (!code.startsWith(catalog.prefix))
        t.ok(catalog.unprefixedCodes.includes(code), `${catalog.component}: ${code} is a frozen wire code`)
    }
  }
  t.same(Object.values(ErrorCodes).sort(), [...runtimeErrors.codes].sort(), "the runtime's named codes are its catalog")
})

t.test("the agent's archive errors are defined once: runtime installs and uploads say the same", async (t) => {
  // They were defined twice with different messages (core: "not a readable tar archive"; files:
  // "could not be read; check it is a complete zip or tar.gz").
  for (const code of ['ARCHIVE_INVALID', 'ARCHIVE_UNSAFE_ENTRY'] as const) {
    const fromInstall = new AgentError(code, 'node 24.1.0')
    const fromUpload = new FileError(code, 'node 24.1.0')
    t.equal(fromInstall.message, fromUpload.message, code)
    t.equal(fromInstall.statusCode, 422)
    t.equal(fromUpload.statusCode, 422)
  }
  t.match(new AgentError('ARCHIVE_INVALID').message, /tar\.gz/)
  t.match(new FileError('ARCHIVE_INVALID').message, /zip/)
})

t.test('the error classes keep their wire shapes', async (t) => {
  const agent = new GameError('GAME_NOT_RUNNING', 'stop')
  t.same(errorBody(agent), {
    code: 'GAME_NOT_RUNNING',
    message: 'stop: the game server is not running: POST /game/start first',
    statusCode: 409,
  })
  t.equal(agent.name, 'GameError')
  t.same(errorBody(new AgentError('FIELD_NUL_BYTE', 'env.X', { field: 'env.X' })).detail, { field: 'env.X' })
  const gw = new GatewayError('ZLH_GW_API_NOT_FOUND', 'squid')
  t.match(gw, { code: 'ZLH_GW_API_NOT_FOUND', status: 404, message: 'No such server: squid', hint: /GET \/api\/servers/, detail: 'squid' })
  // The portal API's body and the IDE pages: message first, then the detail; hint and status from the catalog.
  t.same(apiErrorBody('ZLH_GW_API_NOT_FOUND', 'squid'), {
    code: 'ZLH_GW_API_NOT_FOUND',
    message: 'No such server: squid',
    hint: 'Check the name; list servers with GET /api/servers.',
  })
  t.equal(apiErrorBody('ZLH_GW_API_NOT_FOUND').message, 'No such server')
  const page = renderErrorPage('ZLH_GW_IDE_DEVSERVER_NOT_READY', { retryAfterSeconds: 5 })
  t.equal(page.status, 503)
  t.match(page.body, /<h1>The dev server is not ready yet<\/h1>.*This page retries by itself/)
  const provider = new ProviderError('Locked', 'CT 100 is locked', { vmid: 100 })
  t.match(provider, { code: 'Locked', message: 'CT 100 is locked', retryable: true, status: 409, details: { vmid: 100 } })
  t.equal(new ProviderError('InvalidConfig', 'x').retryable, false)
  t.match(new RuntimeError(ErrorCodes.NO_CLUSTER, 'no kubeconfig'), {
    code: 'RT_NO_CLUSTER',
    message: 'no kubeconfig',
    name: 'RuntimeError',
  })
  t.match(new TerminalError('spec.x is invalid'), { code: 'RT_TERMINAL', message: 'spec.x is invalid', name: 'TerminalError' })
})

t.test("the agent client: its own codes are none of the agent's, the codes it raises for the agent are the agent's", async (t) => {
  for (const code of Object.values(AgentClientErrorCodes)) t.notOk(agentErrors.has(code), `${code} is the client's own`)
  const source = readdirSync(join(root, 'src', 'agent-client'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(root, 'src', 'agent-client', f), 'utf8'))
    .join('\n')
  const raised = new Set([...source.matchAll(/new AgentClientError\('([A-Z_]+)'/g)].map((m) => m[1]!))
  t.ok(raised.size > 0)
  for (const code of raised)
    t.ok(
      agentErrors.has(code) || Object.values<string>(AgentClientErrorCodes).includes(code),
      `the client raises ${code}, which the agent or the client defines`,
    )
})

t.test('every gateway code the README and docs/ name is defined', async (t) => {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ]
  let named = 0
  for (const file of files) {
    for (const [code] of readFileSync(join(root, file), 'utf8').matchAll(/\bZLH_GW_[A-Z0-9_]+\b/g)) {
      named++
      t.ok(gatewayErrors.has(code), `${file} names ${code}`)
    }
  }
  t.ok(named > 0)
})
