// The hosted IDE's host name, `dev-<vmid>.<suffix>`: the controller writes it into DevServer
// `status.ide.host`/`url`, the gateway recognises it on every request to route by the vmid, and
// `zlh up` puts it in its certificate. The suffix is configuration (`--ide-suffix`).

/** What every IDE host name starts with, before the container's vmid. */
export const IDE_HOST_PREFIX = 'dev-'

/** `dev-<vmid>.<suffix>` (no port). */
export function ideHostName(vmid: number, suffix: string): string {
  return `${IDE_HOST_PREFIX}${vmid}.${suffix}`
}
