import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { validateResource, withDefaults, type GameServer, type DevServer } from '../../src/api/index.ts'
import { loadExamples } from './fixtures.ts'

const gs = () => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'GameServer',
  metadata: { name: 'mc', namespace: 'default' },
  spec: { game: 'minecraft', runtime: { name: 'node', version: '24.21.0' }, server: { command: ['node', 'server.js'] } } as Record<
    string,
    any
  >,
})
const ds = () => ({ apiVersion: 'zerolaghub.dev/v1alpha1', kind: 'DevServer', metadata: { name: 'dev' }, spec: {} as Record<string, any> })
const rc = () => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'RuntimeCatalog',
  metadata: { name: 'node' },
  spec: {
    versions: [{ version: '24.21.0', artifacts: [{ arch: 'x64', url: 'http://127.0.0.1/node.tgz', sha256: 'a'.repeat(64) }] }],
    channels: { stable: '24.21.0' },
  } as Record<string, any>,
})
const cp = () => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'ContainerProvider',
  metadata: { name: 'p' },
  spec: { type: 'process', process: {} } as Record<string, any>,
})

t.test('every example validates', async (t) => {
  const examples = loadExamples()
  t.ok(examples.length >= 6)
  for (const ex of examples) {
    const r = validateResource(ex)
    t.same(r.errors, [], `${ex.kind}/${ex.metadata.name}`)
  }
})

t.test('defaults fill as declared', async (t) => {
  const g = withDefaults<GameServer>(gs())
  t.same(g.spec.resources, { cores: 1, memoryMiB: 2048, diskGiB: 8 })
  t.same(g.spec.supervision, { restartPolicy: 'Always', backoffSeconds: [30, 60, 120], resetAfterSeconds: 30, maxConsecutiveFailures: 5 })
  t.equal(g.spec.server.port, 25565)
  t.equal(g.spec.server.stopCommand, 'stop')
  t.equal(g.spec.server.gracePeriodSeconds, 30)
  t.equal(g.spec.running, true)
  const d = withDefaults<DevServer>(ds())
  t.same(d.spec.codeServer, { enabled: true })
  t.same(d.spec.runtimes, [])
  t.equal(d.spec.running, true)
  const partial = gs()
  partial.spec.supervision = { restartPolicy: 'Never' }
  const p = withDefaults<GameServer>(partial)
  t.same(
    p.spec.supervision,
    { restartPolicy: 'Never', backoffSeconds: [30, 60, 120], resetAfterSeconds: 30, maxConsecutiveFailures: 5 },
    'nested defaults fill beside given fields',
  )
  const c = withDefaults<any>({ ...cp(), spec: { type: 'lxc', lxc: {} } })
  t.same(c.spec.lxc, { lxcpath: '/var/lib/lxc', template: 'busybox', bridge: 'zlhbr0', subnet: '10.213.0.0/24' })
  t.equal(c.spec.default, false)
  const input = gs()
  validateResource(input)
  t.notOk('resources' in input.spec, 'the input is never modified')
})

