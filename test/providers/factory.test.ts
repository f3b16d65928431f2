// createProvider: a ContainerProvider resource (+ the resolved Secret) becomes the right backend,
// and an unusable resource is refused with InvalidConfig naming what to fix.
import t from 'tap'
import type { ContainerProvider } from '../../src/api/index.ts'
import { createProvider, isProviderError } from '../../src/providers/index.ts'

const resource = (spec: ContainerProvider['spec']): ContainerProvider => ({
  apiVersion: 'zerolaghub.dev/v1alpha1',
  kind: 'ContainerProvider',
  metadata: { name: 'p' },
  spec,
})
const ctx = { stateDir: '/tmp/zlh-factory-test-unused' }
const proxmox = {
  endpoint: 'https://pve.example:8006',
  nodes: ['pve1'],
  ostemplate: 'local:vztmpl/zlh.tar.zst',
  credentialsSecretRef: { namespace: 'zlh-system', name: 'pve', key: 'token' },
}

t.test('each type builds its backend', async (t) => {
  t.equal(createProvider(resource({ type: 'process', process: {} }), ctx).type, 'process')
  t.equal(createProvider(resource({ type: 'lxc', lxc: { bridge: 'zlhbr9', subnet: '10.213.9.0/24' } }), ctx).type, 'lxc')
  const pve = createProvider(
    resource({ type: 'proxmox', proxmox: { ...proxmox, caData: Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64') } }),
    { ...ctx, credentials: 'zlh@pve!ctl=secret-value\n', controlPlaneSources: ['10.0.0.5'] },
  )
  t.equal(pve.type, 'proxmox')
  await pve.close()
})

t.test('unusable resources are InvalidConfig with the fix in the message', async (t) => {
  const noSecret = (() => {
    try {
      createProvider(resource({ type: 'proxmox', proxmox }), { ...ctx, controlPlaneSources: ['10.0.0.5'] })
    } catch (e) {
      return e
    }
  })()
  t.ok(isProviderError(noSecret, 'InvalidConfig'))
  t.match((noSecret as Error).message, /create Secret zlh-system\/pve with key token/)
  const badToken = (() => {
    try {
      createProvider(resource({ type: 'proxmox', proxmox }), { ...ctx, credentials: 'not-a-token', controlPlaneSources: ['10.0.0.5'] })
    } catch (e) {
      return e
    }
  })()
  t.ok(isProviderError(badToken, 'InvalidConfig'))
  t.notMatch((badToken as Error).message, /not-a-token/, 'the token is not echoed')
  const http = (() => {
    try {
      createProvider(resource({ type: 'proxmox', proxmox: { ...proxmox, endpoint: 'http://pve:8006' } }), {
        ...ctx,
        credentials: 'a@b!c=d',
        controlPlaneSources: ['10.0.0.5'],
      })
    } catch (e) {
      return e
    }
  })()
  t.match((http as Error).message, /must be https/)
  const template = (() => {
    try {
      createProvider(resource({ type: 'lxc', lxc: { template: '/tmp/evil.sh' } }), ctx)
    } catch (e) {
      return e
    }
  })()
  t.match((template as Error).message, /not a path/, 'lxc-create never gets a script path')
  const bridge = (() => {
    try {
      createProvider(resource({ type: 'proxmox', proxmox: { ...proxmox, bridge: 'vmbr0,firewall=0' } }), {
        ...ctx,
        credentials: 'a@b!c=d',
        controlPlaneSources: ['10.0.0.5'],
      })
    } catch (e) {
      return e
    }
  })()
  t.match((bridge as Error).message, /not a bridge name/, 'no PVE property-string injection')
  const subnet = (() => {
    try {
      createProvider(resource({ type: 'lxc', lxc: { subnet: '10.0.0.0/8' } }), ctx)
    } catch (e) {
      return e
    }
  })()
  t.match((subnet as Error).message, /prefix between/)
})
