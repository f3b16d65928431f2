// Channel rollouts: when a RuntimeCatalog channel moves (promotion, or back: rollback), the
// servers following it move to the new version one at a time (at most `maxUnavailable` in
// flight), each only after the previous ones are Ready on it; a failure halts the rollout.
// Pure planning: the catalog reconciler feeds it what it read and applies the admissions
// (annotation rollout.zerolaghub.dev/<runtime> = version on each admitted server).
//
// Guarantees: never admits more than maxUnavailable followers that are not yet Ready on the
// target; never admits anything while an admitted follower reports a failure (Halted); a
// follower without an installed version is not held (it installs the channel's version directly).

export interface Follower {
  key: string
  /** Version of this runtime current in the container (status.runtimes). */
  installed?: string
  /** Version the rollout last admitted it to (annotation). */
  admitted?: string
  /** Ready=True for the current generation. */
  ready: boolean
  /** Why it failed on the admitted version (install/verify failure, crash loop), if it did. */
  failure?: string
}

export interface RolloutPlan {
  admit: string[]
  state: 'Progressing' | 'Complete' | 'Halted'
  updated: number
  total: number
  message: string
}

export function planRollout(channel: string, target: string, followers: Follower[], maxUnavailable: number): RolloutPlan {
  const total = followers.length
  const done = (f: Follower): boolean => f.installed === target && f.ready
  const updated = followers.filter(done).length
  const inFlight = followers.filter((f) => f.installed !== undefined && f.admitted === target && !done(f))
  const failed = inFlight.filter((f) => f.failure !== undefined)
  if (failed.length > 0) {
    const f = failed[0] as Follower
    return {
      admit: [],
      state: 'Halted',
      updated,
      total,
      message: `${f.key} failed on ${target}: ${f.failure}. The rollout of channel ${channel} stopped; move the channel back to roll back, or fix the version`,
    }
  }
  // Already on the target and Ready: record the admission, costs no availability.
  const free = followers.filter((f) => done(f) && f.admitted !== target).map((f) => f.key)
  const pending = followers
    .filter((f) => f.installed !== undefined && f.admitted !== target && !done(f))
    .sort((a, b) => a.key.localeCompare(b.key))
  const slots = Math.max(0, Math.max(1, maxUnavailable) - inFlight.length)
  const admit = [...free, ...pending.slice(0, slots).map((f) => f.key)]
  if (updated === total) return { admit, state: 'Complete', updated, total, message: `${total} server(s) on ${target}` }
  const moving = [...inFlight.map((f) => f.key), ...pending.slice(0, slots).map((f) => f.key)]
  return {
    admit,
    state: 'Progressing',
    updated,
    total,
    message: `${updated}/${total} on ${target}${moving.length ? `; updating ${moving.join(', ')}` : '; waiting for new servers to become Ready'}`,
  }
}