type Case = [string, () => unknown, string, string?]
// [what, manifest, field path of the error, reason]
const bad: Case[] = [
  ['not an object', () => 'hello', '<root>'],
  ['wrong apiVersion', () => ({ ...gs(), apiVersion: 'zerolaghub.dev/v1' }), 'apiVersion', 'FieldValueNotSupported'],
  ['unknown kind', () => ({ ...gs(), kind: 'GameSrv' }), 'kind', 'FieldValueNotSupported'],
  ['missing name', () => ({ ...gs(), metadata: {} }), 'metadata.name', 'FieldValueRequired'],
  ['invalid name', () => ({ ...gs(), metadata: { name: 'My_Server' } }), 'metadata.name', 'FieldValueInvalid'],
  ['name too long', () => ({ ...gs(), metadata: { name: 'a'.repeat(254) } }), 'metadata.name', 'FieldValueTooLong'],
  ['catalog name not a label', () => ({ ...rc(), metadata: { name: 'node.js' } }), 'metadata.name', 'FieldValueInvalid'],
  ['bad namespace', () => ({ ...gs(), metadata: { name: 'a', namespace: 'Not OK' } }), 'metadata.namespace', 'FieldValueInvalid'],
  [
    'missing spec',
    () => {
      const m: any = gs()
      delete m.spec
      return m
    },
    'spec',
    'FieldValueRequired',
  ],
  [
    'missing game',
    () => {
      const m = gs()
      delete m.spec.game
      return m
    },
    'spec.game',
    'FieldValueRequired',
  ],
  [
    'missing runtime',
    () => {
      const m = gs()
      delete m.spec.runtime
      return m
    },
    'spec.runtime',
    'FieldValueRequired',
  ],
  [
    'runtime with neither version nor channel',
    () => {
      const m = gs()
      m.spec.runtime = { name: 'node' }
      return m
    },
    'spec.runtime',
    'FieldValueInvalid',
  ],
  [
    'runtime with both version and channel',
    () => {
      const m = gs()
      m.spec.runtime.channel = 'stable'
      return m
    },
    'spec.runtime',
    'FieldValueInvalid',
  ],
  [
    'runtime name with capitals',
    () => {
      const m = gs()
      m.spec.runtime.name = 'Node'
      return m
    },
    'spec.runtime.name',
    'FieldValueInvalid',
  ],
  [
    'empty command',
    () => {
      const m = gs()
      m.spec.server.command = []
      return m
    },
    'spec.server.command',
    'FieldValueInvalid',
  ],
  [
    'command not a list',
    () => {
      const m = gs()
      m.spec.server.command = 'java -jar server.jar'
      return m
    },
    'spec.server.command',
    'FieldValueTypeInvalid',
  ],
  [
    'port as string',
    () => {
      const m = gs()
      m.spec.server.port = '25565'
      return m
    },
    'spec.server.port',
    'FieldValueTypeInvalid',
  ],
  [
    'port out of range',
    () => {
      const m = gs()
      m.spec.server.port = 70000
      return m
    },
    'spec.server.port',
    'FieldValueInvalid',
  ],
  [
    'negative grace period',
    () => {
      const m = gs()
      m.spec.server.gracePeriodSeconds = -1
      return m
    },
    'spec.server.gracePeriodSeconds',
    'FieldValueInvalid',
  ],
  [
    'bad env name',
    () => {
      const m = gs()
      m.spec.server.env = [{ name: '1BAD', value: 'x' }]
      return m
    },
    'spec.server.env[0].name',
    'FieldValueInvalid',
  ],
  [
    'duplicate env name',
    () => {
      const m = gs()
      m.spec.server.env = [
        { name: 'A', value: '1' },
        { name: 'A', value: '2' },
      ]
      return m
    },
    'spec.server.env[1]',
    'FieldValueDuplicate',
  ],
  [
    'unknown restart policy',
    () => {
      const m = gs()
      m.spec.supervision = { restartPolicy: 'Sometimes' }
      return m
    },
    'spec.supervision.restartPolicy',
    'FieldValueNotSupported',
  ],
  [
    'empty backoff',
    () => {
      const m = gs()
      m.spec.supervision = { backoffSeconds: [] }
      return m
    },
    'spec.supervision.backoffSeconds',
    'FieldValueInvalid',
  ],
  [
    'negative backoff step',
    () => {
      const m = gs()
      m.spec.supervision = { backoffSeconds: [30, -60] }
      return m
    },
    'spec.supervision.backoffSeconds[1]',
    'FieldValueInvalid',
  ],
  [
    'zero max failures',
    () => {
      const m = gs()
      m.spec.supervision = { maxConsecutiveFailures: 0 }
      return m
    },
    'spec.supervision.maxConsecutiveFailures',
    'FieldValueInvalid',
  ],
  [
    'negative cores',
    () => {
      const m = gs()
      m.spec.resources = { cores: -2 }
      return m
    },
    'spec.resources.cores',
    'FieldValueInvalid',
  ],
  [
    'memory below the floor',
    () => {
      const m = gs()
      m.spec.resources = { memoryMiB: 64 }
      return m
    },
    'spec.resources.memoryMiB',
    'FieldValueInvalid',
  ],
  [
    'fractional disk',
    () => {
      const m = gs()
      m.spec.resources = { diskGiB: 1.5 }
      return m
    },
    'spec.resources.diskGiB',
    'FieldValueTypeInvalid',
  ],
  [
    'mod sha256 too short',
    () => {
      const m = gs()
      m.spec.mods = [{ name: 'x.jar', url: 'https://e.x/x.jar', sha256: 'abc' }]
      return m
    },
    'spec.mods[0].sha256',
    'FieldValueInvalid',
  ],
  [
    'mod sha256 upper case',
    () => {
      const m = gs()
      m.spec.mods = [{ name: 'x.jar', url: 'https://e.x/x.jar', sha256: 'A'.repeat(64) }]
      return m
    },
    'spec.mods[0].sha256',
    'FieldValueInvalid',
  ],
  [
    'mod name with a slash',
    () => {
      const m = gs()
      m.spec.mods = [{ name: '../x.jar', url: 'https://e.x/x.jar', sha256: 'a'.repeat(64) }]
      return m
    },
    'spec.mods[0].name',
    'FieldValueInvalid',
  ],
  [
    'mod url not http',
    () => {
      const m = gs()
      m.spec.mods = [{ name: 'x.jar', url: 'file:///etc/passwd', sha256: 'a'.repeat(64) }]
      return m
    },
    'spec.mods[0].url',
    'FieldValueInvalid',
  ],
  [
    'mod missing url',
    () => {
      const m = gs()
      m.spec.mods = [{ name: 'x.jar', sha256: 'a'.repeat(64) }]
      return m
    },
    'spec.mods[0].url',
    'FieldValueRequired',
  ],
  [
    'running not a boolean',
    () => {
      const m = gs()
      m.spec.running = 'yes'
      return m
    },
    'spec.running',
    'FieldValueTypeInvalid',
  ],
  [
    'unknown spec field',
    () => {
      const m = gs()
      m.spec.replicas = 3
      return m
    },
    'spec.replicas',
    'FieldValueUnknown',
  ],
  [
    'unknown nested field',
    () => {
      const m = gs()
      m.spec.server.restart = true
      return m
    },
    'spec.server.restart',
    'FieldValueUnknown',
  ],
  [
    'bad providerRef name',
    () => {
      const m = gs()
      m.spec.placement = { providerRef: { name: 'Prox Mox' } }
      return m
    },
    'spec.placement.providerRef.name',
    'FieldValueInvalid',
  ],
  [
    'dev runtime without version',
    () => {
      const m = ds()
      m.spec.runtimes = [{ name: 'node' }]
      return m
    },
    'spec.runtimes[0]',
    'FieldValueInvalid',
  ],
  [
    'dev codeServer.enabled string',
    () => {
      const m = ds()
      m.spec.codeServer = { enabled: 'true' }
      return m
    },
    'spec.codeServer.enabled',
    'FieldValueTypeInvalid',
  ],
  [
    'dev duplicate runtime',
    () => {
      const m = ds()
      m.spec.runtimes = [
        { name: 'node', version: '1' },
        { name: 'node', version: '2' },
      ]
      return m
    },
    'spec.runtimes[1]',
    'FieldValueDuplicate',
  ],
  [
    'catalog without versions',
    () => {
      const m = rc()
      delete m.spec.versions
      return m
    },
    'spec.versions',
    'FieldValueRequired',
  ],
  [
    'catalog artifact bad sha256',
    () => {
      const m = rc()
      m.spec.versions[0].artifacts[0].sha256 = 'xyz'
      return m
    },
    'spec.versions[0].artifacts[0].sha256',
    'FieldValueInvalid',
  ],
  [
    'catalog unknown arch',
    () => {
      const m = rc()
      m.spec.versions[0].artifacts[0].arch = 'sparc'
      return m
    },
    'spec.versions[0].artifacts[0].arch',
    'FieldValueNotSupported',
  ],
  [
    'catalog negative size',
    () => {
      const m = rc()
      m.spec.versions[0].artifacts[0].sizeBytes = -5
      return m
    },
    'spec.versions[0].artifacts[0].sizeBytes',
    'FieldValueInvalid',
  ],
  [
    'catalog channel to a bad version string',
    () => {
      const m = rc()
      m.spec.channels = { stable: '../24' }
      return m
    },
    'spec.channels.stable',
    'FieldValueInvalid',
  ],
  [
    'catalog duplicate version',
    () => {
      const m = rc()
      m.spec.versions.push(structuredClone(m.spec.versions[0]))
      return m
    },
    'spec.versions[1]',
    'FieldValueDuplicate',
  ],
  [
    'catalog verify without command',
    () => {
      const m = rc()
      m.spec.versions[0].verify = { expectOutput: 'v24' }
      return m
    },
    'spec.versions[0].verify.command',
    'FieldValueRequired',
  ],
  ['provider unknown type', () => ({ ...cp(), spec: { type: 'docker' } }), 'spec.type', 'FieldValueNotSupported'],
  ['provider type without its block', () => ({ ...cp(), spec: { type: 'proxmox' } }), 'spec', 'FieldValueInvalid'],
  [
    'proxmox missing secret ref',
    () => ({ ...cp(), spec: { type: 'proxmox', proxmox: { endpoint: 'https://pve:8006', nodes: ['pve'] } } }),
    'spec.proxmox.credentialsSecretRef',
    'FieldValueRequired',
  ],
  [
    'proxmox endpoint with a path',
    () => ({
      ...cp(),
      spec: {
        type: 'proxmox',
        proxmox: { endpoint: 'https://pve:8006/api2/json', nodes: ['pve'], credentialsSecretRef: { namespace: 'a', name: 'b', key: 'c' } },
      },
    }),
    'spec.proxmox.endpoint',
    'FieldValueInvalid',
  ],
  [
    'proxmox bad fingerprint',
    () => ({
      ...cp(),
      spec: {
        type: 'proxmox',
        proxmox: {
          endpoint: 'https://pve:8006',
          nodes: ['pve'],
          fingerprint: 'AB:CD',
          credentialsSecretRef: { namespace: 'a', name: 'b', key: 'c' },
        },
      },
    }),
    'spec.proxmox.fingerprint',
    'FieldValueInvalid',
  ],
  [
    'lxc bridge name too long',
    () => ({ ...cp(), spec: { type: 'lxc', lxc: { bridge: 'a-very-long-bridge-name' } } }),
    'spec.lxc.bridge',
    'FieldValueTooLong',
  ],
]

