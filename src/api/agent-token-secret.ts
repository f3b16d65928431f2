// The per-server agent-token Secret (docs/agent-token-delivery.md): the controller creates it
// (owned by the server, so it goes with it) and records the agent's URL in it; the gateway reads
// both to reach the agent for consoles and files. Manifests grant access to it by namespace
// (ClusterRole zlh-gateway-agent-tokens), not by name.

const SUFFIX = '-agent-token'
/** Longest Secret name (a DNS subdomain). */
const MAX_NAME = 253

/** `<server>-agent-token`; the server name is trimmed so the result stays a valid Secret name. Written by the controller, read by the gateway. */
export function agentTokenSecretName(serverName: string): string {
  return `${serverName.slice(0, MAX_NAME - SUFFIX.length)}${SUFFIX}`
}

/** Data key of the token (base64 like every Secret value): written by the controller, read by the controller and the gateway. */
export const AGENT_TOKEN_KEY = 'token'
/** Data key of the agent's base URL when it is not `http://<status.address>:7100`: written by the controller, read by the gateway. */
export const AGENT_URL_KEY = 'agentUrl'

/** What a usable token looks like: printable ASCII, no spaces, 16–512 characters. Anything else is treated as missing. */
export function isUsableAgentToken(token: string | undefined): token is string {
  return token !== undefined && /^[\x21-\x7e]{16,512}$/.test(token)
}
