// The host name players connect to through the gateway's Minecraft router, `<name>.<namespace>.<suffix>`
// (and `<name>.<suffix>` for the namespace "default"): the gateway reads it from the handshake of every
// connection to route it (as mc-router does), and the portal shows it. The suffix is configuration
// (`--game-suffix`, default the IDE suffix).

export interface GameHostTarget {
  namespace: string
  name: string
}

/** `<name>.<namespace>.<suffix>` (no port). */
export function gameHostName(namespace: string, name: string, suffix: string): string {
  return `${name}.${namespace}.${suffix}`
}

/**
 * The GameServer a handshake's host name names, or undefined when it is not under the suffix or not of
 * the form `<name>[.<namespace>]`. Case-insensitive; a trailing dot and anything after a NUL (Forge's
 * `\0FML\0` marker) are ignored.
 */
export function parseGameHost(host: string, suffix: string): GameHostTarget | undefined {
  const clean = host.split('\0')[0]!.replace(/\.$/, '').toLowerCase()
  const tail = `.${suffix.toLowerCase()}`
  if (!clean.endsWith(tail)) return undefined
  const labels = clean.slice(0, -tail.length).split('.')
  const dns = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
  if (labels.length > 2 || !labels.every((l) => dns.test(l))) return undefined
  return labels.length === 2 ? { name: labels[0]!, namespace: labels[1]! } : { name: labels[0]!, namespace: 'default' }
}
