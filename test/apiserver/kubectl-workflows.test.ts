// Real kubectl workflows: get -w, describe, explain, edit, patch, label/annotate, server-side apply
// conflicts, wait, diff, api-resources, and the typed (protobuf) create commands.
import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CRDS, EXAMPLES, startServer, writeTemp } from './harness.ts'

const GAMESERVER = readFileSync(join(EXAMPLES, 'gameserver.yaml'), 'utf8')

t.test('kubectl workflows', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', CRDS)
  await h.k('apply', '-f', join(EXAMPLES, 'gameserver.yaml'))

  await t.test('api-resources lists built-ins and the CRDs with short names and categories', async (t) => {
    const out = await h.k('api-resources')
    t.match(out, /^gameservers\s+zgs\s+zerolaghub.dev\/v1alpha1\s+true\s+GameServer$/m)
    t.match(out, /^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/m)
    t.match(out, /^leases\s+coordination.k8s.io\/v1\s+true\s+Lease$/m)
    t.match(await h.k('api-resources', '--categories=zlh', '-o', 'name'), /gameservers.zerolaghub.dev/)
  })

  await t.test('get -w sees a later change', async (t) => {
    const child = spawn('kubectl', [`--cache-dir=${join(h.dir, 'kube-cache')}`, 'get', 'zgs', '-w'], {
      env: { PATH: process.env.PATH!, HOME: join(h.dir, 'home'), KUBECONFIG: h.server.kubeconfigPath },
    })
    t.teardown(() => {
      child.kill()
    })
    let out = ''
    const seen = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; got: ${out}`)), 30_000)
        const check = () => {
          if (re.test(out)) {
            clearTimeout(timer)
            resolve()
          }
        }
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          check()
        })
        check()
      })
    await seen(/^squid\s/m)
    await h.k('patch', 'zgs', 'squid', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running","vmid":101}}')
    await seen(/^squid\s+Running\s+node\s+101\s/m)
    t.pass('the watch printed the new phase')
  })

  await t.test('describe and explain', async (t) => {
    const d = await h.k('describe', 'gameserver', 'squid')
    t.match(d, /^Name:\s+squid$/m)
    t.match(d, /^Kind:\s+GameServer$/m)
    t.match(d, /Restart Policy:\s+Always/)
    const e = await h.k('explain', 'gameserver.spec.supervision')
    t.match(e, /FIELD: supervision <Object>/)
    t.match(e, /restartPolicy/)
  })

  await t.test('edit through a scripted KUBE_EDITOR', async (t) => {
    const editor = writeTemp(h, 'editor.sh', '#!/bin/sh\nsed -i "s/game: minecraft/game: terraria/" "$1"\n')
    chmodSync(editor, 0o755)
    const r = await h.kubectl(['edit', 'zgs', 'squid'], { env: { KUBE_EDITOR: editor } })
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /gameserver.zerolaghub.dev\/squid edited/)
    t.equal(await h.k('get', 'zgs', 'squid', '-o', 'jsonpath={.spec.game} {.metadata.generation}'), 'terraria 2')
  })

  await t.test('patch --type merge and --type json; label; annotate', async (t) => {
    await h.k('patch', 'zgs', 'squid', '--type=merge', '-p', '{"spec":{"resources":{"cores":2}}}')
    await h.k('patch', 'zgs', 'squid', '--type=json', '-p', '[{"op":"replace","path":"/spec/resources/memoryMiB","value":2048}]')
    t.equal(await h.k('get', 'zgs', 'squid', '-o', 'jsonpath={.spec.resources.cores}/{.spec.resources.memoryMiB}'), '2/2048')
    const bad = await h.kubectl(['patch', 'zgs', 'squid', '--type=merge', '-p', '{"spec":{"server":{"port":0}}}'])
    t.not(bad.code, 0)
    t.match(bad.stderr, /spec.server.port/, 'schema errors name the field')
    t.match(await h.k('label', 'zgs', 'squid', 'tier=gold'), /labeled/)
    t.match(await h.k('annotate', 'zgs', 'squid', 'owner=ops'), /annotated/)
    t.match(await h.k('get', 'zgs', '-l', 'tier=gold', '-o', 'name'), /gameserver.zerolaghub.dev\/squid/)
    t.equal(await h.k('get', 'zgs', 'squid', '-o', 'jsonpath={.metadata.annotations.owner}'), 'ops')
  })

  await t.test('apply --server-side: a conflict names the field and manager; --force-conflicts takes it', async (t) => {
    const file = writeTemp(h, 'ssa.yaml', GAMESERVER.replace('name: squid', 'name: ssa'))
    t.match(await h.k('apply', '--server-side', '-f', file), /serverside-applied/)
    const other = writeTemp(h, 'ssa-other.yaml', GAMESERVER.replace('name: squid', 'name: ssa').replace('port: 25565', 'port: 25570'))
    const r = await h.kubectl(['apply', '--server-side', '--field-manager=ops', '-f', other])
    t.not(r.code, 0)
    t.match(r.stderr, /conflict with "kubectl"/)
    t.match(r.stderr, /\.spec\.server\.port/)
    t.match(await h.k('apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', other), /serverside-applied/)
    t.equal(await h.k('get', 'zgs', 'ssa', '-o', 'jsonpath={.spec.server.port}'), '25570')
    const mf = JSON.parse(await h.k('get', 'zgs', 'ssa', '-o', 'json', '--show-managed-fields')).metadata.managedFields
    t.ok(
      mf.some((m: any) => m.manager === 'ops' && m.operation === 'Apply' && m.fieldsV1['f:spec']['f:server']['f:port']),
      'ops owns the port now',
    )
  })

  await t.test('wait --for=condition=Ready and --for=delete', async (t) => {
    const waiting = h.kubectl(['wait', '--for=condition=Ready', 'zgs/squid', '--timeout=60s'])
    await new Promise((r) => setTimeout(r, 300))
    await h.k(
      'patch',
      'zgs',
      'squid',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          conditions: [{ type: 'Ready', status: 'True', reason: 'Up', message: 'serving', lastTransitionTime: '2026-01-01T00:00:00Z' }],
        },
      }),
    )
    const r = await waiting
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /condition met/)
    const gone = h.kubectl(['wait', '--for=delete', 'zgs/ssa', '--timeout=60s'])
    await new Promise((r) => setTimeout(r, 300))
    await h.k('delete', 'zgs', 'ssa', '--wait=false')
    const g = await gone
    t.equal(g.code, 0, g.stderr)
  })

  await t.test('diff shows what apply would change', async (t) => {
    const r = await h.kubectl(['diff', '-f', join(EXAMPLES, 'gameserver.yaml')])
    t.equal(r.code, 1, 'exit 1: differences found')
    t.match(r.stdout, /- {2}game: terraria\n\+ {2}game: minecraft/)
    t.equal(await h.k('get', 'zgs', 'squid', '-o', 'jsonpath={.spec.game}'), 'terraria', 'diff changed nothing (dry run)')
  })

  await t.test('typed create commands (protobuf bodies)', async (t) => {
    await h.k('create', 'configmap', 'cfg', '--from-literal=a=b')
    await h.k('create', 'secret', 'generic', 'sec', '--from-literal=pw=hunter2')
    await h.k('create', 'namespace', 'team')
    await h.k('create', 'serviceaccount', 'bot', '-n', 'team')
    t.equal(await h.k('get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}'), 'b')
    t.equal(Buffer.from(await h.k('get', 'secret', 'sec', '-o', 'jsonpath={.data.pw}'), 'base64').toString(), 'hunter2')
    t.match(await h.k('get', 'sa', '-n', 'team'), /^bot\s/m)
  })
})
