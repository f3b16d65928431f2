// Input checks at the providers' edge: owner uids become file names, tags and hostnames, so they
// are confined to a safe alphabet before any backend sees them.

import { ProviderError } from './errors.ts'
import type { ContainerRef, ContainerSpec } from './types.ts'

const OWNER_UID = /^[a-z0-9][a-z0-9-]{0,62}$/
const TOKEN = /^[\x21-\x7e]{16,512}$/

export function checkOwnerUid(ownerUid: string): void {
  if (!OWNER_UID.test(ownerUid)) {
    throw new ProviderError(
      'InvalidConfig',
      `owner uid ${JSON.stringify(ownerUid)} is not a Kubernetes uid (lowercase letters, digits, '-', at most 63)`,
      {},
    )
  }
}

export function checkRef(ref: ContainerRef): void {
  checkOwnerUid(ref.ownerUid)
  if (ref.vmid !== undefined && (!Number.isSafeInteger(ref.vmid) || ref.vmid < 1)) {
    throw new ProviderError('InvalidConfig', `vmid ${ref.vmid} is not a positive integer`, { ownerUid: ref.ownerUid })
  }
}

export function checkToken(token: string): void {
  // Printable ASCII without spaces: it travels in an HTTP header and a file, never a command line.
  if (!TOKEN.test(token))
    throw new ProviderError('InvalidConfig', 'agent token must be 16-512 printable ASCII characters without spaces', {})
}

export function checkSpec(spec: ContainerSpec): void {
  checkOwnerUid(spec.identity.ownerUid)
  checkToken(spec.agent.token)
  const { cores, memoryMiB, diskGiB } = spec.resources
  if (!(Number.isInteger(cores) && cores >= 1 && cores <= 512))
    throw new ProviderError('InvalidConfig', `resources.cores ${cores} must be an integer 1..512`, {})
  if (!(Number.isInteger(memoryMiB) && memoryMiB >= 16))
    throw new ProviderError('InvalidConfig', `resources.memoryMiB ${memoryMiB} must be an integer >= 16`, {})
  if (!(Number.isInteger(diskGiB) && diskGiB >= 1))
    throw new ProviderError('InvalidConfig', `resources.diskGiB ${diskGiB} must be an integer >= 1`, {})
}
