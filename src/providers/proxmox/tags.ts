// How a CT carries its owner on Proxmox VE: tags (PVE's `pve-tag-list`, ';'-separated,
// `[a-z0-9_][a-z0-9_+.-]*`) hold `zlh` and `zlh-owner-<uid>`; the description holds the owning
// resource's kind/namespace/name for people and for observe. Tags are what list() and
// ownership checks trust; the description is informational.

import type { ContainerIdentity } from '../types.ts'

export const MANAGED_TAG = 'zlh'
const OWNER_PREFIX = 'zlh-owner-'

export function ownerTag(ownerUid: string): string {
  return `${OWNER_PREFIX}${ownerUid}`
}

export function tagsFor(ownerUid: string): string {
  return `${MANAGED_TAG};${ownerTag(ownerUid)}`
}

/** The owner uid in a PVE tag string ("a;b c,d" — PVE accepts ; , and space as separators). */
export function ownerFromTags(tags: string | undefined): string | undefined {
  for (const tag of (tags ?? '').split(/[;, ]+/)) {
    if (tag.startsWith(OWNER_PREFIX)) return tag.slice(OWNER_PREFIX.length)
  }
  return undefined
}

export function descriptionFor(identity: ContainerIdentity): string {
  return `zlh ${identity.kind} ${identity.namespace}/${identity.name} owner=${identity.ownerUid}`
}

export function identityFromDescription(description: string | undefined, ownerUid: string): ContainerIdentity | undefined {
  const match = /^zlh (GameServer|DevServer) ([a-z0-9-]+)\/([a-z0-9.-]+) owner=([a-z0-9-]+)\s*$/.exec(description ?? '')
  if (!match || match[4] !== ownerUid) return undefined
  return { kind: match[1] as ContainerIdentity['kind'], namespace: match[2]!, name: match[3]!, ownerUid }
}
