// Per-container agent tokens (docs/agent-token-delivery.md): 32 random bytes (hex) in a Secret
// `<server>-agent-token` (key `token`) owned by the server, so deleting the server deletes it
// (names and keys: src/api/agent-token-secret.ts, which the gateway reads by too).
// Guarantees: one token per server even with concurrent reconciles or a controller restart —
// the Secret is created with POST (409 when it exists, then read); the token never reaches a log.
import { randomBytes } from 'node:crypto'
import { ApiError, controllerReference, isNotFound, type Client, type KObject } from '../src/runtime/index.ts'
import { AGENT_TOKEN_KEY, AGENT_URL_KEY, agentTokenSecretName, isUsableAgentToken } from '../src/api/index.ts'
import { FIELD_MANAGER, SECRET } from './kinds.ts'

interface SecretObject extends KObject {
  data?: Record<string, string>
}

function tokenOf(secret: SecretObject): string | undefined {
  const b64 = secret.data?.[AGENT_TOKEN_KEY]
  if (b64 === undefined) return undefined
  const token = Buffer.from(b64, 'base64').toString('utf8')
  return isUsableAgentToken(token) ? token : undefined
}

export async function ensureAgentToken(client: Client, server: KObject, signal?: AbortSignal): Promise<string> {
  const namespace = server.metadata?.namespace as string
  const name = agentTokenSecretName(server.metadata?.name as string)
  try {
    const existing = await client.get<SecretObject>(SECRET, name, namespace, signal)
    const token = tokenOf(existing)
    if (token !== undefined) return token
    // A Secret without a usable token (edited by hand): replace its data, keep the object.
    const fresh = randomBytes(32).toString('hex')
    await client.replace(
      { ...existing, data: { ...existing.data, [AGENT_TOKEN_KEY]: Buffer.from(fresh).toString('base64') } },
      { fieldManager: FIELD_MANAGER, signal },
    )
    return fresh
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  const token = randomBytes(32).toString('hex')
  try {
    await client.create<SecretObject>(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name,
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'zlh-controller' },
          ownerReferences: [controllerReference(server)],
        },
        type: 'Opaque',
        data: { [AGENT_TOKEN_KEY]: Buffer.from(token).toString('base64') },
      },
      { fieldManager: FIELD_MANAGER, signal },
    )
    return token
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 409) {
      const existing = await client.get<SecretObject>(SECRET, name, namespace, signal)
      const t = tokenOf(existing)
      if (t !== undefined) return t
    }
    throw err
  }
}

/** The token if the Secret exists (delete path: never create one). */
export async function readAgentToken(client: Client, server: KObject, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return tokenOf(
      await client.get<SecretObject>(SECRET, agentTokenSecretName(server.metadata?.name as string), server.metadata?.namespace, signal),
    )
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
}

/**
 * Records the container's agent base URL in the same Secret (key `agentUrl`), so the gateway can
 * reach agents whose port is not the default (process provider: 127.0.0.1:<port per container>).
 * Written only when it changed; a missing Secret is left alone (ensureAgentToken creates it).
 */
export async function recordAgentUrl(client: Client, server: KObject, agentUrl: string, signal?: AbortSignal): Promise<void> {
  let secret: SecretObject
  try {
    secret = await client.get<SecretObject>(
      SECRET,
      agentTokenSecretName(server.metadata?.name as string),
      server.metadata?.namespace,
      signal,
    )
  } catch (err) {
    if (isNotFound(err)) return
    throw err
  }
  const encoded = Buffer.from(agentUrl).toString('base64')
  if (secret.data?.[AGENT_URL_KEY] === encoded) return
  // replace carries resourceVersion: a concurrent change is a 409 and the next reconcile retries.
  await client.replace({ ...secret, data: { ...secret.data, [AGENT_URL_KEY]: encoded } }, { fieldManager: FIELD_MANAGER, signal })
}
