// Step 2, credentials: the server's agent token, kept in its Secret `<server>-agent-token`
// (agent-token.ts; created once, owned by the server). It comes before the container because a
// provider bakes the token into the container it creates; provision delivers it again each time.
// Guarantees: one token per server across concurrent reconciles and restarts; never logged.
// Errors: API errors are thrown (the framework retries with backoff).
import type { KObject, Client } from '../../src/runtime/index.ts'
import { ensureAgentToken } from '../agent-token.ts'
import { proceed, type StepOutcome } from './outcome.ts'

export async function ensureCredentials(client: Client, server: KObject, signal: AbortSignal): Promise<StepOutcome<{ token: string }>> {
  return proceed({ token: await ensureAgentToken(client, server, signal) })
}
