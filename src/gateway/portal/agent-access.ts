// Where a server's agent is and the token it accepts — resolved inside the control plane on each
// call and never handed to the caller (the token only goes into the Authorization header of the
// gateway's own request to the agent).
//
// Token: the per-server Secret the controller keeps (docs/agent-token-delivery.md:
// `<name>-agent-token`, key `token`; the name is configurable; src/api/agent-token-secret.ts).
// Agent URL, first that exists: the Secret's `agentUrl` key, the server's annotation
// `zerolaghub.dev/agent-url`, else `http://<status.address>:<agentPort>` (AGENT_PORT, 7100, the
// agent's port in lxc/proxmox containers).

import {
  AGENT_PORT,
  AGENT_TOKEN_KEY,
  AGENT_URL_ANNOTATION,
  AGENT_URL_KEY,
  agentTokenSecretName,
  isUsableAgentToken,
} from '../../api/index.ts'
import type { Client } from '../../runtime/index.ts'
import { ApiError, isNotFound } from '../../runtime/index.ts'
import { PortalError } from './api-reply.ts'
import { SECRET, type ServerKind } from './kinds.ts'
import { getServer } from './server-routes.ts'
import { translateApiError } from './server-writes.ts'
import type { SecretObject } from './system-secrets.ts'

export interface AgentEndpoint {
  baseUrl: string
  token: string
}

export interface AgentLocatorOptions {
  agentPort?: number
  /** Secret holding a server's agent token (default `<name>-agent-token`). */
  tokenSecretName?: (serverName: string) => string
}

export class AgentLocator {
  readonly #client: Client
  readonly #port: number
  readonly #secretName: (serverName: string) => string

  constructor(client: Client, opts: AgentLocatorOptions = {}) {
    this.#client = client
    this.#port = opts.agentPort ?? AGENT_PORT
    this.#secretName = opts.tokenSecretName ?? agentTokenSecretName
  }

  /**
   * The agent of server `namespace/name`; 404 when the server does not exist, 409 while it has no
   * agent yet. `namespace` null: a namespace the caller does not hold (tenancy.ts), answered
   * exactly like a server that does not exist, without asking the API.
   * A Secret the gateway may not read (no agent-token RoleBinding in that namespace) → 403
   * ZLH_GW_API_BACKEND_FORBIDDEN naming `get secrets` and the namespace.
   */
  async locate(kind: ServerKind, namespace: string | null, name: string): Promise<AgentEndpoint> {
    const server = namespace === null ? undefined : await getServer(this.#client, kind, namespace, name)
    if (!server || namespace === null) throw new PortalError('ZLH_GW_API_NOT_FOUND', `no ${kind} named "${name}"`)
    let secret: SecretObject | undefined
    try {
      secret = await this.#client.get<SecretObject>(SECRET, this.#secretName(name), namespace)
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 403) throw translateApiError(err)
      if (!isNotFound(err)) throw new PortalError('ZLH_GW_API_BACKEND', `reading the agent credentials of ${name} failed`)
    }
    const token = decode(secret?.data?.[AGENT_TOKEN_KEY])
    if (!isUsableAgentToken(token))
      throw new PortalError('ZLH_GW_API_NOT_READY', `${kind} "${name}" has no agent credentials yet (its container is still being created)`)
    const explicit = decode(secret?.data?.[AGENT_URL_KEY]) ?? server.metadata.annotations?.[AGENT_URL_ANNOTATION]
    let baseUrl: string
    if (explicit && /^https?:\/\/[^/?#\s]+\/?$/.test(explicit)) baseUrl = explicit.replace(/\/$/, '')
    else {
      const address = server.status?.address
      if (!address) throw new PortalError('ZLH_GW_API_NOT_READY', `${kind} "${name}" has no address yet`)
      const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address
      baseUrl = `http://${host}:${this.#port}`
    }
    return { baseUrl, token }
  }
}

function decode(b64: string | undefined): string | undefined {
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8')
}