t.test(`a corpus of ${bad.length} bad manifests is rejected with the right field path`, async (t) => {
  t.ok(bad.length >= 30)
  for (const [what, make, field, reason] of bad) {
    const r = validateResource(make())
    t.notOk(r.valid, `${what}: rejected`)
    const hit = r.errors.find((e) => e.field === field && (!reason || e.reason === reason))
    t.ok(hit, `${what}: error at ${field}${reason ? ` (${reason})` : ''}; got ${r.errors.map((e) => `${e.field} ${e.reason}`).join('; ')}`)
    if (hit) t.ok(hit.message.startsWith(`${field}:`), `${what}: message names the field: ${hit.message}`)
  }
})

t.test('errors carry the bad value and the rule', async (t) => {
  const m = gs()
  m.spec.mods = [{ name: 'x.jar', url: 'https://e.x/x.jar', sha256: 'nothex' }]
  const [e] = validateResource(m).errors
  t.equal(e!.value, 'nothex')
  t.match(e!.message, /"nothex".*\^\[a-f0-9\]\{64\}\$/)
  const p = gs()
  p.spec.supervision = { restartPolicy: 'Sometimes' }
  t.match(validateResource(p).errors[0]!.message, /supported values: "Always", "OnFailure", "Never"/)
})

t.test('unknown fields can be pruned instead of rejected', async (t) => {
  const m = gs()
  m.spec.replicas = 3
  const r = validateResource<any>(m, { unknownFields: 'prune' })
  t.ok(r.valid)
  t.notOk('replicas' in r.object.spec)
})

t.test('generated types are up to date with crds/', async (t) => {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'gen-types.ts'), '--check'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
})
