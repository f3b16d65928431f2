// The manager (runs controllers, caches, leader election, probes, metrics) and its parts.
export { Manager } from './manager.ts'
export type { ManagerOptions, Runnable } from './manager.ts'
export { LeaseElector, LEASE_KIND } from './leader-election.ts'
export type { ElectorCallbacks, LeaderElectionOptions, LeaseSpec } from './leader-election.ts'
export { ProbeServer } from './probes.ts'
export type { Check, ProbeServerOptions } from './probes.ts'
