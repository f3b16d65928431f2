// Test helpers for the agent: an in-process agent on a random loopback port with its log lines
// captured, and a fetch wrapper that sends the bearer token.
import { Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { startAgent } from '../../agent/index.ts'
import type { RunningAgent, StartAgentOptions } from '../../agent/index.ts'
import { createAgentLogger } from '../../agent/log.ts'

export interface TestAgent extends RunningAgent {
  token: string
  logs: string[]
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>
}

export async function startTestAgent(root: string, opts: Partial<StartAgentOptions> = {}): Promise<TestAgent> {
  const token = randomBytes(24).toString('hex')
  const logs: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      cb()
    },
  })
  const logger = createAgentLogger({
    vmid: 'test-1',
    level: 'debug',
    destination: destination as unknown as NonNullable<Parameters<typeof createAgentLogger>[0]>['destination'],
  })
  const agent = await startAgent({ root, token, logger, ...opts })
  return {
    ...agent,
    token,
    logs,
    request(path, init = {}) {
      const headers = new Headers(init.headers)
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`)
      let body = init.body
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json')
        body = JSON.stringify(init.json)
      }
      return fetch(agent.url + path, { ...init, headers, body })
    },
  }
}
