// Ages as kubectl shows them ("45s", "5m30s", "3h", "2d4h", "1y20d"): apimachinery's HumanDuration,
// which kube-apiserver uses for Age and date columns in the Tables it sends.

/** Human form of a duration in milliseconds; up to 2 s in the future counts as now (clock skew). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 60 * 2) return `${seconds}s`
  const minutes = Math.trunc(seconds / 60)
  if (minutes < 10) {
    const s = seconds % 60
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`
  }
  if (minutes < 60 * 3) return `${minutes}m`
  const hours = Math.trunc(minutes / 60)
  if (hours < 8) {
    const m = minutes % 60
    return m === 0 ? `${hours}h` : `${hours}h${m}m`
  }
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) {
    const h = hours % 24
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365
    const y = Math.trunc(hours / 24 / 365)
    return dy === 0 ? `${y}y` : `${y}y${dy}d`
  }
  return `${Math.trunc(hours / 24 / 365)}y`
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/**
 * A timestamp cell as kube-apiserver renders it: "" or null → "<unknown>", unparsable → "<invalid>",
 * otherwise the age relative to now.
 */
export function ageOf(timestamp: unknown, now: Date): string {
  if (timestamp === undefined || timestamp === null || timestamp === '' || timestamp === 'null') return '<unknown>'
  if (typeof timestamp !== 'string' || !RFC3339.test(timestamp)) return '<invalid>'
  const t = Date.parse(timestamp)
  if (Number.isNaN(t)) return '<invalid>'
  return humanDuration(now.getTime() - t)
}
