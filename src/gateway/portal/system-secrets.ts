// The gateway's only durable state lives in Secrets of its system namespace: the signing key
// (the same on every replica, so a token minted by one is redeemed by another) and the hashed
// API tokens. This module creates what is missing.
//
// Guarantees: concurrent replicas starting at once agree on one key — the Secret is created with
// POST, and a replica that loses the race (409) reads the winner's key. The key never reaches a log.

import { randomBytes } from 'node:crypto'
import { isConflict, isNotFound, type Client, type KObject } from '../../runtime/index.ts'
import { GATEWAY_FIELD_MANAGER, NAMESPACE, SECRET } from './kinds.ts'

export interface SecretObject extends KObject {
  data?: Record<string, string>
  type?: string
}

export const DEFAULT_SYSTEM_NAMESPACE = 'zlh-system'
export const SIGNING_KEY_SECRET = 'zlh-gateway-signing-key'
const KEY_BYTES = 32

/** Creates the namespace when it does not exist (a real cluster may forbid it: then it must exist). */
export async function ensureNamespace(client: Client, name: string): Promise<void> {
  try {
    await client.get(NAMESPACE, name)
    return
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  try {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: GATEWAY_FIELD_MANAGER })
  } catch (err) {
    if (!isConflict(err)) throw err
  }
}

/** Creates a Secret holding `data` unless one of that name exists; returns the stored Secret. */
export async function getOrCreateSecret(
  client: Client,
  namespace: string,
  name: string,
  data: () => Record<string, string>,
): Promise<SecretObject> {
  try {
    return await client.get<SecretObject>(SECRET, name, namespace)
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  try {
    return await client.create<SecretObject>(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'zlh-gateway' } },
        data: data(),
      },
      { fieldManager: GATEWAY_FIELD_MANAGER },
    )
  } catch (err) {
    if (isConflict(err)) return await client.get<SecretObject>(SECRET, name, namespace)
    throw err
  }
}

/** The gateway's HMAC key from `<namespace>/<name>` (key `key`), created with 32 random bytes if absent. */
export async function loadSigningKey(client: Client, namespace: string, name = SIGNING_KEY_SECRET): Promise<Buffer> {
  await ensureNamespace(client, namespace)
  const secret = await getOrCreateSecret(client, namespace, name, () => ({ key: randomBytes(KEY_BYTES).toString('base64') }))
  const b64 = secret.data?.key
  // The Secret's `data` is base64 of the stored bytes; those bytes are the key itself.
  const key = b64 === undefined ? undefined : Buffer.from(b64, 'base64')
  if (!key || key.length < KEY_BYTES) {
    throw new Error(
      `Secret ${namespace}/${name} has no usable "key" (need ≥ ${KEY_BYTES} bytes): delete it to have a new one generated, or put 32 random bytes in it`,
    )
  }
  return key
}
