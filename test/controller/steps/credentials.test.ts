// Step credentials (controller/steps/credentials.ts): the agent token Secret in the embedded API
// server — created once, owned by the server, the same token on every later reconcile.
import t from 'tap'
import { agentTokenSecretName } from '../../../src/api/index.ts'
import { SECRET } from '../../../controller/kinds.ts'
import { ensureCredentials } from '../../../controller/steps/credentials.ts'
import { startWorld } from './fixtures.ts'

t.test('one token per server, kept in its Secret and owned by the server', async (t) => {
  const w = await startWorld(t)
  const signal = new AbortController().signal
  const first = await ensureCredentials(w.env.client, w.gameServer, signal)
  t.equal(first.next, 'continue')
  if (first.next !== 'continue') return
  t.match(first.value.token, /^[0-9a-f]{64}$/)
  const again = await ensureCredentials(w.env.client, w.gameServer, signal)
  t.same(again, first, 'a later reconcile gets the same token')
  const secret = (await w.env.client.get(SECRET, agentTokenSecretName('squid'), 'default')) as unknown as {
    data: Record<string, string>
    metadata: { ownerReferences: Array<{ uid: string }> }
  }
  t.equal(Buffer.from(secret.data.token!, 'base64').toString(), first.value.token)
  t.equal(secret.metadata.ownerReferences[0]?.uid, w.gameServer.metadata.uid, 'deleting the server deletes the Secret')
})
