// Asks a container's agent whether it is up: GET {agentUrl}/status with the container's bearer
// token. A provider's job for a container ends when this answers 200; the controller polls it
// after `start` (level-based: one probe per reconcile, or `waitForAgent` in tools and tests).

import { ProviderError } from './errors.ts'

export interface AgentProbeResult {
  ok: boolean
  /** HTTP status when the agent answered at all. */
  status?: number
  /** Parsed /status body when ok. */
  body?: unknown
  /** Why it is not ok (connection error or HTTP status), never containing the token. */
  reason?: string
}

export async function probeAgent(agentUrl: string, token: string, timeoutMs = 3000): Promise<AgentProbeResult> {
  try {
    const res = await fetch(new URL('/status', agentUrl), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!res.ok) {
      await res.body?.cancel()
      return { ok: false, status: res.status, reason: `agent answered HTTP ${res.status}` }
    }
    return { ok: true, status: res.status, body: await res.json() }
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    return { ok: false, reason: `agent unreachable: ${cause?.code ?? (err as Error).message}` }
  }
}

/** Polls probeAgent until it answers 200 or `timeoutMs` passes (then a retryable Timeout error). */
export async function waitForAgent(agentUrl: string, token: string, timeoutMs = 60_000): Promise<AgentProbeResult> {
  const deadline = Date.now() + timeoutMs
  let delay = 50
  let last: AgentProbeResult = { ok: false, reason: 'not probed yet' }
  while (Date.now() < deadline) {
    last = await probeAgent(agentUrl, token, Math.min(3000, Math.max(100, deadline - Date.now())))
    if (last.ok) return last
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 500)
  }
  throw new ProviderError(
    'Timeout',
    `agent at ${agentUrl} did not answer /status within ${timeoutMs} ms (${last.reason}); check the container's agent log`,
    {},
  )
}
