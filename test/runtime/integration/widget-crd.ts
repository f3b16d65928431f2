// A tiny namespaced CRD for framework tests (no ZeroLagHub kind: the framework is generic).
import type { KObject } from '../../../src/runtime/client/objects.ts'

export const WIDGET = { apiVersion: 'test.example.dev/v1', kind: 'Widget' }

export interface Widget extends KObject {
  spec: { size: number }
  status?: { seen?: number; conditions?: unknown[] }
}

export const widgetCrd: KObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.test.example.dev' },
  spec: {
    group: 'test.example.dev',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
}

/** A cluster-scoped kind, to own namespaced objects across namespaces. */
export const GIZMO = { apiVersion: 'test.example.dev/v1', kind: 'Gizmo' }

export const gizmoCrd: KObject = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gizmos.test.example.dev' },
  spec: {
    group: 'test.example.dev',
    scope: 'Cluster',
    names: { kind: 'Gizmo', plural: 'gizmos', singular: 'gizmo', listKind: 'GizmoList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
}
