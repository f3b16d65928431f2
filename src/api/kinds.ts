// Our API group, its version and the kinds in it: the names every component uses to reach our
// resources. crds/ declares the same names (test/api/contracts.test.ts keeps the two equal).
// Writers: people, the portal and `zlh up` create the objects; the controller reconciles them;
// the gateway reads and writes servers and reads catalogs.

/** Our API group: crds/ declares it; every client (controller, gateway, `zlh`, kubectl) addresses our kinds by it; RBAC rules in manifests/ name it. */
export const GROUP = 'zerolaghub.dev'
/** The one served and stored version: crds/ declares it; every client reads and writes it. */
export const VERSION = 'v1alpha1'
/** `zerolaghub.dev/v1alpha1`, the apiVersion of every object of ours. */
export const API_VERSION = `${GROUP}/${VERSION}`

/** Which of our kinds: the shape of the runtime's KindRef, usable wherever one is wanted. */
export interface ZlhKindRef {
  readonly apiVersion: string
  readonly kind: ZlhKind
}
export type ZlhKind = 'GameServer' | 'DevServer' | 'RuntimeCatalog' | 'ContainerProvider'

/** A game server (namespaced): written by people and the portal, reconciled by the controller. */
export const GAMESERVER: ZlhKindRef = { apiVersion: API_VERSION, kind: 'GameServer' }
/** A developer container (namespaced): written by people and the portal, reconciled by the controller, routed by the gateway. */
export const DEVSERVER: ZlhKindRef = { apiVersion: API_VERSION, kind: 'DevServer' }
/** A runtime's versions (cluster-scoped): written by operators and `zlh up`, read by the controller and the gateway. */
export const RUNTIMECATALOG: ZlhKindRef = { apiVersion: API_VERSION, kind: 'RuntimeCatalog' }
/** A container backend (cluster-scoped): written by operators and `zlh up`, read by the controller. */
export const CONTAINERPROVIDER: ZlhKindRef = { apiVersion: API_VERSION, kind: 'ContainerProvider' }

/** The resource (plural) name of each kind, as URLs, RBAC rules (manifests/, the controller's refusal reports) and `kubectl get` spell it. */
export const PLURALS: Readonly<Record<ZlhKind, string>> = {
  GameServer: 'gameservers',
  DevServer: 'devservers',
  RuntimeCatalog: 'runtimecatalogs',
  ContainerProvider: 'containerproviders',
}
