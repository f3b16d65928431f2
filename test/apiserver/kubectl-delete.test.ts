// kubectl delete against the embedded server: finalizers, and --cascade background, foreground, orphan.
import t from 'tap'
import { CRDS, startServer, type Harness } from './harness.ts'

const gs = (name: string, finalizers = '') => `apiVersion: zerolaghub.dev/v1alpha1
kind: GameServer
metadata:
  name: ${name}
${finalizers ? `  finalizers: [${finalizers}]\n` : ''}spec:
  game: minecraft
  runtime: {name: node, version: "22"}
  server: {command: [x], port: 25565}
`

async function ownerWithChild(h: Harness, name: string, childFinalizer = false): Promise<string> {
  await h.kubectl(['apply', '-f', '-'], { input: gs(name) })
  const uid = await h.k('get', 'zgs', name, '-o', 'jsonpath={.metadata.uid}')
  const child = `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-child
${childFinalizer ? '  finalizers: [example.com/hold]\n' : ''}  ownerReferences:
  - {apiVersion: zerolaghub.dev/v1alpha1, kind: GameServer, name: ${name}, uid: ${uid}, blockOwnerDeletion: true}
data: {a: b}
`
  const r = await h.kubectl(['apply', '-f', '-'], { input: child })
  if (r.code !== 0) throw new Error(r.stderr)
  return uid
}

async function gone(h: Harness, ...args: string[]): Promise<boolean> {
  const r = await h.kubectl(['get', ...args])
  return r.code !== 0 && /NotFound/.test(r.stderr)
}

async function eventually(what: string, f: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 30_000
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

t.test('kubectl delete with finalizers and each propagation policy', async (t) => {
  const h = await startServer(t)
  await h.k('apply', '-f', CRDS)

  await t.test('a finalizer holds the object until removed', async (t) => {
    await h.kubectl(['apply', '-f', '-'], { input: gs('held', 'example.com/hold') })
    t.match(await h.k('delete', 'zgs', 'held', '--wait=false'), /deleted/)
    t.match(await h.k('get', 'zgs', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}'), /^\d{4}-/, 'marked, not removed')
    const waiting = h.kubectl(['delete', 'zgs', 'held', '--timeout=60s'])
    await new Promise((r) => setTimeout(r, 300))
    await h.k('patch', 'zgs', 'held', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]')
    const r = await waiting
    t.equal(r.code, 0, r.stderr)
    t.ok(await gone(h, 'zgs', 'held'), 'removing the last finalizer deleted it')
  })

  await t.test('--cascade=background', async (t) => {
    await ownerWithChild(h, 'bg')
    await h.k('delete', 'zgs', 'bg', '--cascade=background')
    t.ok(await gone(h, 'zgs', 'bg'))
    await eventually('dependent collected', () => gone(h, 'cm', 'bg-child'))
    t.pass('dependent garbage-collected')
  })

  await t.test('--cascade=foreground', async (t) => {
    await ownerWithChild(h, 'fg', true)
    await h.k('delete', 'zgs', 'fg', '--cascade=foreground', '--wait=false')
    t.match(await h.k('get', 'zgs', 'fg', '-o', 'jsonpath={.metadata.finalizers}'), /foregroundDeletion/)
    await eventually(
      'dependent marked',
      async () => (await h.k('get', 'cm', 'fg-child', '-o', 'jsonpath={.metadata.deletionTimestamp}')) !== '',
    )
    t.notOk(await gone(h, 'zgs', 'fg'), 'owner waits for its blocking dependent')
    await h.k('patch', 'cm', 'fg-child', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]')
    await eventually('owner removed', () => gone(h, 'zgs', 'fg'))
    t.ok(await gone(h, 'cm', 'fg-child'))
  })

  await t.test('--cascade=orphan', async (t) => {
    await ownerWithChild(h, 'or')
    await h.k('delete', 'zgs', 'or', '--cascade=orphan')
    t.ok(await gone(h, 'zgs', 'or'))
    t.equal(
      await h.k('get', 'cm', 'or-child', '-o', 'jsonpath={.metadata.ownerReferences}'),
      '',
      'dependent kept without its owner reference',
    )
  })

  await t.test('deleting a namespace empties it, then removes it', async (t) => {
    await h.k('create', 'namespace', 'doomed')
    await h.kubectl(['apply', '-n', 'doomed', '-f', '-'], { input: gs('a') })
    const r = await h.kubectl(['delete', 'namespace', 'doomed', '--timeout=60s'])
    t.equal(r.code, 0, r.stderr)
    t.ok(await gone(h, 'namespace', 'doomed'))
  })
})
