// Shared fixtures for the apply tests: the real GameServer schema and a small GameServer.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import type { JSONSchemaProps } from '../../../src/apiserver/schema/index.ts'

const crd = parse(readFileSync(new URL('../../../crds/gameservers.zerolaghub.dev.yaml', import.meta.url), 'utf8'))
export const gsSchema: JSONSchemaProps = crd.spec.versions[0].schema.openAPIV3Schema
export const AV = 'zerolaghub.dev/v1alpha1'
export const T0 = new Date('2026-01-01T00:00:00Z')
export const T1 = new Date('2026-01-01T00:01:00Z')

export function gameServer(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, any> {
  return { apiVersion: AV, kind: 'GameServer', metadata: { name: 'mc', namespace: 'default', ...metadata }, spec }
}

/** What the API server adds when it stores an object. */
export function stored(o: Record<string, any>): Record<string, any> {
  return { ...o, metadata: { uid: 'u-1', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', generation: 1, ...o.metadata } }
}
