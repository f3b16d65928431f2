// Writes the kubeconfig clients use: the server URL, the CA and a bearer token. Written durably and
// atomically (src/platform's durable write) with mode 0600, since it holds a credential.

import { mkdirSync } from 'node:fs'
import { writeFileDurableSync } from '../platform/durable-file.ts'
import { dirname } from 'node:path'
import { stringify } from 'yaml'

export interface KubeconfigParams {
  server: string
  caPem?: string
  token: string
  user?: string
  name?: string
}

export function kubeconfigYaml(p: KubeconfigParams): string {
  const name = p.name ?? 'zlh'
  const cluster: Record<string, unknown> = { server: p.server }
  if (p.caPem) cluster['certificate-authority-data'] = Buffer.from(p.caPem).toString('base64')
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name: p.user ?? 'admin', user: { token: p.token } }],
    contexts: [{ name, context: { cluster: name, user: p.user ?? 'admin', namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  })
}

export function writeKubeconfig(file: string, p: KubeconfigParams): void {
  mkdirSync(dirname(file), { recursive: true })
  writeFileDurableSync(file, kubeconfigYaml(p), 0o600)
}
