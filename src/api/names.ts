// Finalizer, annotation and catalog names that cross a component boundary (written by one,
// read by another, or set by people on our objects).

/** Finalizer on GameServers and DevServers: the controller adds it and removes it once the container is gone. */
export const SERVER_FINALIZER = 'zerolaghub.dev/container'
/** Annotation prefix on a server, `rollout.zerolaghub.dev/<runtime>` = the version it may move to: written and read by the controller's rollout. */
export const ROLLOUT_ANNOTATION_PREFIX = 'rollout.zerolaghub.dev/'
/** Annotation on a RuntimeCatalog, set by operators: how many followers of a channel may update at once (default 1); read by the controller. */
export const MAX_UNAVAILABLE_ANNOTATION = 'zerolaghub.dev/max-unavailable'
/** Annotation on a server, set by people: the agent's base URL when the Secret does not record one; read by the gateway. */
export const AGENT_URL_ANNOTATION = 'zerolaghub.dev/agent-url'
/**
 * Annotation on a sleeping GameServer or DevServer: an RFC 3339 time; a value later than status.sleep.since
 * asks the controller to wake it. Written by the gateway (a player's login, a browser opening the IDE) or by
 * people (`kubectl annotate … zerolaghub.dev/wake-requested=$(date -u +%FT%TZ) --overwrite`).
 */
export const WAKE_REQUESTED_ANNOTATION = 'zerolaghub.dev/wake-requested'
/** Annotation on a DevServer: RFC 3339 time of the last IDE traffic the gateway saw; the controller's idle clock for spec.idle. */
export const LAST_ACTIVITY_ANNOTATION = 'zerolaghub.dev/last-activity'
/** The RuntimeCatalog supplying code-server (and the runtime name the agent installs it under): written by operators or `zlh up`, read by the controller and the agent. */
export const CODE_SERVER_RUNTIME = 'code-server'
/** The channel of that catalog DevServers follow: the controller resolves it. */
export const CODE_SERVER_CHANNEL = 'stable'

/** `rollout.zerolaghub.dev/<runtime>`. */
export function rolloutAnnotation(runtime: string): string {
  return `${ROLLOUT_ANNOTATION_PREFIX}${runtime}`
}
